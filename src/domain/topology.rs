//! TheRock's `BUILD_TOPOLOGY.toml` (schema "2.0", therock-facts.md 5d): source sets, build
//! stages, artifact groups and artifacts, parsed and checked once, with what a stage produces
//! and what it consumes from earlier stages, computed as upstream's `build_topology.py` does
//! (`get_produced_artifacts`, `get_inbound_artifacts`). Pure: the text comes from resolve/.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The file's name at the root of every TheRock commit that has stages.
pub const FILE: &str = "BUILD_TOPOLOGY.toml";

/// The major schema version this model reads.
const SCHEMA_MAJOR: &str = "2";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSet {
    pub name: String,
    pub submodules: Vec<String>,
    pub path_prefixes: Vec<String>,
    pub disable_platforms: Vec<String>,
}

impl SourceSet {
    /// Not disabled on `platform` (any platform: enabled).
    pub fn enabled_on(&self, platform: Option<&str>) -> bool {
        platform.is_none_or(|p| !self.disable_platforms.iter().any(|d| d == p))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub description: String,
    pub groups: Vec<String>,
    /// `type = "per-arch"`.
    pub per_arch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub deps: Vec<String>,
    pub source_sets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub group: String,
    /// `type = "target-specific"`: one archive per gfx target; else one `generic` archive.
    pub target_specific: bool,
    pub deps: Vec<String>,
    /// Built on this platform alone (`platform = "windows"`).
    pub platform: Option<String>,
    pub disable_platforms: Vec<String>,
}

impl Artifact {
    /// Is the artifact built on `platform` at all?
    pub fn built_on(&self, platform: &str) -> bool {
        self.platform.as_deref().is_none_or(|p| p == platform) && !self.disable_platforms.iter().any(|p| p == platform)
    }
}

/// One topology, in file order.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub source_sets: Vec<SourceSet>,
    pub stages: Vec<Stage>,
    pub groups: Vec<Group>,
    pub artifacts: Vec<Artifact>,
}

/// What is wrong with a topology file: the table at fault (`[artifacts.blas]`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    pub table: String,
    pub why: String,
}

impl std::fmt::Display for TopologyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.table, self.why)
    }
}

fn fault(table: impl Into<String>, why: impl Into<String>) -> TopologyError {
    TopologyError { table: table.into(), why: why.into() }
}

#[derive(Deserialize)]
struct RawSourceSet {
    #[serde(default)]
    submodules: Vec<String>,
    #[serde(default)]
    path_prefixes: Vec<String>,
    #[serde(default)]
    disable_platforms: Vec<String>,
}

