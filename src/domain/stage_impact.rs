//! Stage impact (upstream's `stage_impact.py`, therock-facts.md 5d): which build stages a set
//! of changed inputs (paths, or submodule names) forces to rebuild. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::topology::Topology;

/// Paths under these force a full rebuild.
const FULL_REBUILD_PREFIXES: &[&str] = &[".github/", "build_tools/", "docs/", "scripts/"];
/// These exact paths force a full rebuild.
const FULL_REBUILD_PATHS: &[&str] = &["BUILD_TOPOLOGY.toml", "CMakeLists.txt"];

/// Why a stage rebuilds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// An input mapped to a source set one of the stage's groups builds from.
    Changed { input: String, source_set: String },
    /// The stage consumes an artifact another rebuilt stage produces.
    Consumes { artifact: String, from: String },
    /// A full rebuild (see `Impact::reasons`).
    Full,
    /// The baseline run lacks archives the stage produces and a rebuilt stage consumes.
    Unavailable { missing: Vec<String> },
    /// Other platforms rebuild it, and a stage is reused only where every platform reuses it.
    Elsewhere { platforms: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    /// The inputs, normalized (leading `./` and surrounding blanks dropped), in the order given.
    pub changed_inputs: Vec<String>,
    pub matched_source_sets: Vec<String>,
    pub impacted_groups: Vec<String>,
    /// Full rebuild: every stage in file order; else sorted.
    pub rebuild_stages: Vec<String>,
    /// The others, sorted.
    pub copy_stages: Vec<String>,
    pub full_rebuild_required: bool,
    /// Why a full rebuild was chosen, one sentence each.
    pub reasons: Vec<String>,
    pub unmatched_inputs: Vec<String>,
    /// Why each rebuilt stage rebuilds.
    pub causes: BTreeMap<String, Cause>,
}

/// `./a/b` -> `a/b`. Unlike upstream's `lstrip("./")`, a leading dot of a name (`.github/`) is kept.
pub fn normalize(input: &str) -> String {
    let mut s = input.trim();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/');
    }
    s.to_string()
}

/// Does the input force a full rebuild?
pub fn forces_full_rebuild(input: &str) -> bool {
    FULL_REBUILD_PATHS.contains(&input) || FULL_REBUILD_PREFIXES.iter().any(|p| input == p.trim_end_matches('/') || input.starts_with(p))
}

/// The source set an input maps to: the whole input as a submodule name, then a path prefix,
/// then each path component as a submodule name.
pub fn source_set_of<'a>(topo: &'a Topology, input: &str, platform: Option<&str>) -> Option<&'a str> {
    let set = topo
        .source_set_of_submodule(input, platform)
        .or_else(|| topo.source_set_of_path(input, platform))
        .or_else(|| input.split('/').filter(|c| !c.is_empty()).find_map(|c| topo.source_set_of_submodule(c, platform)));
    set.map(|s| s.name.as_str())
}

/// The impact of `inputs` on `topo`'s stages, on `platform` (source sets disabled there are ignored).
pub fn analyze(topo: &Topology, inputs: &[String], platform: Option<&str>) -> Impact {
    let changed_inputs: Vec<String> = inputs.iter().map(|i| normalize(i)).filter(|i| !i.is_empty()).collect();
    let mut reasons = Vec::new();
    let mut unmatched = BTreeSet::new();
    let mut matched: BTreeMap<String, String> = BTreeMap::new(); // source set -> first input
    for input in &changed_inputs {
        if forces_full_rebuild(input) {
            reasons.push(format!("'{input}' forces a full rebuild (build tooling, workflows, docs, the topology or the top CMakeLists.txt)"));
            continue;
        }
        match source_set_of(topo, input, platform) {
            Some(set) => {
                matched.entry(set.to_string()).or_insert_with(|| input.clone());
            }
            None => {
                unmatched.insert(input.clone());
            }
        }
    }
    let mut full = !reasons.is_empty();
    if matched.is_empty() && !full {
        full = true;
        reasons.push("no changed input maps to a source set of the topology".to_string());
    }
    let mut causes: BTreeMap<String, Cause> = BTreeMap::new();
    let mut groups = BTreeSet::new();
    for (set, input) in &matched {
        for g in topo.groups_of_source_set(set) {
            groups.insert(g.to_string());
            for s in topo.stages_of_group(g) {
                causes.entry(s.to_string()).or_insert_with(|| Cause::Changed { input: input.clone(), source_set: set.clone() });
            }
        }
    }
    expand_downstream(topo, &mut causes);
    let (rebuild_stages, copy_stages) = if full {
        causes = topo.stages.iter().map(|s| (s.name.clone(), Cause::Full)).collect();
        (topo.stage_names().into_iter().map(String::from).collect(), Vec::new())
    } else {
        let mut copy: Vec<String> = topo.stage_names().into_iter().filter(|s| !causes.contains_key(*s)).map(String::from).collect();
        copy.sort();
        (causes.keys().cloned().collect(), copy)
    };
    Impact {
        changed_inputs,
        matched_source_sets: matched.into_keys().collect(),
        impacted_groups: groups.into_iter().collect(),
        rebuild_stages,
        copy_stages,
        full_rebuild_required: full,
        reasons,
        unmatched_inputs: unmatched.into_iter().collect(),
        causes,
    }
}

/// A stage consuming (through its artifacts' `artifact_deps`) an artifact that an impacted
/// stage produces is impacted too, until nothing changes.
fn expand_downstream(topo: &Topology, causes: &mut BTreeMap<String, Cause>) {
    let mut consumers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &topo.stages {
        for a in s.groups.iter().flat_map(|g| topo.artifacts_in(g)) {
            for d in &a.deps {
                consumers.entry(d.as_str()).or_default().insert(s.name.as_str());
            }
        }
    }
    let mut work: Vec<String> = causes.keys().cloned().collect();
    while let Some(stage) = work.pop() {
        for artifact in topo.produced(&stage) {
            for c in consumers.get(artifact.as_str()).into_iter().flatten() {
                if !causes.contains_key(*c) {
                    causes.insert(c.to_string(), Cause::Consumes { artifact: artifact.clone(), from: stage.clone() });
                    work.push(c.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "stage_impact_tests.rs"]
mod tests;
