//! Where runs, commits and listings come from, behind two traits: `RunSource` (GitHub's runs,
//! jobs, commits and files) and `ListingSource` (a run's archive listing and manifest in S3).
//! Resolve asks only these traits, so a source that answers from elsewhere (a shared index)
//! can wrap the clients as a decorator without resolve changing.

pub mod git;
pub mod github;
pub mod listing;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::artifacts::RunListing;
use crate::domain::buckets::{Repo, RunLocation};
use crate::domain::manifest::Manifest;
use crate::domain::run::{Commit, Job, Run};
use crate::s3::S3Error;
use github::GhError;

/// One filter of a runs listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFilter {
    /// Runs of this commit.
    HeadSha(String),
    /// Runs whose head branch has this name.
    Branch(String),
    /// Runs of this status or conclusion (`success`).
    Status(String),
}

/// A pull request's head commit and the branch it targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullHead {
    pub sha: String,
    pub base_ref: String,
}

/// `compare/{base}...{head}`: how head relates to base (`identical`, `ahead`: head includes
/// base, `behind`, `diverged`), base's commit, and the commits head has that base lacks
/// (oldest first; GitHub lists at most 250 of the `ahead_by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub status: String,
    pub ahead_by: u64,
    pub base: Commit,
    pub commits: Vec<String>,
}

/// A listing of runs read page by page, for walks that may not need more than the first.
#[async_trait]
pub trait RunPages: Send {
    /// The next page, newest first; empty once the listing is complete.
    async fn next_page(&mut self) -> Result<Vec<Run>, GhError>;
    /// Whether every page has been read.
    fn complete(&self) -> bool;
    /// How many pages have been read.
    fn pages(&self) -> u32;
}

/// Runs, jobs, commits and files of repositories.
#[async_trait]
pub trait RunSource: Send + Sync {
    /// The workflow's runs for a commit, newest first (at most `max`).
    async fn runs_for_commit(&self, repo: &Repo, workflow: &str, sha: &str, max: usize) -> Result<Vec<Run>, GhError>;
    /// The workflow's runs under `filters`, newest first, read lazily.
    fn branch_pager<'a>(&'a self, repo: &Repo, workflow: &str, filters: &[RunFilter]) -> Box<dyn RunPages + 'a>;
    async fn run(&self, repo: &Repo, run_id: u64) -> Result<Run, GhError>;
    /// The jobs of a run's latest attempt.
    async fn jobs(&self, repo: &Repo, run_id: u64) -> Result<Vec<Job>, GhError>;
    async fn commit(&self, repo: &Repo, rev: &str) -> Result<Commit, GhError>;
    /// Ancestors of `rev` (a branch or SHA), newest first.
    async fn commits(&self, repo: &Repo, rev: &str, max: usize) -> Result<Vec<Commit>, GhError>;
    /// The merge base of `base...head` (with its committer date, when GitHub gives it).
    async fn merge_base(&self, repo: &Repo, base: &str, head: &str) -> Result<Commit, GhError>;
    /// Every workflow's runs for a commit, newest first (one repository-wide listing; each run's
    /// `path` names its workflow file).
    async fn runs_of_commit(&self, repo: &Repo, sha: &str, max: usize) -> Result<Vec<Run>, GhError>;
    /// The newest commits of `branch` committed at or before `until` (RFC 3339), newest first.
    async fn commits_until(&self, repo: &Repo, branch: &str, until: &str) -> Result<Vec<Commit>, GhError>;
    /// The paths changed between two commits (the compare API's `files`, every page); a
    /// submodule bump is its path.
    async fn changed_files(&self, repo: &Repo, base: &str, head: &str) -> Result<Vec<String>, GhError>;
    /// A file's text at a commit; `Ok(None)` when the file does not exist there.
    async fn file_at(&self, repo: &Repo, path: &str, rev: &str) -> Result<Option<String>, GhError>;
    async fn pull(&self, repo: &Repo, number: u64) -> Result<PullHead, GhError>;
    async fn compare(&self, repo: &Repo, base: &str, head: &str) -> Result<Comparison, GhError>;
    /// Ancestors of `rev` that changed `path` (when given), committed at or after `since` (an
    /// ISO 8601 time, when given), newest first.
    async fn commits_touching(&self, repo: &Repo, rev: &str, path: Option<&str>, since: Option<&str>, max: usize) -> Result<Vec<Commit>, GhError>;
    /// The commit the submodule at `path` is pinned to at `rev` (its gitlink, from the contents
    /// API's `{"type": "submodule", "sha"}`); `Ok(None)` when `path` is no submodule there.
    async fn gitlink(&self, repo: &Repo, path: &str, rev: &str) -> Result<Option<String>, GhError>;
    async fn default_branch(&self, repo: &Repo) -> Result<String, GhError>;
    /// After a 404 on a workflow's runs: no such repository, or no such workflow?
    async fn explain_workflow_404(&self, repo: &Repo, workflow: &str) -> GhError;
}

/// Where a run's archives are, what they are, and what the run built against.
#[async_trait]
pub trait ListingSource: Send + Sync {
    fn location(&self, repo: &Repo, run: &Run) -> RunLocation;
    async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error>;
    /// The run's `therock_manifest.json`, when it has one (best effort).
    async fn manifest(&self, loc: &RunLocation) -> Option<Manifest>;
}