#[derive(Deserialize)]
struct RawStage {
    #[serde(default)]
    description: String,
    #[serde(default)]
    artifact_groups: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct RawGroup {
    #[serde(default)]
    artifact_group_deps: Vec<String>,
    #[serde(default)]
    source_sets: Vec<String>,
}

#[derive(Deserialize)]
struct RawArtifact {
    #[serde(default)]
    artifact_group: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    artifact_deps: Vec<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    disable_platforms: Vec<String>,
}

/// Each `[kind.NAME]` table of `doc`, in file order, read as `T` (taken out of `doc`).
fn tables<T: serde::de::DeserializeOwned>(doc: &mut toml::Table, kind: &str) -> Result<Vec<(String, T)>, TopologyError> {
    let Some(v) = doc.remove(kind) else { return Ok(Vec::new()) };
    let toml::Value::Table(t) = v else { return Err(fault(format!("[{kind}]"), "is not a table")) };
    t.into_iter()
        .map(|(name, v)| {
            let value: T = v.try_into().map_err(|e: toml::de::Error| fault(format!("[{kind}.{name}]"), e.message().to_string()))?;
            Ok((name, value))
        })
        .collect()
}

impl Topology {
    /// Parses and checks a topology file's text: TOML, schema version 2, no dangling references,
    /// no dependency cycles.
    pub fn parse(text: &str) -> Result<Topology, TopologyError> {
        let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            fault("the file", format!("is not TOML{at}: {}", e.message()))
        })?;
        let version = doc.get("metadata").and_then(|m| m.get("version")).and_then(|v| v.as_str()).unwrap_or("").to_string();
        if version.split('.').next() != Some(SCHEMA_MAJOR) {
            let shown = if version.is_empty() { "no version".to_string() } else { format!("version \"{version}\"") };
            return Err(fault("[metadata]", format!("has {shown}; this tool reads schema version \"2.0\"")));
        }
        let topo = Topology {
            source_sets: tables::<RawSourceSet>(&mut doc, "source_sets")?
                .into_iter()
                .map(|(name, r)| SourceSet { name, submodules: r.submodules, path_prefixes: r.path_prefixes, disable_platforms: r.disable_platforms })
                .collect(),
            stages: tables::<RawStage>(&mut doc, "build_stages")?
                .into_iter()
                .map(|(name, r)| Stage { name, description: r.description, groups: r.artifact_groups, per_arch: r.kind.as_deref() == Some("per-arch") })
                .collect(),
            groups: tables::<RawGroup>(&mut doc, "artifact_groups")?
                .into_iter()
                .map(|(name, r)| Group { name, deps: r.artifact_group_deps, source_sets: r.source_sets })
                .collect(),
            artifacts: tables::<RawArtifact>(&mut doc, "artifacts")?
                .into_iter()
                .map(|(name, r)| Artifact {
                    name,
                    group: r.artifact_group,
                    target_specific: r.kind.as_deref() == Some("target-specific"),
                    deps: r.artifact_deps,
                    platform: r.platform,
                    disable_platforms: r.disable_platforms,
                })
                .collect(),
        };
        topo.check_references()?;
        topo.check_cycles()?;
        Ok(topo)
    }

    fn check_references(&self) -> Result<(), TopologyError> {
        for s in &self.stages {
            if let Some(g) = s.groups.iter().find(|g| self.group(g).is_none()) {
                return Err(fault(format!("[build_stages.{}]", s.name), format!("names artifact group '{g}', which the file does not define")));
            }
        }
        for g in &self.groups {
            if let Some(d) = g.deps.iter().find(|d| self.group(d).is_none()) {
                return Err(fault(format!("[artifact_groups.{}]", g.name), format!("depends on artifact group '{d}', which the file does not define")));
            }
            if let Some(s) = g.source_sets.iter().find(|s| !self.source_sets.iter().any(|x| &x.name == *s)) {
                return Err(fault(format!("[artifact_groups.{}]", g.name), format!("names source set '{s}', which the file does not define")));
            }
        }
        for a in &self.artifacts {
            if a.group.is_empty() || self.group(&a.group).is_none() {
                return Err(fault(format!("[artifacts.{}]", a.name), format!("belongs to artifact group '{}', which the file does not define", a.group)));
            }
            if let Some(d) = a.deps.iter().find(|d| self.artifact(d).is_none()) {
                return Err(fault(format!("[artifacts.{}]", a.name), format!("depends on artifact '{d}', which the file does not define")));
            }
        }
        Ok(())
    }

    fn check_cycles(&self) -> Result<(), TopologyError> {
        let groups: BTreeMap<&str, &[String]> = self.groups.iter().map(|g| (g.name.as_str(), g.deps.as_slice())).collect();
        if let Some(path) = find_cycle(&groups) {
            return Err(fault(format!("[artifact_groups.{}]", path[0]), format!("is part of a dependency cycle: {}", path.join(" -> "))));
        }
        let artifacts: BTreeMap<&str, &[String]> = self.artifacts.iter().map(|a| (a.name.as_str(), a.deps.as_slice())).collect();
        if let Some(path) = find_cycle(&artifacts) {
            return Err(fault(format!("[artifacts.{}]", path[0]), format!("is part of a dependency cycle: {}", path.join(" -> "))));
        }
        Ok(())
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    pub fn artifact(&self, name: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.name == name)
    }

    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name.as_str()).collect()
    }

    /// The artifacts of a group.
    pub fn artifacts_in<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Artifact> + 'a {
        self.artifacts.iter().filter(move |a| a.group == group)
    }

    /// What a stage builds: every artifact of its groups.
    pub fn produced(&self, stage: &str) -> BTreeSet<String> {
        let Some(s) = self.stage(stage) else { return BTreeSet::new() };
        s.groups.iter().flat_map(|g| self.artifacts_in(g)).map(|a| a.name.clone()).collect()
    }

    /// What a stage consumes from other stages (upstream's `get_inbound_artifacts`): the
    /// artifacts of its groups' dependency groups and their artifact deps, transitively, plus
    /// the artifact deps of its own artifacts, transitively, minus what it produces itself.
    pub fn inbound(&self, stage: &str) -> BTreeSet<String> {
        let Some(s) = self.stage(stage) else { return BTreeSet::new() };
        let mut inbound = BTreeSet::new();
        for g in s.groups.iter().filter_map(|g| self.group(g)) {
            for a in g.deps.iter().flat_map(|d| self.artifacts_in(d)) {
                inbound.insert(a.name.clone());
                self.collect_deps(&a.name, &mut inbound);
            }
        }
        for a in s.groups.iter().flat_map(|g| self.artifacts_in(g)) {
            for d in &a.deps {
                inbound.insert(d.clone());
                self.collect_deps(d, &mut inbound);
            }
        }
        let produced = self.produced(stage);
        inbound.retain(|a| !produced.contains(a));
        inbound
    }

    /// The artifact deps of `name`, transitively, into `into`.
    fn collect_deps(&self, name: &str, into: &mut BTreeSet<String>) {
        let Some(a) = self.artifact(name) else { return };
        for d in &a.deps {
            if into.insert(d.clone()) {
                self.collect_deps(d, into);
            }
        }
    }

    /// The stages that list a group.
    pub fn stages_of_group(&self, group: &str) -> Vec<&str> {
        self.stages.iter().filter(|s| s.groups.iter().any(|g| g == group)).map(|s| s.name.as_str()).collect()
    }

    /// The stage that builds an artifact (its group's first stage).
    pub fn producer(&self, artifact: &str) -> Option<&str> {
        self.artifact(artifact).and_then(|a| self.stages_of_group(&a.group).first().copied())
    }

    /// The first source set (not disabled on `platform`) with submodule `name`.
    pub fn source_set_of_submodule(&self, name: &str, platform: Option<&str>) -> Option<&SourceSet> {
        self.source_sets.iter().filter(|s| s.enabled_on(platform)).find(|s| s.submodules.iter().any(|m| m == name))
    }

    /// The first source set (not disabled on `platform`) with a `path_prefixes` entry covering `path`.
    pub fn source_set_of_path(&self, path: &str, platform: Option<&str>) -> Option<&SourceSet> {
        self.source_sets
            .iter()
            .filter(|s| s.enabled_on(platform))
            .find(|s| s.path_prefixes.iter().map(|p| p.trim_end_matches('/')).any(|p| path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))))
    }

    /// The groups that name a source set.
    pub fn groups_of_source_set(&self, set: &str) -> Vec<&str> {
        self.groups.iter().filter(|g| g.source_sets.iter().any(|s| s == set)).map(|g| g.name.as_str()).collect()
    }
}

/// A dependency cycle in `graph` (name -> deps), as the path that closes it, if any.
fn find_cycle<'a>(graph: &BTreeMap<&'a str, &'a [String]>) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(n: &'a str, graph: &BTreeMap<&'a str, &'a [String]>, marks: &mut BTreeMap<&'a str, Mark>, path: &mut Vec<&'a str>) -> Option<Vec<&'a str>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|p| *p == n).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(n);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n, Mark::Open);
        path.push(n);
        for d in graph.get(n).copied().unwrap_or_default() {
            if let Some((k, _)) = graph.get_key_value(d.as_str()) {
                if let Some(c) = visit(k, graph, marks, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph.keys().find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[cfg(test)]
#[path = "topology_tests.rs"]
pub(crate) mod tests;
