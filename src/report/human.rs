//! The human text on stdout for what resolved a commit (`find`, `latest`, `baseline`, and the
//! head of `fetch`).

use crate::domain::run::short_sha;
use crate::domain::select::{Found, Hit};
use crate::domain::units::human_bytes;
use crate::resolve::Baseline;

pub fn found(f: &Found) -> String {
    let mut out = String::new();
    for s in &f.slots {
        match (&s.hit, &s.partial) {
            (Some(h), _) => out.push_str(&hit(h)),
            (None, Some(p)) if p.complete() => {
                out.push_str(&format!("{}: rejected: run {} holds it, but not every requested group (--require-single-run)\n", s.group.name, p.run.id));
            }
            (None, Some(p)) => {
                out.push_str(&hit(p));
                out.push_str(&format!("  MISSING required artifacts: {}\n", p.missing.join(", ")));
            }
            (None, None) => out.push_str(&format!("{}: not found\n", s.group.name)),
        }
        out.push('\n');
    }
    out
}

fn hit(h: &Hit) -> String {
    let total: u64 = h.archives.iter().map(|(_, s)| s).sum();
    format!(
        "Artifact group {group}\n  Repository:   {repo}\n  Commit:       {sha}\n  Platform:     {platform}\n  Run:          {id} {status}\n  Run URL:      {url}\n  S3:           {uri}\n  Index:        {index}\n  Archives:     {n} ({size})\n",
        group = h.group.name,
        repo = h.repo.full(),
        sha = h.run.head_sha,
        platform = h.location.platform,
        id = h.run.id,
        status = h.run.status_text(),
        url = h.run.html_url.clone().unwrap_or_default(),
        uri = h.location.s3_uri(),
        index = h.location.index_url(),
        n = h.archives.len(),
        size = human_bytes(total),
    )
}

fn hint_run(h: &crate::domain::workflows::HintVerdict) -> String {
    use crate::domain::workflows::HintVerdict as H;
    match h {
        H::Matches { run_id } => format!("{run_id} built the pin"),
        H::Differs { run_id, run_commit } => format!("{run_id} built {}", short_sha(run_commit)),
        H::Unknown { run_id, why } => format!("{run_id} ({why})"),
    }
}

pub fn baseline(b: &Baseline) -> String {
    let mut out = substitution(b);
    if b.found.found() {
        out.push('\n');
        out.push_str(&found(&b.found));
    }
    out
}

/// Why the baseline stands in for the commit asked about: the pin or merge-base, the commits
/// rejected on the way, and the baseline with its reason and distance (`baseline`, and `fetch
/// --baseline` before it downloads).
pub fn substitution(b: &Baseline) -> String {
    let mut out = String::new();
    if let Some(pin) = &b.therock_ref {
        out.push_str(&format!("{} pins {} {} (from {})\n", short_sha(&b.commit), b.found.repo.full(), pin, super::pin_source(b).unwrap_or_else(|| "?".into())));
        if let Some(t) = &b.resolved_by_time {
            out.push_str(&format!("  resolved by time: {} {} at {}\n", b.found.repo.full(), t.branch, t.basis.what()));
        }
        if let Some(h) = &b.hint {
            out.push_str(&format!("  ci-env's baseline-run-id {}: {}\n", hint_run(h), h.as_str()));
        }
        if let Some(built) = b.therock_commit_built.as_deref().filter(|c| *c != pin) {
            out.push_str(&format!("  but its newest run built against TheRock {built}\n"));
        }
    }
    if let Some(mb) = &b.merge_base {
        out.push_str(&format!("Merge-base of {} with the base branch: {}\n", short_sha(&b.commit), mb));
    }
    for r in &b.looked_at {
        out.push_str(&format!("  rejected {} (distance {}): {}\n", short_sha(&r.commit), r.distance, r.reason()));
    }
    if b.found.found() {
        out.push_str(&format!(
            "Baseline for {}: {} {} (reason: {}, distance: {})\n",
            short_sha(&b.commit),
            b.found.repo.full(),
            b.found.commit.as_deref().unwrap_or("?"),
            b.reason.map_or("?", |r| r.as_str()),
            b.distance.unwrap_or(0)
        ));
    }
    out
}
