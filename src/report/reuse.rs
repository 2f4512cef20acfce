//! `reuse`, rendered: the plan as JSON (interface.md's `reuse` paragraph; the top-level keys
//! are the decision over every platform where they are about stages, else the first
//! platform's, and `platforms` holds each platform's own plan), as text with a reason per
//! stage, and as a Markdown table for the step summary.

use serde::Serialize;
use serde_json::Value;

use super::format::{code, text};
use super::json::{self, ResultRecord, Status};
use super::Render;
use crate::commands::reuse::{PlatformPlan, Reused};
use crate::commands::Conclusion;
use crate::domain::run::short_sha;
use crate::domain::stage_impact::Cause;
use crate::domain::stage_reuse::{prebuilt_stages, ReusePlan};

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
    platforms: Vec<PlatformDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// One platform's own plan (what it alone could reuse), and the archives its build fetches
/// under the decision over every platform.
#[derive(Serialize)]
struct PlatformDoc<'a> {
    platform: &'static str,
    status: Status,
    baseline_commit: Option<&'a str>,
    baseline_run_id: Option<String>,
    therock_commit: Option<&'a str>,
    changed_inputs: &'a [String],
    rebuild_stages: Vec<String>,
    reuse_stages: &'a [String],
    full_rebuild_required: bool,
    reasons: Vec<String>,
    unmatched_inputs: &'a [String],
    artifacts: Vec<String>,
    missing_artifacts: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

fn platform_doc(p: &PlatformPlan) -> PlatformDoc<'_> {
    let b = &p.baseline;
    PlatformDoc {
        platform: p.platform,
        status: Status::of(!p.reuse_stages().is_empty()),
        baseline_commit: b.found.commit.as_deref().filter(|_| b.found.found()),
        baseline_run_id: p.baseline_run_id().map(|id| id.to_string()),
        therock_commit: p.therock_commit.as_deref(),
        changed_inputs: &p.changed_inputs,
        rebuild_stages: p.rebuild_stages(),
        reuse_stages: p.reuse_stages(),
        full_rebuild_required: full(p),
        reasons: reasons(p),
        unmatched_inputs: p.impact.as_ref().map(|i| i.unmatched_inputs.as_slice()).unwrap_or_default(),
        artifacts: p.artifacts(),
        missing_artifacts: p.plan.as_ref().map(|p| p.missing_artifacts.as_slice()).unwrap_or_default(),
        message: p.no_reuse.as_deref(),
    }
}

fn full(p: &PlatformPlan) -> bool {
    p.impact.as_ref().is_none_or(|i| i.full_rebuild_required)
}

/// An input changed, with its note: `rocm-libraries changed (submodule bump since 1a2b3c4)`.
fn changed(r: &PlatformPlan, i: &str) -> String {
    match r.notes.get(i) {
        Some(n) => format!("{i} changed ({n})"),
        None => format!("{i} changed"),
    }
}

/// Why `stage` is rebuilt or reused in `plan` (one of `r`'s), in words.
fn why_in(r: &PlatformPlan, plan: Option<&ReusePlan>, stage: &str) -> String {
    let cause = plan.and_then(|p| p.causes.get(stage)).or_else(|| r.impact.as_ref().and_then(|i| i.causes.get(stage)));
    match cause {
        Some(Cause::Changed { input: i, .. }) => changed(r, i),
        Some(Cause::Consumes { artifact, from }) => format!("it consumes {artifact}, which {from} rebuilds"),
        Some(Cause::Unavailable { missing }) => format!("the baseline run lacks {}", missing.join(", ")),
        Some(Cause::Full) => "a full rebuild".to_string(),
        Some(Cause::Elsewhere { platforms }) => format!("{} rebuilds it", platforms.join(" and ")),
        None => "nothing it builds from changed".to_string(),
    }
}

/// Why `stage` is rebuilt or reused on this platform alone.
pub fn why(r: &PlatformPlan, stage: &str) -> String {
    why_in(r, r.plan.as_ref(), stage)
}

/// Why the decision rebuilds or reuses `stage`: one platform's words, or each platform's
/// own reason where they differ (a platform that rebuilds it only for the others says so).
pub fn why_all(r: &Reused, stage: &str) -> String {
    if let [one] = r.platforms.as_slice() {
        return why_in(one, one.settled.as_ref(), stage);
    }
    let mut own: Vec<(&str, String)> = Vec::new();
    let mut alone = Vec::new();
    for p in &r.platforms {
        match p.settled.as_ref().and_then(|s| s.causes.get(stage)) {
            Some(Cause::Elsewhere { .. }) => alone.push(p.platform),
            _ => own.push((p.platform, why_in(p, p.settled.as_ref(), stage))),
        }
    }
    let mut s = match own.as_slice() {
        [] => "nothing it builds from changed".to_string(),
        [(_, w), rest @ ..] if alone.is_empty() && rest.iter().all(|(_, x)| x == w) => w.clone(),
        _ => own.iter().map(|(p, w)| format!("on {p}, {w}")).collect::<Vec<_>>().join("; "),
    };
    if !alone.is_empty() {
        s += &format!(" ({} alone could reuse it: a stage is reused only where every platform reuses it)", alone.join(" and "));
    }
    s
}

