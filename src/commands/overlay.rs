//! The overlay: a full ROCm tree for a super-repo commit. Its run holds only the super-repo's
//! own projects, so the TheRock baseline of its pin (`resolve::baseline`, the super-repo pin
//! rules) is fetched first for the same groups, then the run's own archives over it (later
//! files win, as `flatten` does). With the cache, the shared TheRock part downloads once.

use anyhow::Result;
use std::path::Path;

use super::runner::{first_run_id, Runner};
use super::App;
use crate::config::{Query, Subject, WalkOptions};
use crate::domain::buckets::Repo;
use crate::domain::select::Found;
use crate::resolve;

/// Which archives of a step's tree came from which run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Layer {
    pub repo: String,
    pub commit: Option<String>,
    pub run_id: Option<u64>,
    pub archives: Vec<String>,
}

impl Layer {
    fn of(found: &Found, archives: Vec<String>) -> Layer {
        Layer { repo: found.repo.full(), commit: found.commit.clone(), run_id: first_run_id(found), archives }
    }
}

/// The TheRock baseline of super-repo commit `sha`'s pin, for `q`'s groups (`Err(why)` when it
/// has none: the step cannot be tested).
pub async fn base_of(app: &App, q: &Query, sha: &str) -> Result<Result<Found, String>> {
    let walk = WalkOptions {
        base_branch: None,
        max_commits: 100,
        therock_repo: Repo::parse("ROCm/TheRock").expect("a repository name"),
        therock_workflow: None,
        max_age_hours: None,
    };
    let b = resolve::baseline(&app.resolver_for(q), &Subject::Commit { sha: sha.to_string(), local_only: false }, &walk).await?;
    if b.found.found() {
        Ok(Ok(b.found))
    } else {
        Ok(Err(format!("the TheRock baseline of its pin ({}) has no artifacts for the groups", b.therock_ref.as_deref().unwrap_or("no pin"))))
    }
}

/// Fetches `layers` into `tree` in order (later files win); the bytes downloaded and which
/// archives came from which run.
pub async fn fetch(runner: &Runner<'_>, layers: &[&Found], tree: &Path) -> Result<(u64, Vec<Layer>)> {
    let mut bytes = 0;
    let mut out = Vec::new();
    for found in layers {
        let (b, names) = runner.fetch_named(found, tree).await?;
        bytes += b;
        out.push(Layer::of(found, names));
    }
    Ok((bytes, out))
}
