//! `reuse`: which build stages a build of a TheRock commit (or of a super-repo commit, through
//! its TheRock pin) must rebuild, and which it can take from a baseline run
//! (therock-facts.md 5d): per platform, the baseline as `baseline` finds it on that platform's
//! prefixes, the changed inputs between the baseline and the commit, the stage impact over the
//! topology, the archives the rebuilt stages need from the reused ones; then the decision over
//! every platform (one baseline run for all, a stage reused only where all reuse it).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;

use super::App;
use crate::config::{Query, ReuseOptions};
use crate::domain::artifacts::ArtifactName;
use crate::domain::buckets::{Platform, Repo};
use crate::domain::run::short_sha;
use crate::domain::stage_impact::{self, Impact};
use crate::domain::stage_platforms::{self, Decision, PlanInput, Side};
use crate::domain::stage_reuse::ReusePlan;
use crate::domain::topology::{Topology, FILE};
use crate::resolve::topology::{changed_paths, topology_at};
use crate::resolve::{self, Baseline, BaselineReason, Resolver};

/// One platform's plan.
#[derive(Debug, Clone)]
pub struct PlatformPlan {
    pub baseline: Baseline,
    pub platform: &'static str,
    /// The TheRock commit whose topology was read.
    pub therock_commit: Option<String>,
    pub changed_inputs: Vec<String>,
    /// A word on some inputs ("submodule bump since abc1234").
    pub notes: BTreeMap<String, String>,
    pub impact: Option<Impact>,
    /// What this platform alone could reuse.
    pub plan: Option<ReusePlan>,
    /// Its plan under the decision over every platform (the archives its build fetches).
    pub settled: Option<ReusePlan>,
    /// Why nothing can be reused before any impact was computed (no baseline, no topology).
    pub no_reuse: Option<String>,
}

impl PlatformPlan {
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
    /// The archives its build fetches from the baseline run under the decision.
    pub fn artifacts(&self) -> Vec<String> {
        self.settled.as_ref().map(|p| p.artifacts.clone()).unwrap_or_default()
    }
}

/// What `reuse` concluded: one plan per platform asked, and the decision over them.
#[derive(Debug, Clone)]
pub struct Reused {
    /// In the order asked (never empty); the first is the one the top-level keys describe.
    pub platforms: Vec<PlatformPlan>,
    /// The stages rebuilt and reused on every platform (`own` and `settled` moved to the plans).
    pub decision: Decision,
}

impl Reused {
    pub fn first(&self) -> &PlatformPlan {
        &self.platforms[0]
    }
    pub fn baseline(&self) -> &Baseline {
        &self.first().baseline
    }
    pub fn reuse_stages(&self) -> &[String] {
        &self.decision.reuse_stages
    }
    /// The decision's rebuilt stages (in the first plan's order: a full rebuild's is the file's).
    pub fn rebuild_stages(&self) -> Vec<String> {
        match (&self.decision.blocked, &self.first().settled) {
            (None, Some(p)) => p.rebuild_stages.clone(),
            _ => self.decision.rebuild_stages.clone(),
        }
    }
    pub fn full_rebuild_required(&self) -> bool {
        self.platforms.iter().any(|p| p.impact.as_ref().is_none_or(|i| i.full_rebuild_required))
    }
}

