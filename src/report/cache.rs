//! `cache info`, `cache prune`, `cache clear`, rendered.

use serde::Serialize;
use serde_json::Value;

use super::json::{self, Status};
use super::Render;
use crate::commands::cache::Cached;
use crate::domain::time::rfc3339;
use crate::domain::units::human_bytes;
use crate::fetch::cache::{Entry, Pruned, Stats};

#[derive(Serialize)]
struct StatsDoc {
    status: Status,
    cache_dir: String,
    size_bytes: u64,
    entries: usize,
    oldest_use: Option<i64>,
    newest_use: Option<i64>,
    /// The same times as RFC 3339 (UTC).
    oldest_use_at: Option<String>,
    newest_use_at: Option<String>,
    partials: usize,
}

#[derive(Serialize)]
struct EntryDoc<'a> {
    sha256: &'a str,
    size: u64,
    last_use: i64,
    last_use_at: Option<String>,
    /// The archive filenames the cache's references give it (empty for older references).
    archives: &'a [String],
}

#[derive(Serialize)]
struct PrunedDoc<'a> {
    status: Status,
    dry_run: bool,
    removed: Vec<EntryDoc<'a>>,
    in_use: Vec<EntryDoc<'a>>,
    size_before_bytes: u64,
    size_after_bytes: u64,
}

fn stats_json(s: &Stats) -> Value {
    json::value(&StatsDoc {
        status: Status::Found,
        cache_dir: s.dir.display().to_string(),
        size_bytes: s.size,
        entries: s.entries,
        oldest_use: s.oldest_use,
        newest_use: s.newest_use,
        oldest_use_at: s.oldest_use.and_then(rfc3339),
        newest_use_at: s.newest_use.and_then(rfc3339),
        partials: s.partials,
    })
}

fn ago(t: Option<i64>) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    match t {
        None => "-".into(),
        Some(t) if now - t < 7200 => format!("{} min ago", (now - t).max(0) / 60),
        Some(t) if now - t < 3 * 86400 => format!("{} h ago", (now - t) / 3600),
        Some(t) => format!("{} days ago", (now - t) / 86400),
    }
}

fn stats_text(s: &Stats) -> String {
    format!(
        "Cache {}\n  size:     {}\n  archives: {}\n  used:     oldest {}, newest {}\n  partial downloads: {}\n",
        s.dir.display(),
        human_bytes(s.size),
        s.entries,
        ago(s.oldest_use),
        ago(s.newest_use),
        s.partials
    )
}

fn entries(v: &[Entry]) -> Vec<EntryDoc<'_>> {
    v.iter().map(|e| EntryDoc { sha256: &e.digest, size: e.size, last_use: e.used, last_use_at: rfc3339(e.used), archives: &e.names }).collect()
}

fn pruned_json(p: &Pruned) -> Value {
    json::value(&PrunedDoc {
        status: Status::Found,
        dry_run: p.dry_run,
        removed: entries(&p.removed),
        in_use: entries(&p.in_use),
        size_before_bytes: p.size_before,
        size_after_bytes: p.size_after,
    })
}

fn pruned_text(p: &Pruned) -> String {
    let verb = if p.dry_run { "would remove" } else { "removed" };
    let mut out = format!(
        "{verb} {} archives ({}); the cache {} {}\n",
        p.removed.len(),
        human_bytes(p.size_before - p.size_after),
        if p.dry_run { "would hold" } else { "holds" },
        human_bytes(p.size_after)
    );
    out.push_str(&named(&p.removed));
    if !p.in_use.is_empty() {
        out.push_str(&format!("kept {} archives another fetch is using\n", p.in_use.len()));
    }
    out
}

/// One line per entry: its archive names (or, for a reference older than names, its digest),
/// size and last use.
fn named(v: &[Entry]) -> String {
    v.iter()
        .map(|e| {
            // The blob's digest always: several names can share one blob, and older references
            // name none.
            let what = if e.names.is_empty() { format!("sha256:{}", e.digest) } else { format!("{} (sha256:{})", e.names.join(", "), e.digest) };
            format!("  {what} ({}, used {})\n", human_bytes(e.size), ago(Some(e.used)))
        })
        .collect()
}

impl Render for Cached {
    fn json(&self, _server_url: &str) -> Value {
        match self {
            Cached::Stats(s) => stats_json(s),
            Cached::Pruned(p) => pruned_json(p),
        }
    }

    fn human(&self) -> String {
        match self {
            Cached::Stats(s) => stats_text(s),
            Cached::Pruned(p) => pruned_text(p),
        }
    }

    fn markdown(&self) -> String {
        self.human()
    }
}
