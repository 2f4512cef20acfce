//! Report: typed outcomes rendered, once, as JSON (`json`), human text (`human`) or Markdown
//! (`markdown`: the step summary and `compare --markdown`), plus the one-line messages on stderr.

pub mod bisect;
pub mod cache;
pub mod human;
pub mod json;
pub mod markdown;

use crate::config::Subject;
use crate::domain::run::short_sha;
use crate::domain::select::Found;
use crate::domain::units::human_bytes;
use crate::fetch::FetchReport;
use crate::outcome::{Compared, FetchResult, Outcome};

fn not_found(f: &Found) -> String {
    let missing = f.missing_groups();
    match &f.note {
        Some(n) => format!("no artifacts found for {} ({n})", missing.join(", ")),
        None => {
            let what = match &f.commit {
                Some(c) => format!("commit {c} of {}", f.repo.full()),
                None => f.repo.full(),
            };
            format!("no artifacts found for group(s) {} at {what} (workflow {})", missing.join(", "), f.workflow)
        }
    }
}

fn side_name(s: &Subject) -> String {
    match s {
        Subject::Commit { sha, .. } => short_sha(sha).to_string(),
        Subject::RunId(id) => format!("run {id}"),
        Subject::Pr(n) => format!("PR #{n}"),
    }
}

/// Why nothing was found, in one sentence (stderr, `::error::`); `None` when something was.
pub fn message(o: &Outcome) -> Option<String> {
    if o.found() {
        return None;
    }
    Some(match o {
        Outcome::Fetched { result: FetchResult::NothingSelected, .. } => "the --include/--exclude filters selected no archive".into(),
        Outcome::Compared(Compared::MissingSide { side, subject, found }) => format!(
            "the '{side}' side ({}) has no artifacts for {}{}",
            side_name(subject),
            found.missing_groups().join(", "),
            found.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
        ),
        Outcome::Bisected(b) => b.note.clone().unwrap_or_else(|| "no answer".into()),
        Outcome::Executed(e) => e.note.clone().unwrap_or_default(),
        o => not_found(o.resolved()?),
    })
}

/// Where the pin was read, as `path:line`.
pub fn pin_source(b: &crate::resolve::Baseline) -> Option<String> {
    let path = b.pin_source.as_deref()?;
    Some(match b.pin_line {
        Some(l) => format!("{path}:{l}"),
        None => path.to_string(),
    })
}

/// The line a finished fetch ends with on stderr.
pub fn closing_line(r: &FetchReport) -> String {
    format!(
        "fetched {} archives into {}: {} downloaded, {} from cache, {} extracted, in {:.1} s",
        r.archives.len(),
        r.output_dir.display(),
        human_bytes(r.downloaded),
        human_bytes(r.from_cache),
        human_bytes(r.extracted),
        r.elapsed_seconds
    )
}
