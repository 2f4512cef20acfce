//! `cache info`, `cache prune`, `cache clear`, rendered.

use serde_json::{json, Value};

use crate::domain::units::human_bytes;
use crate::fetch::cache::{Pruned, Stats};

fn when(t: Option<i64>) -> Value {
    json!(t)
}

pub fn stats_json(s: &Stats) -> Value {
    json!({"status": "found", "cache_dir": s.dir.display().to_string(), "size_bytes": s.size, "entries": s.entries,
           "oldest_use": when(s.oldest_use), "newest_use": when(s.newest_use), "partials": s.partials})
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

pub fn stats_text(s: &Stats) -> String {
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

pub fn pruned_json(p: &Pruned) -> Value {
    let list = |v: &[crate::fetch::cache::Entry]| v.iter().map(|e| json!({"sha256": e.digest, "size": e.size, "last_use": e.used})).collect::<Vec<_>>();
    json!({"status": "found", "dry_run": p.dry_run, "removed": list(&p.removed), "in_use": list(&p.in_use),
           "size_before_bytes": p.size_before, "size_after_bytes": p.size_after})
}

pub fn pruned_text(p: &Pruned) -> String {
    let verb = if p.dry_run { "would remove" } else { "removed" };
    let mut out = format!(
        "{verb} {} archives ({}); the cache {} {}\n",
        p.removed.len(),
        human_bytes(p.size_before - p.size_after),
        if p.dry_run { "would hold" } else { "holds" },
        human_bytes(p.size_after)
    );
    if !p.in_use.is_empty() {
        out.push_str(&format!("kept {} archives another fetch is using\n", p.in_use.len()));
    }
    out
}
