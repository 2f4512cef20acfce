//! Stage reuse (therock-facts.md 5d, beyond upstream's `stage_reuse_decision.py`): from a stage
//! impact and a baseline run's archives, which stages are reused, which archives the rebuilt
//! stages need from them (for the requested families' targets, per target), and which
//! `{name}_{component}_{target}` pairs the run lacks. A stage whose needed archives are missing
//! is rebuilt too. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::artifacts::ArtifactName;
use super::families::ArtifactGroup;
use super::stage_impact::{Cause, Impact};
use super::topology::{Artifact, Topology};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReusePlan {
    pub rebuild_stages: Vec<String>,
    pub reuse_stages: Vec<String>,
    /// Archive filenames the rebuilt stages consume from the reused ones, sorted.
    pub artifacts: Vec<String>,
    /// Pairs the baseline run lacks (each moved its producing stage to the rebuilt ones).
    pub missing_artifacts: Vec<String>,
    /// Why each rebuilt stage rebuilds.
    pub causes: BTreeMap<String, Cause>,
}

/// What one artifact needs from a run: the archives held, and the pairs not held.
pub struct Availability {
    pub held: Vec<String>,
    pub missing: Vec<String>,
}

/// The base architecture of a target field (`gfx942:xnack+` -> `gfx942`).
fn base_arch(t: &str) -> &str {
    t.split(':').next().unwrap_or(t)
}

/// The archives of `artifact` in `archives`: the generic ones for a target-neutral artifact, one
/// per requested target (base-arch match, or the family's own name) for a target-specific one.
pub fn availability(artifact: &Artifact, archives: &[&ArtifactName], groups: &[ArtifactGroup]) -> Availability {
    let mine: Vec<&&ArtifactName> = archives.iter().filter(|a| a.name == artifact.name).collect();
    let components: BTreeSet<&str> = mine.iter().map(|a| a.component.as_str()).collect();
    let pair = |target: &str| match components.is_empty() {
        true => vec![format!("{}_*_{target}", artifact.name)],
        false => components.iter().map(|c| format!("{}_{c}_{target}", artifact.name)).collect(),
    };
    let mut held = Vec::new();
    let mut missing = Vec::new();
    if !artifact.target_specific {
        let generic: Vec<_> = mine.iter().filter(|a| a.is_generic()).collect();
        if generic.is_empty() {
            missing.extend(pair("generic"));
        }
        held.extend(generic.iter().map(|a| a.filename.clone()));
        return Availability { held, missing };
    }
    for g in groups {
        for t in &g.targets {
            let of_target: Vec<_> = mine.iter().filter(|a| base_arch(&a.target).eq_ignore_ascii_case(t) || a.target.eq_ignore_ascii_case(&g.family)).collect();
            if of_target.is_empty() {
                missing.extend(pair(t));
            }
            held.extend(of_target.iter().map(|a| a.filename.clone()));
        }
    }
    Availability { held, missing }
}

/// `--stage`: the archives of the artifacts `names` (those built on `platform`) among
/// `archives`, without the `exclude_components`, and the pairs the run lacks.
pub fn stage_archives(
    topo: &Topology,
    names: &BTreeSet<String>,
    archives: &[&ArtifactName],
    groups: &[ArtifactGroup],
    platform: &str,
    exclude_components: &[String],
) -> Availability {
    let kept: Vec<&ArtifactName> = archives.iter().copied().filter(|a| !exclude_components.contains(&a.component)).collect();
    let mut all = Availability { held: Vec::new(), missing: Vec::new() };
    for artifact in names.iter().filter_map(|n| topo.artifact(n)).filter(|a| a.built_on(platform)) {
        let a = availability(artifact, &kept, groups);
        all.held.extend(a.held);
        all.missing.extend(a.missing);
    }
    all.held.sort();
    all.held.dedup();
    all
}

/// What the rebuilt `stages` consume from the other stages: their inbound artifacts minus what
/// they produce, of those built on `platform`.
pub fn consumed(topo: &Topology, stages: &BTreeSet<String>, platform: &str) -> BTreeSet<String> {
    let produced: BTreeSet<String> = stages.iter().flat_map(|s| topo.produced(s)).collect();
    stages.iter().flat_map(|s| topo.inbound(s)).filter(|a| !produced.contains(a)).filter(|a| topo.artifact(a).is_some_and(|x| x.built_on(platform))).collect()
}

/// The plan for `impact` over a baseline run's `archives`.
pub fn plan(topo: &Topology, impact: &Impact, archives: &[&ArtifactName], groups: &[ArtifactGroup], platform: &str) -> ReusePlan {
    plan_with(topo, impact, &BTreeMap::new(), archives, groups, platform)
}

/// `plan`, with the `forced` stages rebuilt too (another platform rebuilds them), for the
/// reasons given there unless the impact has its own.
pub fn plan_with(
    topo: &Topology,
    impact: &Impact,
    forced: &BTreeMap<String, Cause>,
    archives: &[&ArtifactName],
    groups: &[ArtifactGroup],
    platform: &str,
) -> ReusePlan {
    let mut causes = impact.causes.clone();
    for (stage, cause) in forced {
        causes.entry(stage.clone()).or_insert_with(|| cause.clone());
    }
    if impact.full_rebuild_required {
        return ReusePlan { rebuild_stages: impact.rebuild_stages.clone(), causes, ..ReusePlan::default() };
    }
    let mut missing_all = Vec::new();
    loop {
        let rebuild: BTreeSet<String> = causes.keys().cloned().collect();
        let mut held = BTreeSet::new();
        let mut moved: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut unplaced = Vec::new();
        for name in consumed(topo, &rebuild, platform) {
            let Some(artifact) = topo.artifact(&name) else { continue };
            let a = availability(artifact, archives, groups);
            held.extend(a.held);
            match topo.producer(&name) {
                _ if a.missing.is_empty() => {}
                Some(p) => moved.entry(p.to_string()).or_default().extend(a.missing),
                // No stage builds it: nothing to move, only to report.
                None => unplaced.extend(a.missing),
            }
        }
        if moved.is_empty() {
            missing_all.extend(unplaced);
            let reuse_stages = topo.stage_names().into_iter().filter(|s| !rebuild.contains(*s)).map(String::from).collect::<BTreeSet<_>>();
            return ReusePlan {
                rebuild_stages: rebuild.into_iter().collect(),
                reuse_stages: reuse_stages.into_iter().collect(),
                artifacts: held.into_iter().collect(),
                missing_artifacts: missing_all,
                causes,
            };
        }
        for (stage, missing) in moved {
            missing_all.extend(missing.iter().cloned());
            causes.insert(stage, Cause::Unavailable { missing });
        }
    }
}

/// The `prebuilt_stages` dispatch input of TheRock's `multi_arch_ci.yml`: a comma list.
pub fn prebuilt_stages(reuse: &[String]) -> String {
    reuse.join(",")
}

#[cfg(test)]
#[path = "stage_reuse_tests.rs"]
mod tests;
