//! `--stage NAME|all` (find, fetch): the stage's inbound artifacts in the commit's
//! `BUILD_TOPOLOGY.toml`, among the archives found, with the pairs the run lacks.

use std::collections::BTreeSet;

use anyhow::{bail, Result};

use super::App;
use crate::config::StagePick;
use crate::domain::artifacts::ArtifactName;
use crate::domain::run::short_sha;
use crate::domain::select::Found;
use crate::domain::stage_reuse::stage_archives;
use crate::domain::topology::FILE;
use crate::resolve::topology::topology_at;

/// What `--stage` picked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageSelection {
    /// The stage (`all`: every artifact).
    pub stage: String,
    /// The TheRock commit whose topology was read.
    #[serde(rename = "topology_commit")]
    pub therock_commit: String,
    /// The artifact names the stage consumes, after `--exclude-artifact`.
    pub stage_artifacts: Vec<String>,
    /// The archive filenames picked.
    #[serde(rename = "stage_archives")]
    pub archives: Vec<String>,
    /// `{name}_{component}_{target}` pairs the run does not hold.
    pub missing_artifacts: Vec<String>,
}

impl StageSelection {
    /// Lines saying what `--stage` picked and what the run lacks.
    pub fn summary(&self) -> String {
        let mut out = format!("stage {}: {} archives of {} artifacts\n", self.stage, self.archives.len(), self.stage_artifacts.len());
        if !self.missing_artifacts.is_empty() {
            out += &format!("missing from the run: {}\n", self.missing_artifacts.join(", "));
        }
        out
    }
}

/// The stage's archives among `found`'s (a TheRock commit's; a super-repo's runs have no stages).
pub async fn select(app: &App, found: &Found, pick: &StagePick) -> Result<StageSelection> {
    let repo = &found.repo;
    let Some(commit) = found.commit.clone() else { bail!("--stage needs a commit whose {FILE} to read") };
    if !repo.is_therock_family() {
        bail!("--stage reads TheRock's {FILE}, and {repo} is not TheRock: use `reuse` for a super-repo commit");
    }
    let Some(topo) = topology_at(&app.resolver(), repo, &commit, Some(&pick.cache_dir)).await? else {
        bail!("commit {} of {repo} has no {FILE} (it is older than build stages): --stage cannot be used there", short_sha(&commit));
    };
    let mut names: BTreeSet<String> = match &pick.stage {
        None => topo.artifacts.iter().map(|a| a.name.clone()).collect(),
        Some(s) if topo.stage(s).is_some() => topo.inbound(s),
        Some(s) => bail!("unknown stage '{s}' in {FILE} at {} of {repo}: the stages there are {}", short_sha(&commit), topo.stage_names().join(", ")),
    };
    if let Some(bad) = pick.exclude_artifacts.iter().find(|a| topo.artifact(a).is_none()) {
        let mut valid: Vec<&str> = topo.artifacts.iter().map(|a| a.name.as_str()).collect();
        valid.sort();
        bail!("--exclude-artifact: unknown artifact '{bad}' in {FILE} at {}: the artifacts there are {}", short_sha(&commit), valid.join(", "));
    }
    names.retain(|n| !pick.exclude_artifacts.contains(n));
    let archives: Vec<&ArtifactName> = found.results().flat_map(|h| h.archives.iter().map(|(a, _)| a)).collect();
    let groups: Vec<_> = found.slots.iter().map(|s| s.group.clone()).collect();
    let got = stage_archives(&topo, &names, &archives, &groups, app.platform().as_str(), &pick.exclude_components);
    Ok(StageSelection {
        stage: pick.stage.clone().unwrap_or_else(|| "all".into()),
        therock_commit: commit,
        stage_artifacts: names.into_iter().collect(),
        archives: got.held,
        missing_artifacts: got.missing,
    })
}

/// `find --stage`: what `find` found, and the stage's part of it.
#[derive(Debug, Clone)]
pub struct StageFound {
    pub found: Found,
    pub selection: Option<StageSelection>,
}

pub async fn find(app: &App, subject: &crate::config::Subject, pick: &StagePick) -> Result<StageFound> {
    let found = super::find::run(app, subject).await?;
    let selection = if found.found() { Some(select(app, &found, pick).await?) } else { None };
    Ok(StageFound { found, selection })
}

impl super::Conclusion for StageFound {
    fn found(&self) -> bool {
        self.selection.as_ref().is_some_and(|s| !s.archives.is_empty())
    }
    fn resolved(&self) -> Option<&Found> {
        Some(&self.found)
    }
    fn artifact_names(&self) -> Vec<String> {
        self.selection.as_ref().map(|s| s.archives.clone()).unwrap_or_default()
    }
}