pub async fn run(app: &App, opts: &ReuseOptions) -> Result<Reused> {
    let others: Vec<(Platform, _)> = opts.platforms.iter().filter(|p| **p != app.platform()).map(|p| (*p, app.locator_on(*p))).collect();
    let mut memo = HashMap::new();
    let mut prepared = Vec::new();
    for &p in &opts.platforms {
        let q = Query { platform: p, ..app.cfg.query.clone() };
        let r = match others.iter().find(|(o, _)| *o == p) {
            Some((_, l)) => app.resolver_with(&q, l),
            None => app.resolver(),
        };
        prepared.push(prepare(app, &r, opts, p, &mut memo).await?);
    }
    for (_, l) in &others {
        app.count_listings(l.listings_made());
    }
    let mut decision = {
        let archives: Vec<Vec<&ArtifactName>> =
            prepared.iter().map(|(pp, _)| pp.baseline.found.results().flat_map(|h| h.archives.iter().map(|(a, _)| a)).collect()).collect();
        let sides: Vec<Side> = prepared
            .iter()
            .zip(&archives)
            .map(|((pp, topo), archives)| Side {
                platform: pp.platform,
                run_id: pp.baseline_run_id(),
                input: topo.as_ref().zip(pp.impact.as_ref()).map(|(topo, impact)| PlanInput { topo, impact, archives, groups: &app.cfg.query.groups }),
            })
            .collect();
        stage_platforms::decide(&sides)
    };
    let platforms = prepared
        .into_iter()
        .enumerate()
        .map(|(i, (mut pp, _))| {
            pp.plan = decision.own.get_mut(i).and_then(Option::take);
            pp.settled = decision.settled.get_mut(i).and_then(Option::take);
            pp
        })
        .collect();
    (decision.own, decision.settled) = (Vec::new(), Vec::new());
    Ok(Reused { platforms, decision })
}

/// The changed inputs found per baseline commit (platforms that share one ask once).
type Memo = HashMap<String, (Vec<String>, BTreeMap<String, String>)>;

/// One platform up to its impact: its baseline, its topology, its changed inputs.
async fn prepare(app: &App, r: &Resolver<'_>, opts: &ReuseOptions, platform: Platform, memo: &mut Memo) -> Result<(PlatformPlan, Option<Topology>)> {
    let baseline = resolve::baseline(r, &opts.subject, &opts.walk).await?;
    let platform = platform.as_str();
    let mut out = PlatformPlan {
        baseline,
        platform,
        therock_commit: None,
        changed_inputs: Vec::new(),
        notes: BTreeMap::new(),
        impact: None,
        plan: None,
        settled: None,
        no_reuse: None,
    };
    let (Some(base), true) = (out.baseline.found.commit.clone(), out.baseline.found.found()) else {
        out.no_reuse = Some(format!("no baseline run holds every requested artifact group on {platform}, so every stage is built"));
        return Ok((out, None));
    };
    let q = &app.cfg.query;
    let super_repo = !q.repo.is_therock_family();
    let therock: Repo = if super_repo { opts.walk.therock_repo.clone() } else { q.repo.clone() };
    // A TheRock commit is built with its own topology; a super-repo commit with TheRock's at the baseline.
    let topo_commit = if super_repo { base.clone() } else { out.baseline.commit.clone() };
    out.therock_commit = Some(topo_commit.clone());
    let Some(topo) = topology_at(r, &therock, &topo_commit, Some(&opts.cache_dir)).await? else {
        out.no_reuse = Some(format!("TheRock commit {} has no {FILE} (it is older than build stages), so nothing is reused", short_sha(&topo_commit)));
        return Ok((out, None));
    };
    let (inputs, notes) = match memo.get(&base) {
        Some(known) => known.clone(),
        None => {
            let found = changed_inputs(r, opts, &out.baseline, &base, &therock, &topo).await?;
            memo.insert(base.clone(), found.clone());
            found
        }
    };
    let exact_and_unchanged = inputs.is_empty() && opts.changed.is_none() && out.baseline.reason == Some(BaselineReason::Exact);
    let impact = if exact_and_unchanged { unchanged(&topo) } else { stage_impact::analyze(&topo, &inputs, Some(platform)) };
    out.changed_inputs = impact.changed_inputs.clone();
    out.notes = notes;
    out.impact = Some(impact);
    Ok((out, Some(topo)))
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
    r: &Resolver<'_>,
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
    let q = r.q;
    let mut inputs = Vec::new();
    let head = if q.repo.is_therock_family() {
        Some(b.commit.clone())
    } else {
        inputs.push(q.repo.name.clone());
        notes.insert(q.repo.name.clone(), format!("the {} commit {} asked about", q.repo.full(), short_sha(&b.commit)));
        b.therock_ref.clone()
    };
    if let Some(head) = head {
        for p in changed_paths(r, therock, base, &head).await? {
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
        Some(&self.baseline().found)
    }
    fn baseline(&self) -> Option<&Baseline> {
        Some(self.baseline())
    }
    fn artifact_names(&self) -> Vec<String> {
        self.first().artifacts()
    }
}
