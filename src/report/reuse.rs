//! `reuse`, rendered: the plan as JSON (interface.md's `reuse` paragraph), as text with a
//! reason per stage, and as a Markdown table for the step summary.

use serde::Serialize;
use serde_json::Value;

use super::format::{code, text};
use super::json::{self, ResultRecord, Status};
use super::Render;
use crate::commands::reuse::Reused;
use crate::commands::Conclusion;
use crate::domain::run::short_sha;
use crate::domain::stage_impact::Cause;
use crate::domain::stage_reuse::prebuilt_stages;

#[derive(Serialize)]
struct ReuseDoc<'a> {
    status: Status,
    commit: &'a str,
    baseline_commit: Option<&'a str>,
    baseline_run_id: Option<String>,
    therock_commit: Option<&'a str>,
    platform: &'static str,
    changed_inputs: &'a [String],
    rebuild_stages: Vec<String>,
    reuse_stages: &'a [String],
    prebuilt_stages: String,
    full_rebuild_required: bool,
    reasons: Vec<String>,
    unmatched_inputs: &'a [String],
    artifacts: Vec<String>,
    missing_artifacts: &'a [String],
    results: Vec<ResultRecord<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// An input changed, with its note: `rocm-libraries changed (submodule bump since 1a2b3c4)`.
fn changed(r: &Reused, i: &str) -> String {
    match r.notes.get(i) {
        Some(n) => format!("{i} changed ({n})"),
        None => format!("{i} changed"),
    }
}

/// Why `stage` is rebuilt or reused, in words.
pub fn why(r: &Reused, stage: &str) -> String {
    let cause = r.plan.as_ref().and_then(|p| p.causes.get(stage)).or_else(|| r.impact.as_ref().and_then(|i| i.causes.get(stage)));
    match cause {
        Some(Cause::Changed { input: i, .. }) => changed(r, i),
        Some(Cause::Consumes { artifact, from }) => format!("it consumes {artifact}, which {from} rebuilds"),
        Some(Cause::Unavailable { missing }) => format!("the baseline run lacks {}", missing.join(", ")),
        Some(Cause::Full) => "a full rebuild".to_string(),
        None => "nothing it builds from changed".to_string(),
    }
}

/// One sentence per stage (a full rebuild: its triggers), then the reason nothing is reused.
pub fn reasons(r: &Reused) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(i) = &r.impact {
        if i.full_rebuild_required {
            out.extend(i.reasons.iter().map(|x| format!("every stage rebuilds: {x}")));
        } else {
            out.extend(r.rebuild_stages().iter().map(|s| format!("{s} rebuilds: {}", why(r, s))));
            out.extend(r.reuse_stages().iter().map(|s| format!("{s} is reused: {}", why(r, s))));
        }
    }
    out.extend(r.no_reuse.clone());
    out
}

impl Render for Reused {
    fn json(&self, server_url: &str) -> Value {
        let b = &self.baseline;
        let plan = self.plan.as_ref();
        json::value(&ReuseDoc {
            status: Status::of(self.found()),
            commit: &b.commit,
            baseline_commit: b.found.commit.as_deref().filter(|_| b.found.found()),
            baseline_run_id: self.baseline_run_id().map(|id| id.to_string()),
            therock_commit: self.therock_commit.as_deref(),
            platform: self.platform,
            changed_inputs: &self.changed_inputs,
            rebuild_stages: self.rebuild_stages(),
            reuse_stages: self.reuse_stages(),
            prebuilt_stages: prebuilt_stages(self.reuse_stages()),
            full_rebuild_required: self.impact.as_ref().is_none_or(|i| i.full_rebuild_required),
            reasons: reasons(self),
            unmatched_inputs: self.impact.as_ref().map(|i| i.unmatched_inputs.as_slice()).unwrap_or_default(),
            artifacts: self.artifact_names(),
            missing_artifacts: plan.map(|p| p.missing_artifacts.as_slice()).unwrap_or_default(),
            results: json::results(&b.found, server_url),
            message: self.no_reuse.as_deref(),
        })
    }

    fn human(&self) -> String {
        let b = &self.baseline;
        let mut s = String::new();
        match (b.found.commit.as_deref(), self.baseline_run_id()) {
            (Some(c), Some(id)) => s += &format!("commit {}: baseline {} (run {id}), {}\n", short_sha(&b.commit), short_sha(c), self.platform),
            _ => s += &format!("commit {}: no baseline run\n", short_sha(&b.commit)),
        }
        for line in reasons(self) {
            s += &format!("  {line}\n");
        }
        if !self.reuse_stages().is_empty() {
            s += &format!("prebuilt stages: {}\n", prebuilt_stages(self.reuse_stages()));
            s += &format!("{} archives to fetch from the baseline run (fetch --reuse)\n", self.artifact_names().len());
        }
        if let Some(p) = self.plan.as_ref().filter(|p| !p.missing_artifacts.is_empty()) {
            s += &format!("missing from the baseline run: {}\n", p.missing_artifacts.join(", "));
        }
        s
    }

    fn markdown(&self) -> String {
        let mut md = format!("### Stage reuse for {}\n\n", code(short_sha(&self.baseline.commit)));
        if let (Some(c), Some(id)) = (self.baseline.found.commit.as_deref(), self.baseline_run_id()) {
            md += &format!("Baseline {} (run {id}), platform {}.\n\n", code(short_sha(c)), self.platform);
        }
        if let Some(n) = &self.no_reuse {
            md += &format!("{}\n\n", text(n));
        }
        if self.impact.as_ref().is_some_and(|i| i.full_rebuild_required) {
            for r in reasons(self) {
                md += &format!("- {}\n", text(&r));
            }
            return md;
        }
        if self.plan.is_some() {
            md += "| stage | plan | why |\n|---|---|---|\n";
            for st in self.rebuild_stages() {
                md += &format!("| {} | rebuild | {} |\n", code(&st), text(&why(self, &st)));
            }
            for st in self.reuse_stages() {
                md += &format!("| {} | reuse | {} |\n", code(st), text(&why(self, st)));
            }
        }
        md
    }

    fn message(&self) -> Option<String> {
        if self.found() {
            return None;
        }
        Some(self.no_reuse.clone().unwrap_or_else(|| "every stage must be rebuilt: nothing can be reused from a baseline run".to_string()))
    }
}
