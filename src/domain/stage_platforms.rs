//! One reuse plan per platform, and the decision over all of them (therock-facts.md 5d: a
//! stage is reused only if available on every platform built, and only when all platforms
//! resolved the same baseline run). A stage one platform rebuilds is rebuilt on every one, so
//! each platform's plan is made again with those stages rebuilt, until no platform moves
//! another. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::artifacts::ArtifactName;
use super::families::ArtifactGroup;
use super::stage_impact::{Cause, Impact};
use super::stage_reuse::{plan, plan_with, ReusePlan};
use super::topology::Topology;

/// What one platform's plan is made from.
pub struct PlanInput<'a> {
    pub topo: &'a Topology,
    pub impact: &'a Impact,
    /// The baseline run's archives on this platform's prefix.
    pub archives: &'a [&'a ArtifactName],
    pub groups: &'a [ArtifactGroup],
}

/// One platform: its baseline run and what its plan is made from (`None`: no baseline run or
/// no topology, so nothing is reused there).
pub struct Side<'a> {
    pub platform: &'a str,
    pub run_id: Option<u64>,
    pub input: Option<PlanInput<'a>>,
}

/// The decision over every platform.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub rebuild_stages: Vec<String>,
    pub reuse_stages: Vec<String>,
    /// Each platform's own plan (what it alone could reuse), in the order given.
    pub own: Vec<Option<ReusePlan>>,
    /// Each platform's plan under the decision (the archives its build fetches).
    pub settled: Vec<Option<ReusePlan>>,
    /// Why no stage is reused on any platform (no baseline run on one, different runs).
    pub blocked: Option<String>,
}

/// The baseline run every platform resolved, or why they have none in common.
pub fn common_run(runs: &[(&str, Option<u64>)]) -> Result<u64, String> {
    if let Some((p, _)) = runs.iter().find(|(_, r)| r.is_none()) {
        return Err(format!("{p} has no baseline run to reuse from, and a stage is reused only when every platform reuses it"));
    }
    let ids: BTreeSet<u64> = runs.iter().filter_map(|(_, r)| *r).collect();
    match ids.len() {
        1 => Ok(*ids.first().unwrap_or(&0)),
        0 => Err("no platform was asked about".to_string()),
        _ => {
            let each: Vec<String> = runs.iter().map(|(p, r)| format!("{p}: run {}", r.unwrap_or_default())).collect();
            Err(format!("the platforms resolved different baseline runs ({}), and a stage is reused only when all resolved the same one", each.join(", ")))
        }
    }
}

/// Every stage of the platforms' topologies, sorted.
fn all_stages(sides: &[Side]) -> BTreeSet<String> {
    sides.iter().filter_map(|s| s.input.as_ref()).flat_map(|i| i.topo.stage_names()).map(String::from).collect()
}

/// The stages of `rebuild` that `plan` does not rebuild, each with the platforms whose plans do.
fn forced(rebuild: &BTreeSet<String>, plan: &ReusePlan, by: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Cause> {
    rebuild
        .iter()
        .filter(|s| !plan.rebuild_stages.contains(s))
        .map(|s| (s.clone(), Cause::Elsewhere { platforms: by.get(s).cloned().unwrap_or_default() }))
        .collect()
}

/// Which platforms rebuild each stage on their own account (not because another one does).
fn rebuilt_by(sides: &[Side], plans: &[Option<ReusePlan>]) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (side, p) in sides.iter().zip(plans) {
        for (stage, cause) in p.iter().flat_map(|p| &p.causes) {
            if !matches!(cause, Cause::Elsewhere { .. }) {
                by.entry(stage.clone()).or_default().push(side.platform.to_string());
            }
        }
    }
    by
}

/// The decision: the same baseline run everywhere, then a stage reused only where every
/// platform's plan (made again with every other platform's rebuilt stages) reuses it.
pub fn decide(sides: &[Side]) -> Decision {
    let own: Vec<Option<ReusePlan>> = sides.iter().map(|s| s.input.as_ref().map(|i| plan(i.topo, i.impact, i.archives, i.groups, s.platform))).collect();
    let runs: Vec<(&str, Option<u64>)> = sides.iter().map(|s| (s.platform, s.run_id.filter(|_| s.input.is_some()))).collect();
    let all = all_stages(sides);
    if let Err(why) = common_run(&runs) {
        return Decision { rebuild_stages: all.into_iter().collect(), reuse_stages: Vec::new(), settled: own.clone(), own, blocked: Some(why) };
    }
    let mut rebuild: BTreeSet<String> = own.iter().flatten().flat_map(|p| p.rebuild_stages.iter().cloned()).collect();
    let mut settled = own.clone();
    loop {
        let by = rebuilt_by(sides, &settled);
        settled = sides
            .iter()
            .zip(&own)
            .map(|(s, mine)| {
                let (i, mine) = (s.input.as_ref()?, mine.as_ref()?);
                Some(plan_with(i.topo, i.impact, &forced(&rebuild, mine, &by), i.archives, i.groups, s.platform))
            })
            .collect();
        let next: BTreeSet<String> = rebuild.iter().cloned().chain(settled.iter().flatten().flat_map(|p| p.rebuild_stages.iter().cloned())).collect();
        if next == rebuild {
            let reuse_stages = all.difference(&rebuild).cloned().collect();
            return Decision { rebuild_stages: rebuild.into_iter().collect(), reuse_stages, own, settled, blocked: None };
        }
        rebuild = next;
    }
}

#[cfg(test)]
#[path = "stage_platforms_tests.rs"]
mod tests;
