//! `compare`, rendered: JSON, human text, Markdown (`--markdown`, the step summary). One table
//! model (the cells of a row) laid out two ways.

use serde::Serialize;
use serde_json::Value;

use super::format::{code, fmt_delta, fmt_pct, short};
use super::json::{self, ResultRecord, Status};
use super::Render;
use crate::commands::compare::{percent, Change, Compared, Comparison, Row, Side};
use crate::config::Subject;
use crate::domain::run::short_sha;
use crate::domain::select::Found;
use crate::domain::units::human_bytes;

pub fn title(c: &Comparison) -> String {
    let (fc, tc) = (c.from.commit.clone().unwrap_or_default(), c.to.commit.clone().unwrap_or_default());
    format!("{} -> {}", short_sha(&fc), short_sha(&tc))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Text,
    Markdown,
}

/// A row's cells: name, from, to, delta, delta %, change.
fn cells(r: &Row, syntax: Syntax) -> [String; 6] {
    let opt = |v: Option<u64>| v.map(human_bytes).unwrap_or_else(|| "-".into());
    let name = if syntax == Syntax::Markdown { code(&r.name) } else { r.name.clone() };
    [name, opt(r.from), opt(r.to), fmt_delta(r.delta), fmt_pct(r.delta_percent), r.change.to_string()]
}

fn table(rows: &[Row], title: &str, limit: usize, syntax: Syntax) -> String {
    let shown = rows.iter().take(limit).map(|r| cells(r, syntax));
    let more = rows.len().saturating_sub(limit);
    match syntax {
        Syntax::Text => {
            let w = rows.iter().take(limit).map(|r| r.name.len()).max().unwrap_or(4).max(4);
            let line = |c: &[&str; 6]| format!("  {:<w$}  {:>12}  {:>12}  {:>12}  {:>9}  {}\n", c[0], c[1], c[2], c[3], c[4], c[5]);
            let mut out = format!("{title}\n{}", line(&["name", "from", "to", "delta", "delta %", "change"]));
            for c in shown {
                out.push_str(&line(&[&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]]));
            }
            if more > 0 {
                out.push_str(&format!("  ... {more} more\n"));
            }
            out
        }
        Syntax::Markdown => {
            let mut out = format!("### {title}\n\n| name | from | to | delta | delta % | change |\n|---|---:|---:|---:|---:|---|\n");
            for c in shown {
                out.push_str(&format!("| {} |\n", c.join(" | ")));
            }
            if more > 0 {
                out.push_str(&format!("\n{more} more rows not shown.\n"));
            }
            out.push('\n');
            out
        }
    }
}

/// The rows a table shows (changed ones, or all with `--all`) and how many unchanged it hides.
fn shown_rows(rows: &[Row], all: bool) -> (Vec<Row>, Vec<Row>) {
    rows.iter().cloned().partition(|r| all || r.change != Change::Same)
}

/// A table of changed rows, then a line (text) or a folded table (Markdown) for the unchanged.
fn changed_table(rows: &[Row], title: &str, c: &Comparison, default_limit: usize, syntax: Syntax) -> String {
    let (shown, same) = shown_rows(rows, c.all);
    let limit = c.top_given.unwrap_or(default_limit);
    let mut out = table(&shown, title, limit, syntax);
    if same.is_empty() {
        return out;
    }
    match syntax {
        Syntax::Text => out.push_str(&format!("  {} unchanged not shown (--all shows them)\n", same.len())),
        Syntax::Markdown => {
            let inner = table(&same, "Unchanged", limit, syntax);
            let inner = inner.trim_start_matches("### Unchanged\n\n");
            out.push_str(&format!("<details><summary>{} unchanged</summary>\n\n{inner}</details>\n\n", same.len()));
        }
    }
    out
}

fn human(c: &Comparison) -> String {
    let mut out = format!(
        "Artifact sizes {} ({}): total {} -> {} ({})\n\n",
        title(c),
        c.platform,
        human_bytes(c.total_from),
        human_bytes(c.total_to),
        fmt_delta(c.total_delta())
    );
    out.push_str(&changed_table(&c.archives, "Archives (compressed):", c, usize::MAX, Syntax::Text));
    out.push('\n');
    out.push_str(&changed_table(&c.totals_by_name, "Totals per artifact name:", c, usize::MAX, Syntax::Text));
    if let Some(files) = &c.files {
        out.push('\n');
        out.push_str(&table(files, "Files whose size changed most (uncompressed):", c.top, Syntax::Text));
    }
    out
}

