//! Resolve over in-memory sources: the seam a shared index will use, as a decorator that
//! counts what reaches the source beneath it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use super::{find, latest, Missing, ResolveError, Resolver};
use crate::config::{Query, Subject};
use crate::domain::artifacts::{ListedObject, RunListing};
use crate::domain::buckets::{Platform, Repo, RunLocation};
use crate::domain::families::ArtifactGroup;
use crate::domain::manifest::Manifest;
use crate::domain::run::{Commit, Job, Run};
use crate::domain::status::{Conclusion, RunStatus};
use crate::s3::S3Error;
use crate::sources::github::GhError;
use crate::sources::{ListingSource, PullHead, RunFilter, RunPages, RunSource};

/// Commits `c0` (newest) .. `cN` of `main`, runs by commit, archives by run id.
#[derive(Default)]
struct Memory {
    commits: Vec<Commit>,
    runs: HashMap<String, Vec<Run>>,
    archives: HashMap<u64, Vec<&'static str>>,
}

struct Pages(Option<Vec<Run>>);

#[async_trait]
impl RunPages for Pages {
    async fn next_page(&mut self) -> Result<Vec<Run>, GhError> {
        Ok(self.0.take().unwrap_or_default())
    }
    fn complete(&self) -> bool {
        self.0.is_none()
    }
    fn pages(&self) -> u32 {
        u32::from(self.0.is_none())
    }
}

#[async_trait]
impl RunSource for Memory {
    async fn runs_for_commit(&self, _: &Repo, _: &str, sha: &str, _: usize) -> Result<Vec<Run>, GhError> {
        Ok(self.runs.get(sha).cloned().unwrap_or_default())
    }
    fn branch_pager<'a>(&'a self, _: &Repo, _: &str, _: &[RunFilter]) -> Box<dyn RunPages + 'a> {
        Box::new(Pages(Some(self.runs.values().flatten().cloned().collect())))
    }
    async fn run(&self, repo: &Repo, id: u64) -> Result<Run, GhError> {
        self.runs.values().flatten().find(|r| r.id == id).cloned().ok_or_else(|| GhError::NotFound(format!("run {id} of {repo}")))
    }
    async fn jobs(&self, _: &Repo, _: u64) -> Result<Vec<Job>, GhError> {
        Ok(Vec::new())
    }
    async fn changed_files(&self, _: &Repo, _: &str, _: &str) -> Result<Vec<String>, GhError> {
        Ok(Vec::new())
    }
    async fn commit(&self, _: &Repo, rev: &str) -> Result<Commit, GhError> {
        self.commits.iter().find(|c| c.sha.starts_with(rev)).cloned().ok_or_else(|| GhError::NotFound(rev.into()))
    }
    async fn commits(&self, _: &Repo, _: &str, max: usize) -> Result<Vec<Commit>, GhError> {
        Ok(self.commits.iter().take(max).cloned().collect())
    }
    async fn merge_base(&self, _: &Repo, _: &str, head: &str) -> Result<Commit, GhError> {
        Ok(Commit { sha: head.into(), ..Commit::default() })
    }
    async fn runs_of_commit(&self, _: &Repo, sha: &str, _: usize) -> Result<Vec<Run>, GhError> {
        Ok(self.runs.get(sha).cloned().unwrap_or_default())
    }
    async fn commits_until(&self, _: &Repo, _: &str, until: &str) -> Result<Vec<Commit>, GhError> {
        let t = crate::domain::time::parse_rfc3339(until);
        Ok(self.commits.iter().filter(|c| c.date <= t).take(1).cloned().collect())
    }
    async fn file_at(&self, _: &Repo, _: &str, _: &str) -> Result<Option<String>, GhError> {
        Ok(None)
    }
    async fn gitlink(&self, _: &Repo, _: &str, _: &str) -> Result<Option<String>, GhError> {
        Ok(None)
    }
    async fn compare(&self, repo: &Repo, base: &str, head: &str) -> Result<crate::sources::Comparison, GhError> {
        Err(GhError::NotFound(format!("comparison of {base}...{head} in {repo}")))
    }
    async fn commits_touching(&self, _: &Repo, _: &str, _: Option<&str>, _: Option<&str>, max: usize) -> Result<Vec<Commit>, GhError> {
        Ok(self.commits.iter().take(max).cloned().collect())
    }
    async fn pull(&self, _: &Repo, n: u64) -> Result<PullHead, GhError> {
        Err(GhError::NotFound(format!("pull request #{n}")))
    }
    async fn default_branch(&self, _: &Repo) -> Result<String, GhError> {
        Ok("main".into())
    }
    async fn explain_workflow_404(&self, _: &Repo, workflow: &str) -> GhError {
        GhError::NotFound(workflow.into())
    }
}

