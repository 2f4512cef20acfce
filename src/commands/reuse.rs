//! `reuse`: which build stages a build of a TheRock commit (or of a super-repo commit, through
//! its TheRock pin) must rebuild, and which it can take from a baseline run
//! (therock-facts.md 5d): the baseline as `baseline` finds it, the changed inputs between the
//! baseline and the commit, the stage impact over the topology, then the archives the rebuilt
//! stages need from the reused ones.

use std::collections::BTreeMap;

use anyhow::Result;

use super::App;
use crate::config::ReuseOptions;
use crate::domain::artifacts::ArtifactName;
use crate::domain::buckets::Repo;
use crate::domain::run::short_sha;
use crate::domain::stage_impact::{self, Impact};
use crate::domain::stage_reuse::{self, ReusePlan};
use crate::domain::topology::{Topology, FILE};
use crate::resolve::topology::{changed_paths, topology_at};
use crate::resolve::{self, Baseline, BaselineReason};

/// What `reuse` concluded.
#[derive(Debug, Clone)]
pub struct Reused {
    pub baseline: Baseline,
    pub platform: &'static str,
    /// The TheRock commit whose topology was read.
    pub therock_commit: Option<String>,
    pub changed_inputs: Vec<String>,
    /// A word on some inputs ("submodule bump since abc1234").
    pub notes: BTreeMap<String, String>,
    pub impact: Option<Impact>,
    pub plan: Option<ReusePlan>,
    /// Why nothing can be reused before any impact was computed (no baseline, no topology).
    pub no_reuse: Option<String>,
}

impl Reused {
    pub fn reuse_stages(&self) -> &[String] {
        self.plan.as_ref().map(|p| p.reuse_stages.as_slice()).unwrap_or_default()
    }
    pub fn rebuild_stages(&self) -> Vec<String> {
        match (&self.plan, &self.impact) {
            (Some(p), _) => p.rebuild_stages.clone(),
            (None, Some(i)) => i.rebuild_stages.clone(),
            (None, None) => Vec::new(),
        }
    }
    pub fn baseline_run_id(&self) -> Option<u64> {
        self.baseline.found.results().next().filter(|_| self.baseline.found.found()).map(|h| h.run.id)
    }
}

pub async fn run(app: &App, opts: &ReuseOptions) -> Result<Reused> {
    let r = app.resolver();
    let baseline = resolve::baseline(&r, &opts.subject, &opts.walk).await?;
    let platform = app.platform().as_str();
    let mut out =
        Reused { baseline, platform, therock_commit: None, changed_inputs: Vec::new(), notes: BTreeMap::new(), impact: None, plan: None, no_reuse: None };
    let (Some(base), true) = (out.baseline.found.commit.clone(), out.baseline.found.found()) else {
        out.no_reuse = Some("no baseline run holds every requested artifact group, so every stage is built".into());
        return Ok(out);
    };
    let q = &app.cfg.query;
    let super_repo = !q.repo.is_therock_family();
    let therock: Repo = if super_repo { opts.walk.therock_repo.clone() } else { q.repo.clone() };
    // A TheRock commit is built with its own topology; a super-repo commit with TheRock's at the baseline.
    let topo_commit = if super_repo { base.clone() } else { out.baseline.commit.clone() };
    out.therock_commit = Some(topo_commit.clone());
    let Some(topo) = topology_at(&r, &therock, &topo_commit, Some(&opts.cache_dir)).await? else {
        out.no_reuse = Some(format!("TheRock commit {} has no {FILE} (it is older than build stages), so nothing is reused", short_sha(&topo_commit)));
        return Ok(out);
    };
    let (inputs, notes) = changed_inputs(app, opts, &out.baseline, &base, &therock, &topo).await?;
    let exact_and_unchanged = inputs.is_empty() && opts.changed.is_none() && out.baseline.reason == Some(BaselineReason::Exact);
    let impact = if exact_and_unchanged { unchanged(&topo) } else { stage_impact::analyze(&topo, &inputs, Some(platform)) };
    let archives: Vec<&ArtifactName> = out.baseline.found.results().flat_map(|h| h.archives.iter().map(|(a, _)| a)).collect();
    let plan = stage_reuse::plan(&topo, &impact, &archives, &q.groups, platform);
    out.changed_inputs = impact.changed_inputs.clone();
    out.notes = notes;
    out.impact = Some(impact);
    out.plan = Some(plan);
    Ok(out)
}

/// The commit is its own baseline and nothing changed: every stage is reused.
fn unchanged(topo: &Topology) -> Impact {
    let mut copy: Vec<String> = topo.stage_names().into_iter().map(String::from).collect();
    copy.sort();
    Impact {
        changed_inputs: Vec::new(),
        matched_source_sets: Vec::new(),
        impacted_groups: Vec::new(),
        rebuild_stages: Vec::new(),
        copy_stages: copy,
        full_rebuild_required: false,
        reasons: Vec::new(),
        unmatched_inputs: Vec::new(),
        causes: BTreeMap::new(),
    }
}

/// The changed inputs: `--changed`, else the paths changed in TheRock between the baseline and
/// the commit (a super-repo: its own name, plus TheRock's changes between the baseline and the pin).
async fn changed_inputs(
    app: &App,
    opts: &ReuseOptions,
    b: &Baseline,
    base: &str,
    therock: &Repo,
    topo: &Topology,
) -> Result<(Vec<String>, BTreeMap<String, String>)> {
    let mut notes = BTreeMap::new();
    if let Some(given) = &opts.changed {
        return Ok((given.clone(), notes));
    }
    let r = app.resolver();
    let q = &app.cfg.query;
    let mut inputs = Vec::new();
    let head = if q.repo.is_therock_family() {
        Some(b.commit.clone())
    } else {
        inputs.push(q.repo.name.clone());
        notes.insert(q.repo.name.clone(), format!("the {} commit {} asked about", q.repo.full(), short_sha(&b.commit)));
        b.therock_ref.clone()
    };
    if let Some(head) = head {
        for p in changed_paths(&r, therock, base, &head).await? {
            if topo.source_sets.iter().any(|s| s.submodules.contains(&p)) {
                notes.insert(p.clone(), format!("submodule bump since {}", short_sha(base)));
            }
            inputs.push(p);
        }
    }
    Ok((inputs, notes))
}

/// One line for stderr: what is rebuilt, what is reused.
pub fn summary_line(r: &Reused) -> String {
    format!("reuse plan: rebuild [{}], reuse [{}]", r.rebuild_stages().join(", "), r.reuse_stages().join(", "))
}

impl super::Conclusion for Reused {
    fn found(&self) -> bool {
        !self.reuse_stages().is_empty()
    }
    fn resolved(&self) -> Option<&crate::domain::select::Found> {
        Some(&self.baseline.found)
    }
    fn baseline(&self) -> Option<&Baseline> {
        Some(&self.baseline)
    }
    fn artifact_names(&self) -> Vec<String> {
        self.plan.as_ref().map(|p| p.artifacts.clone()).unwrap_or_default()
    }
}