fn markdown(c: &Comparison) -> String {
    let mut md = format!(
        "## TheRock artifact comparison {}\n\nTotal: {} -> {} ({})\n\n",
        title(c),
        human_bytes(c.total_from),
        human_bytes(c.total_to),
        fmt_delta(c.total_delta())
    );
    md.push_str(&changed_table(&c.archives, "Archives", c, 200, Syntax::Markdown));
    md.push_str(&changed_table(&c.totals_by_name, "Totals per artifact name", c, 200, Syntax::Markdown));
    if let Some(files) = &c.files {
        md.push_str(&table(files, "Files whose size changed most", c.top, Syntax::Markdown));
    }
    md
}

#[derive(Serialize)]
struct SideDoc<'a> {
    commit: &'a str,
    run_ids: Vec<String>,
}

impl<'a> SideDoc<'a> {
    fn new(f: &'a Found) -> Self {
        let mut run_ids: Vec<String> = f.slots.iter().filter_map(|s| s.hit.as_ref()).map(|h| h.run.id.to_string()).collect();
        run_ids.dedup();
        SideDoc { commit: f.commit.as_deref().unwrap_or_default(), run_ids }
    }
}

#[derive(Serialize)]
struct Total {
    from: u64,
    to: u64,
    delta: i64,
    delta_percent: Option<f64>,
}

/// The `comparison` object (also the action's `comparison` output).
#[derive(Serialize)]
struct ComparisonDoc<'a> {
    from: SideDoc<'a>,
    to: SideDoc<'a>,
    platform: &'static str,
    archives: &'a [Row],
    totals_by_name: &'a [Row],
    total: Total,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<&'a [Row]>,
}

#[derive(Serialize)]
struct CompareDoc<'a> {
    status: Status,
    results: Vec<ResultRecord<'a>>,
    comparison: ComparisonDoc<'a>,
}

#[derive(Serialize)]
struct MissingSideDoc {
    status: Status,
    results: [(); 0],
    missing_side: Side,
    message: Option<String>,
}

fn side_name(s: &Subject) -> String {
    match s {
        Subject::Commit { sha, .. } => short_sha(sha).to_string(),
        Subject::RunId(id) => format!("run {id}"),
        Subject::Pr(n) => format!("PR #{n}"),
        Subject::Ref(name) => name.clone().unwrap_or_else(|| "the default branch".into()),
    }
}

impl Render for Compared {
    fn json(&self, server_url: &str) -> Value {
        match self {
            Compared::Done(c) => {
                let mut results = json::results(&c.from, server_url);
                results.extend(json::results(&c.to, server_url));
                let comparison = ComparisonDoc {
                    from: SideDoc::new(&c.from),
                    to: SideDoc::new(&c.to),
                    platform: c.platform.as_str(),
                    archives: &c.archives,
                    totals_by_name: &c.totals_by_name,
                    total: Total { from: c.total_from, to: c.total_to, delta: c.total_delta(), delta_percent: percent(c.total_delta(), c.total_from) },
                    files: c.files.as_deref(),
                };
                json::value(&CompareDoc { status: Status::Found, results, comparison })
            }
            Compared::MissingSide { side, .. } => {
                json::value(&MissingSideDoc { status: Status::NotFound, results: [], missing_side: *side, message: self.message() })
            }
        }
    }

    fn human(&self) -> String {
        match self {
            Compared::Done(c) => human(c),
            Compared::MissingSide { .. } => String::new(),
        }
    }

    fn markdown(&self) -> String {
        match self {
            Compared::Done(c) => markdown(c),
            Compared::MissingSide { .. } => format!("## TheRock artifact comparison\n\n{}\n", code(&short(&self.message().unwrap_or_default()))),
        }
    }

    fn message(&self) -> Option<String> {
        let Compared::MissingSide { side, subject, found } = self else { return None };
        Some(format!(
            "the '{side}' side ({}) has no artifacts for {}{}",
            side_name(subject),
            found.missing_groups().join(", "),
            found.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
        ))
    }
}