/// One platform's own sentences: one per stage (a full rebuild: its triggers), then the
/// reason nothing is reused.
pub fn reasons(r: &PlatformPlan) -> Vec<String> {
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

/// The decision's sentences: a single platform's own; over several, why nothing is reused
/// (different baseline runs), each platform's full-rebuild triggers, else one per stage.
pub fn reasons_all(r: &Reused) -> Vec<String> {
    if let [one] = r.platforms.as_slice() {
        return reasons(one);
    }
    if let Some(b) = &r.decision.blocked {
        let mut out = vec![format!("every stage rebuilds: {b}")];
        out.extend(r.platforms.iter().filter_map(|p| p.no_reuse.as_ref().map(|n| format!("{}: {n}", p.platform))));
        return out;
    }
    let fulls: Vec<String> = r
        .platforms
        .iter()
        .flat_map(|p| {
            p.impact.iter().filter(|i| i.full_rebuild_required).flat_map(|i| i.reasons.iter().map(|x| format!("every stage rebuilds on {}: {x}", p.platform)))
        })
        .collect();
    if !fulls.is_empty() {
        return fulls;
    }
    let mut out: Vec<String> = r.rebuild_stages().iter().map(|s| format!("{s} rebuilds: {}", why_all(r, s))).collect();
    out.extend(r.reuse_stages().iter().map(|s| format!("{s} is reused: {}", why_all(r, s))));
    out
}

impl Render for Reused {
    fn json(&self, server_url: &str) -> Value {
        let first = self.first();
        let doc = platform_doc(first);
        json::value(&ReuseDoc {
            status: Status::of(self.found()),
            commit: &first.baseline.commit,
            baseline_commit: doc.baseline_commit,
            baseline_run_id: doc.baseline_run_id,
            therock_commit: doc.therock_commit,
            platform: first.platform,
            changed_inputs: doc.changed_inputs,
            rebuild_stages: self.rebuild_stages(),
            reuse_stages: self.reuse_stages(),
            prebuilt_stages: prebuilt_stages(self.reuse_stages()),
            full_rebuild_required: self.full_rebuild_required(),
            reasons: reasons_all(self),
            unmatched_inputs: doc.unmatched_inputs,
            artifacts: self.artifact_names(),
            missing_artifacts: doc.missing_artifacts,
            results: json::results(&first.baseline.found, server_url),
            platforms: self.platforms.iter().map(platform_doc).collect(),
            message: self.message(),
        })
    }

    fn human(&self) -> String {
        let mut s = String::new();
        for p in &self.platforms {
            let b = &p.baseline;
            match (b.found.commit.as_deref(), p.baseline_run_id()) {
                (Some(c), Some(id)) => s += &format!("commit {}: baseline {} (run {id}), {}\n", short_sha(&b.commit), short_sha(c), p.platform),
                _ => s += &format!("commit {}: no baseline run ({})\n", short_sha(&b.commit), p.platform),
            }
        }
        for line in reasons_all(self) {
            s += &format!("  {line}\n");
        }
        if !self.reuse_stages().is_empty() {
            s += &format!("prebuilt stages: {}\n", prebuilt_stages(self.reuse_stages()));
            for p in &self.platforms {
                s += &format!("{} archives to fetch from the {} baseline run (fetch --reuse)\n", p.artifacts().len(), p.platform);
            }
        }
        for p in &self.platforms {
            if let Some(m) = p.plan.as_ref().filter(|m| !m.missing_artifacts.is_empty()) {
                s += &format!("missing from the {} baseline run: {}\n", p.platform, m.missing_artifacts.join(", "));
            }
        }
        s
    }

    fn markdown(&self) -> String {
        let mut md = format!("### Stage reuse for {}\n\n", code(short_sha(&self.baseline().commit)));
        for p in &self.platforms {
            if let (Some(c), Some(id)) = (p.baseline.found.commit.as_deref(), p.baseline_run_id()) {
                md += &format!("Baseline {} (run {id}), platform {}.\n\n", code(short_sha(c)), p.platform);
            }
            if let Some(n) = &p.no_reuse {
                md += &format!("{}\n\n", text(n));
            }
        }
        if let Some(b) = self.decision.blocked.as_ref().filter(|_| self.platforms.len() > 1) {
            md += &format!("{}\n\n", text(b));
        }
        if self.full_rebuild_required() && self.platforms.iter().any(|p| p.impact.is_some()) {
            for r in reasons_all(self) {
                md += &format!("- {}\n", text(&r));
            }
            return md;
        }
        if self.platforms.iter().any(|p| p.settled.is_some()) {
            md += "| stage | plan | why |\n|---|---|---|\n";
            for st in self.rebuild_stages() {
                md += &format!("| {} | rebuild | {} |\n", code(&st), text(&why_all(self, &st)));
            }
            for st in self.reuse_stages() {
                md += &format!("| {} | reuse | {} |\n", code(st), text(&why_all(self, st)));
            }
        }
        md
    }

    fn message(&self) -> Option<String> {
        if self.found() {
            return None;
        }
        let first = self.first().no_reuse.clone();
        let blocked = self.decision.blocked.clone().filter(|_| self.platforms.len() > 1);
        Some(blocked.or(first).unwrap_or_else(|| "every stage must be rebuilt: nothing can be reused from a baseline run".to_string()))
    }
}
