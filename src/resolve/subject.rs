//! A subject (a commit, a run, a pull request) to the full SHA of its commit: written once.

use super::{OrMissing, ResolveError, Resolver};
use crate::config::Subject;
use crate::domain::buckets::Repo;
use crate::domain::run::Run;
use crate::sources::PullHead;

use super::error::Missing;

/// The commit a subject names.
pub(super) struct SubjectCommit {
    /// The full SHA (as given, for a commit only the local checkout has).
    pub sha: String,
    /// The checkout has the commit but no remote does: CI never ran on it.
    pub local_only: bool,
    /// The run, when the subject was one.
    pub run: Option<Run>,
    /// The branch a pull request targets.
    pub pr_base: Option<String>,
}

/// The full SHA of a commit GitHub knows (a 40-digit SHA is taken as it is).
pub(super) async fn full_sha(r: &Resolver<'_>, repo: &Repo, sha: &str) -> Result<String, ResolveError> {
    if sha.len() == 40 {
        return Ok(sha.to_string());
    }
    let c = r.runs.commit(repo, sha).await.or_missing(|| Missing::Commit { repo: repo.clone(), sha: sha.to_string() })?;
    Ok(c.sha)
}

pub(super) async fn run_by_id(r: &Resolver<'_>, repo: &Repo, id: u64) -> Result<Run, ResolveError> {
    r.runs.run(repo, id).await.or_missing(|| Missing::Run { repo: repo.clone(), id })
}

async fn pull_head(r: &Resolver<'_>, repo: &Repo, number: u64) -> Result<PullHead, ResolveError> {
    r.runs.pull(repo, number).await.or_missing(|| Missing::Pull { repo: repo.clone(), number })
}

/// The commit `subject` names in `repo`. A commit only the local checkout has costs no request.
pub(super) async fn commit_of(r: &Resolver<'_>, repo: &Repo, subject: &Subject) -> Result<SubjectCommit, ResolveError> {
    let plain = |sha: String| SubjectCommit { sha, local_only: false, run: None, pr_base: None };
    Ok(match subject {
        Subject::Commit { sha, local_only: true } => SubjectCommit { local_only: true, ..plain(sha.clone()) },
        Subject::Commit { sha, .. } => plain(full_sha(r, repo, sha).await?),
        Subject::RunId(id) => {
            let run = run_by_id(r, repo, *id).await?;
            SubjectCommit { run: Some(run.clone()), ..plain(run.head_sha) }
        }
        Subject::Pr(n) => {
            let pull = pull_head(r, repo, *n).await?;
            SubjectCommit { pr_base: Some(pull.base_ref), ..plain(pull.sha) }
        }
        Subject::Ref(name) => plain(ref_commit(r, repo, name.as_deref()).await?),
    })
}

/// The commit a ref names: tried as a branch, then a tag, then a commit; no name is the head of
/// the repository's default branch.
async fn ref_commit(r: &Resolver<'_>, repo: &Repo, name: Option<&str>) -> Result<String, ResolveError> {
    let name = match name {
        Some(n) => n.to_string(),
        None => format!("heads/{}", r.runs.default_branch(repo).await.or_missing(|| Missing::Repo { repo: repo.clone() })?),
    };
    for candidate in crate::domain::sha::ref_candidates(&name) {
        match r.runs.commit(repo, &candidate).await {
            Ok(c) => return Ok(c.sha),
            Err(e) if e.is_missing() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Missing::Ref { repo: repo.clone(), name }.into())
}