#[async_trait]
impl ListingSource for Memory {
    fn location(&self, repo: &Repo, run: &Run) -> RunLocation {
        let b = crate::domain::buckets::run_bucket(repo, None, None, &crate::domain::buckets::ReleaseType::Ci);
        RunLocation::new(b, run.id, Platform::Linux)
    }
    async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error> {
        let names = self.archives.get(&loc.run_id).cloned().unwrap_or_default();
        let objects: Vec<ListedObject> = names.iter().map(|n| ListedObject { filename: n.to_string(), size: 1, etag: None }).collect();
        Ok(Arc::new(RunListing::from_objects(&objects)))
    }
    async fn manifest(&self, _: &RunLocation) -> Option<Manifest> {
        None
    }
}

/// A decorator over a listing source, as an index would stand in front of S3.
struct Counted<'a> {
    inner: &'a dyn ListingSource,
    listings: AtomicU64,
}

#[async_trait]
impl ListingSource for Counted<'_> {
    fn location(&self, repo: &Repo, run: &Run) -> RunLocation {
        self.inner.location(repo, run)
    }
    async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error> {
        self.listings.fetch_add(1, Ordering::Relaxed);
        self.inner.listing(loc).await
    }
    async fn manifest(&self, loc: &RunLocation) -> Option<Manifest> {
        self.inner.manifest(loc).await
    }
}

fn sha(i: u32) -> String {
    format!("{i:040x}")
}

fn run(id: u64, commit: &str, conclusion: &str) -> Run {
    Run {
        id,
        head_sha: commit.into(),
        status: RunStatus::Completed,
        conclusion: Conclusion::parse(Some(conclusion)),
        created_at: Some("2026-01-01T00:00:00Z".into()),
        ..Run::default()
    }
}

fn query() -> Query {
    Query {
        repo: Repo::parse("ROCm/TheRock").unwrap(),
        workflow_flag: None,
        platform: Platform::Linux,
        groups: vec![ArtifactGroup::parse("gfx94X-dcgpu").unwrap()],
        required: Vec::new(),
        single_run: false,
        successful_run: true,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

/// `c0` has a failed run, `c1` a successful run without the group, `c2` one with it.
fn history() -> Memory {
    let mut m = Memory::default();
    for i in 0..4 {
        m.commits.push(Commit { sha: sha(i), parents: vec![sha(i + 1)], ..Commit::default() });
    }
    m.runs.insert(sha(0), vec![run(10, &sha(0), "failure")]);
    m.runs.insert(sha(1), vec![run(11, &sha(1), "success")]);
    m.runs.insert(sha(2), vec![run(12, &sha(2), "success")]);
    m.archives.insert(11, vec!["base_lib_generic.tar.zst"]);
    m.archives.insert(12, vec!["blas_lib_gfx942.tar.zst"]);
    m
}

#[test]
fn latest_walks_the_branch_over_any_source_and_lists_only_commits_with_usable_runs() {
    let (m, q) = (history(), query());
    let counted = Counted { inner: &m, listings: AtomicU64::new(0) };
    let r = Resolver { runs: &m, listings: &counted, q: &q, checkout: None };
    let found = block_on(latest(&r, None, &crate::config::LatestFrom::Branch, 10)).unwrap();
    assert_eq!(found.commit.as_deref(), Some(sha(2).as_str()));
    assert!(found.found());
    assert_eq!(counted.listings.load(Ordering::Relaxed), 2, "the failed run of c0 is never listed");
}

#[test]
fn an_unknown_commit_or_run_is_a_named_missing_thing() {
    let (m, q) = (history(), query());
    let r = Resolver { runs: &m, listings: &m, q: &q, checkout: None };
    let e = block_on(find(&r, &Subject::Commit { sha: "abcdef1".into(), local_only: false })).unwrap_err();
    assert!(matches!(&e, ResolveError::Missing(Missing::Commit { sha, .. }) if sha == "abcdef1"), "{e}");
    assert_eq!(e.to_string(), "commit abcdef1 is not known to ROCm/TheRock on GitHub: it does not exist in ROCm/TheRock");
    let e = block_on(find(&r, &Subject::RunId(99))).unwrap_err();
    assert!(matches!(e, ResolveError::Missing(Missing::Run { id: 99, .. })));
}
