//! A TheRock commit's `BUILD_TOPOLOGY.toml` (the local checkout's file at that commit, else the
//! contents API, kept per commit in the cache directory), and the paths changed between two
//! commits (local `git diff --name-only` when the checkout has both, else the compare API).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Resolver;
use crate::domain::buckets::Repo;
use crate::domain::run::short_sha;
use crate::domain::topology::{Topology, FILE};

/// Where a commit's topology text is kept (only for full SHAs: they never change).
fn cached_path(cache_dir: &Path, repo: &Repo, sha: &str) -> Option<PathBuf> {
    (sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| cache_dir.join("topology").join(format!("{}-{}-{sha}.toml", repo.owner.to_ascii_lowercase(), repo.name.to_ascii_lowercase())))
}

/// The topology text at `sha`; `None` when the commit has no such file (older than stages).
async fn text_at(r: &Resolver<'_>, repo: &Repo, sha: &str, cache_dir: Option<&Path>) -> Result<Option<String>> {
    if let Some(co) = r.checkout {
        if co.has_object(sha).await {
            return Ok(co.show(sha, FILE).await);
        }
    }
    let cached = cache_dir.and_then(|d| cached_path(d, repo, sha));
    // Only a file nobody else could have planted: a shared cache does not choose the plan.
    if let Some(text) = cached.as_deref().and_then(crate::fetch::kept::read) {
        return Ok(Some(text));
    }
    let text = r.runs.file_at(repo, FILE, sha).await.with_context(|| format!("could not read {FILE} at {} of {repo}", short_sha(sha)))?;
    if let (Some(p), Some(t)) = (&cached, &text) {
        // Best effort: a cache that cannot be written costs one request next time.
        let _ = crate::fetch::kept::write(p, t);
    }
    Ok(text)
}

/// The topology of `repo` at `sha`, checked; `Ok(None)` when the commit has no topology file.
/// A broken file is one sentence naming the file, the commit and the table at fault.
pub async fn topology_at(r: &Resolver<'_>, repo: &Repo, sha: &str, cache_dir: Option<&Path>) -> Result<Option<Topology>> {
    let Some(text) = text_at(r, repo, sha, cache_dir).await? else { return Ok(None) };
    let topo = Topology::parse(&text).map_err(|e| anyhow::anyhow!("{FILE} at {} of {repo} is unusable: {} {}", short_sha(sha), e.table, e.why))?;
    Ok(Some(topo))
}

/// The paths changed from `base` to `head` in `repo`.
pub async fn changed_paths(r: &Resolver<'_>, repo: &Repo, base: &str, head: &str) -> Result<Vec<String>> {
    if base == head {
        return Ok(Vec::new());
    }
    if let Some(co) = r.checkout {
        if co.has_object(base).await && co.has_object(head).await {
            if let Some(paths) = co.changed_paths(base, head).await {
                return Ok(paths);
            }
        }
    }
    let files = r
        .runs
        .changed_files(repo, base, head)
        .await
        .with_context(|| format!("could not list the files changed from {} to {} in {repo}", short_sha(base), short_sha(head)))?;
    Ok(files)
}
