//! Report: each command's outcome rendered as JSON (its `Serialize` records), human text, or
//! Markdown (the step summary, `--markdown`), through one trait, `Render`, implemented per
//! outcome: `found` and `baseline` here (with `human.rs` and `markdown.rs`), `fetch.rs`,
//! `compare.rs`, `bisect.rs` (and exec), `cache.rs`. Shared formatters are in `format.rs`.

pub mod bisect;
pub mod cache;
pub mod compare;
pub mod contains;
pub mod fetch;
pub mod format;
pub mod human;
pub mod json;
pub mod markdown;
pub mod plan;
pub mod release;
pub mod reuse;
pub mod stage;

use serde_json::Value;

use crate::commands::Conclusion;
use crate::config::Output;
use crate::domain::select::Found;
use crate::resolve::Baseline;

/// An outcome, rendered. `found()` and the other answers come from `Conclusion`.
pub trait Render: Conclusion {
    /// The one JSON document (`--json`, and the action's `results` output).
    fn json(&self, server_url: &str) -> Value;
    /// The text on stdout without `--json`.
    fn human(&self) -> String;
    /// Markdown: the action's step summary, `--markdown`.
    fn markdown(&self) -> String;
    /// Why nothing was found, in one sentence (stderr, `::error::`); `None` when something was.
    fn message(&self) -> Option<String> {
        None
    }
}

/// What a command prints on stdout, in the format chosen once in `Config`.
pub fn render(r: &dyn Render, output: Output, server_url: &str) -> String {
    match output {
        Output::Json => format!("{}\n", r.json(server_url)),
        Output::Human => r.human(),
        Output::Markdown => r.markdown(),
    }
}

fn not_found(f: &Found) -> String {
    let missing = f.missing_groups();
    if let Some(gap) = f.single_run_gap() {
        return gap;
    }
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

impl Render for Found {
    fn json(&self, server_url: &str) -> Value {
        json::value(&json::FoundDoc::new(self, server_url))
    }
    fn human(&self) -> String {
        human::found(self)
    }
    fn markdown(&self) -> String {
        markdown::found(self, None)
    }
    fn message(&self) -> Option<String> {
        (!self.found()).then(|| not_found(self))
    }
}

impl Render for Baseline {
    fn json(&self, server_url: &str) -> Value {
        json::value(&json::BaselineDoc::new(self, server_url))
    }
    fn human(&self) -> String {
        human::baseline(self)
    }
    fn markdown(&self) -> String {
        markdown::found(&self.found, Some(self))
    }
    fn message(&self) -> Option<String> {
        (!self.found.found()).then(|| not_found(&self.found))
    }
}

/// Where the pin was read, as `path:line`.
pub fn pin_source(b: &Baseline) -> Option<String> {
    let path = b.pin_source.as_deref()?;
    Some(match b.pin_line {
        Some(l) => format!("{path}:{l}"),
        None => path.to_string(),
    })
}
