//! How resolving fails: something GitHub does not know (`Missing`, worded for the user), a
//! source's own error (kept typed), or a pin that cannot be read.

use crate::domain::buckets::Repo;
use crate::s3::S3Error;
use crate::sources::github::GhError;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Missing(#[from] Missing),
    #[error(transparent)]
    GitHub(#[from] GhError),
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error("the TheRock pin of {repo} at {sha} in {path} is invalid: {why}")]
    InvalidPin { repo: Repo, sha: String, path: &'static str, why: String },
    #[error("the multi-arch TheRock pin of {repo} at {sha} cannot be read: {why}")]
    MultiArchPin { repo: Repo, sha: String, why: String },
    #[error("could not resolve {therock} {branch} by time: {why}")]
    AtTime { therock: Repo, branch: String, why: String },
    #[error("no readable TheRock pin in {repo} at commit {sha}; read {}", .notes.join("; "))]
    NoPin { repo: Repo, sha: String, notes: Vec<String> },
    #[error("commit {sha} exists only in the local checkout and {remote_ref} is not there to compute its merge-base: run `git fetch origin {base_branch}`")]
    NoLocalBase { sha: String, remote_ref: String, base_branch: String },
}

/// Something the user named that does not exist (or the token cannot see).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("commit {sha} is not known to {repo} on GitHub: it does not exist in {repo}")]
    Commit { repo: Repo, sha: String },
    /// Neither GitHub nor the local checkout has it.
    #[error("commit {sha} is not known to {repo} on GitHub nor to a local checkout: it does not exist in {repo}")]
    CommitAnywhere { repo: Repo, sha: String },
    #[error("run {id} does not exist in {repo}")]
    Run { repo: Repo, id: u64 },
    #[error("pull request #{number} does not exist in {repo}")]
    Pull { repo: Repo, number: u64 },
    #[error("repository {repo} does not exist on GitHub (or the token cannot see it)")]
    Repo { repo: Repo },
    #[error("{name} is neither a branch, a tag nor a commit of {repo}")]
    Ref { repo: Repo, name: String },
    #[error("branch {branch} does not exist in {repo}")]
    Branch { repo: Repo, branch: String },
    #[error("base branch {branch} does not exist in {repo}")]
    BaseBranch { repo: Repo, branch: String },
    #[error("commit {sha} shares no history with {remote_ref}")]
    SharedHistory { sha: String, remote_ref: String },
}

/// `source.call(..).await.or_missing(|| Missing::..)?`: GitHub's "no such thing" (a 404, or
/// the 422 it gives for an unknown commit) becomes the named `Missing`; any other error stays.
pub trait OrMissing<T> {
    fn or_missing(self, missing: impl FnOnce() -> Missing) -> Result<T, ResolveError>;
}

impl<T> OrMissing<T> for Result<T, GhError> {
    fn or_missing(self, missing: impl FnOnce() -> Missing) -> Result<T, ResolveError> {
        match self {
            Ok(v) => Ok(v),
            Err(e) if e.is_missing() => Err(missing().into()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_and_unknown_commit_become_the_named_missing_thing_and_other_errors_stay() {
        let repo = Repo::parse("ROCm/TheRock").unwrap();
        let gone: Result<(), GhError> = Err(GhError::NotFound("run 5 of ROCm/TheRock".into()));
        let e = gone.or_missing(|| Missing::Run { repo: repo.clone(), id: 5 }).unwrap_err();
        assert!(matches!(&e, ResolveError::Missing(Missing::Run { id: 5, .. })));
        assert_eq!(e.to_string(), "run 5 does not exist in ROCm/TheRock");
        let unknown: Result<(), GhError> = Err(GhError::Refused { what: "x".into(), status: 422, message: "No commit found".into() });
        assert!(matches!(
            unknown.or_missing(|| Missing::Commit { repo: repo.clone(), sha: "abc1234".into() }),
            Err(ResolveError::Missing(Missing::Commit { .. }))
        ));
        let refused: Result<(), GhError> = Err(GhError::Refused { what: "x".into(), status: 403, message: "no".into() });
        assert!(matches!(refused.or_missing(|| Missing::Repo { repo }), Err(ResolveError::GitHub(GhError::Refused { status: 403, .. }))));
    }
}
