//! Markdown (the action's step summary) for what resolved a commit: `find`, `latest`,
//! `baseline`, and the head of `fetch`.

use super::format::{code, link, short, text};
use crate::domain::select::Found;
use crate::domain::units::human_bytes;
use crate::resolve::Baseline;

pub fn head(f: &Found, b: Option<&Baseline>) -> String {
    let mut md = String::from("## TheRock artifacts\n\n");
    if let Some(b) = b {
        md.push_str(&format!("- Commit asked about: {}\n", code(&b.commit)));
        if let Some(p) = &b.therock_ref {
            md.push_str(&format!("- Pinned TheRock commit: {} ({})\n", code(p), code(&super::pin_source(b).unwrap_or_default())));
            if let Some(built) = b.therock_commit_built.as_deref().filter(|c| c != p) {
                md.push_str(&format!("- Its newest run built against TheRock {} instead\n", code(built)));
            }
        }
        for r in b.looked_at.iter().take(50) {
            md.push_str(&format!("- Rejected {} (distance {}): {}\n", code(crate::domain::run::short_sha(&r.commit)), r.distance, text(&r.reason())));
        }
        if f.found() {
            md.push_str(&format!(
                "- Baseline: {} in {} (reason **{}**, distance {})\n",
                code(f.commit.as_deref().unwrap_or("")),
                text(&f.repo.full()),
                b.reason.map_or("", |r| r.as_str()),
                b.distance.unwrap_or(0)
            ));
        }
    } else if let Some(c) = &f.commit {
        md.push_str(&format!("- Commit: {} in {}\n", code(c), text(&f.repo.full())));
    }
    for s in &f.slots {
        match &s.hit {
            Some(h) => md.push_str(&format!(
                "- {}: run [{}]({}) ({}), {}\n",
                code(&s.group.name),
                h.run.id,
                link(h.run.html_url.as_deref().unwrap_or_default()),
                text(&h.run.status_text()),
                code(&h.location.s3_uri())
            )),
            None => md.push_str(&format!("- {}: **not found**\n", code(&s.group.name))),
        }
    }
    if !f.found() {
        if let Some(n) = f.note.clone().or_else(|| f.single_run_gap()) {
            md.push_str(&format!("\n{}\n", code(&short(&n))));
        }
    }
    md
}

pub fn found(f: &Found, b: Option<&Baseline>) -> String {
    let mut md = head(f, b);
    let mut rows: Vec<(String, u64)> = Vec::new();
    for h in f.slots.iter().filter_map(|s| s.hit.as_ref()) {
        for (a, size) in &h.archives {
            if !rows.iter().any(|(n, _)| n == &a.filename) {
                rows.push((a.filename.clone(), *size));
            }
        }
    }
    if !rows.is_empty() {
        md.push_str("\n| archive | size |\n|---|---:|\n");
        for (n, s) in rows.iter().take(2000) {
            md.push_str(&format!("| {} | {} |\n", code(n), human_bytes(*s)));
        }
    }
    md.push('\n');
    md
}

/// The step summary of a step that failed (the message shown as code: no links, no mentions).
pub fn error_summary(msg: &str) -> String {
    format!("## TheRock artifacts\n\n**Error:** {}\n", code(&short(msg)))
}
