//! Markdown: the action's step summary and `compare --markdown`.

use super::human::{fmt_delta, fmt_pct, title};
use super::message;
use crate::compare::{Comparison, Row};
use crate::domain::select::Found;
use crate::domain::units::human_bytes;
use crate::fetch::FetchReport;
use crate::outcome::{Compared, FetchResult, Outcome};
use crate::resolve::Baseline;

/// A value shown as code: it cannot close the code span, break a table row, or start a line.
fn code(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("`{}`", clean.replace('`', "'").replace('|', "\\|"))
}

/// A link target: an http(s) URL without anything that could end the link early.
fn link(url: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return String::new();
    }
    url.chars().filter(|c| !c.is_control() && !matches!(c, ' ' | '(' | ')' | '<' | '>' | '"' | '`')).collect()
}

/// Untrusted text shown as text: no links, images, HTML, emphasis or table breaks.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '(' | ')' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn head(f: &Found, b: Option<&Baseline>) -> String {
    let mut md = String::from("## TheRock artifacts\n\n");
    if let Some(b) = b {
        md.push_str(&format!("- Commit asked about: {}\n", code(&b.commit)));
        if let Some(p) = &b.therock_ref {
            md.push_str(&format!("- Pinned TheRock commit: {} ({})\n", code(p), code(&super::pin_source(b).unwrap_or_default())));
            if let Some(built) = b.therock_commit_built.as_deref().filter(|c| c != p) {
                md.push_str(&format!("- Its newest run built against TheRock {} instead\n", code(built)));
            }
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
        if let Some(n) = &f.note {
            md.push_str(&format!("\n{}\n", code(&short(n))));
        }
    }
    md
}

fn found(f: &Found, b: Option<&Baseline>) -> String {
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

fn fetched(f: &Found, b: Option<&Baseline>, r: &FetchReport) -> String {
    let mut md = head(f, b);
    md.push_str(&format!(
        "\nFetched {} archives in {:.1} s ({} downloaded).\n\n| archive | size | verified | cached |\n|---|---:|:-:|:-:|\n",
        r.archives.len(),
        r.elapsed_seconds,
        human_bytes(r.downloaded)
    ));
    let yes = |b: bool| if b { "yes" } else { "no" };
    for d in r.archives.iter().take(2000) {
        md.push_str(&format!("| {} | {} | {} | {} |\n", code(&d.filename), human_bytes(d.size), yes(d.verified), yes(d.cached)));
    }
    md.push('\n');
    md
}

fn table(rows: &[Row], title: &str, limit: usize) -> String {
    let mut out = format!("### {title}\n\n| name | from | to | delta | delta % | change |\n|---|---:|---:|---:|---:|---|\n");
    let opt = |v: Option<u64>| v.map(human_bytes).unwrap_or_else(|| "-".into());
    for r in rows.iter().take(limit) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            code(&r.name),
            opt(r.from),
            opt(r.to),
            fmt_delta(r.delta),
            fmt_pct(r.delta_percent),
            r.change
        ));
    }
    if rows.len() > limit {
        out.push_str(&format!("\n{} more rows not shown.\n", rows.len() - limit));
    }
    out.push('\n');
    out
}

pub fn comparison(c: &Comparison) -> String {
    let mut md = format!(
        "## TheRock artifact comparison {}\n\nTotal: {} -> {} ({})\n\n",
        title(c),
        human_bytes(c.total_from),
        human_bytes(c.total_to),
        fmt_delta(c.total_delta())
    );
    md.push_str(&table(&c.archives, "Archives", 200));
    md.push_str(&table(&c.totals_by_name, "Totals per artifact name", 200));
    if let Some(files) = &c.files {
        md.push_str(&table(files, "Files whose size changed most", c.top));
    }
    md
}

/// Untrusted text cut to a length a summary can carry.
fn short(s: &str) -> String {
    match s.char_indices().nth(600) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The step summary of a step that failed (the message shown as code: no links, no mentions).
pub fn error_summary(msg: &str) -> String {
    format!("## TheRock artifacts\n\n**Error:** {}\n", code(&short(msg)))
}

/// The step summary of an outcome.
pub fn summary(o: &Outcome) -> String {
    match o {
        Outcome::Found(f) => found(f, None),
        Outcome::Baseline(b) => found(&b.found, Some(b)),
        Outcome::Fetched { resolved, result } => match result {
            FetchResult::NotFound | FetchResult::DryRun { .. } => found(resolved.found(), resolved.baseline()),
            FetchResult::NothingSelected => String::new(),
            FetchResult::Done(r) => fetched(resolved.found(), resolved.baseline(), r),
        },
        Outcome::Compared(Compared::Done(c)) => comparison(c),
        Outcome::Bisected(b) => super::bisect::markdown(b, code, text),
        Outcome::Executed(_) => String::new(),
        Outcome::Compared(Compared::MissingSide { .. }) => format!("## TheRock artifact comparison\n\n{}\n", code(&short(&message(o).unwrap_or_default()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_values_cannot_escape_their_place_in_the_summary() {
        assert_eq!(code("a`b|c\nd"), "`a'b\\|c d`");
        assert_eq!(text("[x](http://e/) <img> *b*"), "\\[x\\]\\(http://e/\\) \\<img\\> \\*b\\*");
        assert_eq!(link("javascript:alert(1)"), "");
        assert_eq!(link("https://github.com/o/r/actions/runs/1) ![x](y"), "https://github.com/o/r/actions/runs/1![x]y");
    }
}
