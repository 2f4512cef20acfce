//! The one gitlink reader: which commit a TheRock submodule is pinned to at a TheRock commit,
//! from the local checkout when it has the commit (`git ls-tree`, no request), else from the
//! contents API (`{"type": "submodule", "sha"}`).

use super::{ResolveError, Resolver};
use crate::domain::buckets::Repo;

/// The gitlink of `path` at `rev` in `therock`; `None` when `path` is no submodule there.
pub async fn gitlink(r: &Resolver<'_>, therock: &Repo, path: &str, rev: &str) -> Result<Option<String>, ResolveError> {
    if let Some(co) = r.checkout {
        if co.has_object(rev).await {
            if let Some(sha) = co.gitlink(rev, path).await {
                return Ok(Some(sha));
            }
        }
    }
    Ok(r.runs.gitlink(therock, path, rev).await?)
}
