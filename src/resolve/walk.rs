//! Walking first-parent history for the first commit whose runs hold every group: the runs come
//! from one branch listing read lazily (not one query per commit), the groups from S3.

use anyhow::{bail, Result};
use std::collections::HashMap;

use super::{gh_err, Resolver};
use crate::domain::buckets::Repo;
use crate::domain::run::Run;
use crate::domain::select::{missing_reason, Slot};
use crate::domain::walk::{self as rules, History, WalkCommit, WalkOutcome};
use crate::github::{GhError, RunPager};

/// Pages of the branch's runs listing read at most per walk; older commits are asked about alone.
const MAX_PAGES: u32 = 5;

/// The runs of a branch, read lazily page by page and grouped by commit.
struct BranchRuns {
    by_sha: HashMap<String, Vec<Run>>,
    oldest: Option<i64>,
}

impl BranchRuns {
    fn add(&mut self, repo: &Repo, page: Vec<Run>) {
        for r in page {
            let created = r.created();
            self.oldest = match (self.oldest, created) {
                (Some(o), Some(c)) => Some(o.min(c)),
                (None, c) => c,
                (o, None) => o,
            };
            // Fork runs that merely share a branch name are never a baseline.
            if !r.is_from_fork_of(repo) {
                self.by_sha.entry(r.head_sha.clone()).or_default().push(r);
            }
        }
    }
}

/// The history a walk reads: runs from the branch listing, read lazily, or (for commits older
/// than the listing reaches) asked about one by one; groups from S3.
struct Branch<'r, 'a> {
    r: &'r Resolver<'a>,
    repo: &'r Repo,
    workflow: &'r str,
    pager: RunPager,
    known: BranchRuns,
}

impl History for Branch<'_, '_> {
    type Found = Vec<Slot>;
    type Error = anyhow::Error;

    async fn runs_of(&mut self, c: &WalkCommit) -> Result<Vec<Run>> {
        let (r, repo, workflow) = (self.r, self.repo, self.workflow);
        while !rules::listing_covers(c.date, self.known.oldest, self.pager.complete()) && self.pager.pages < MAX_PAGES {
            match r.gh.next_runs(&mut self.pager).await {
                Ok(page) => self.known.add(repo, page),
                Err(GhError::NotFound(_)) => return Err(gh_err(r.gh.explain_workflow_404(repo, workflow).await)),
                Err(e) => return Err(gh_err(e)),
            }
        }
        if rules::listing_covers(c.date, self.known.oldest, self.pager.complete()) {
            return Ok(self.known.by_sha.get(&c.sha).cloned().unwrap_or_default());
        }
        // Too old for the branch listing: ask about this commit alone.
        Ok(r.runs_for_commit(repo, workflow, &c.sha).await?.into_iter().filter(|run| !run.is_from_fork_of(repo)).collect())
    }

    async fn judge(&mut self, candidates: &[&Run]) -> Result<Result<Vec<Slot>, String>> {
        self.r.judge_candidates(self.repo, candidates).await
    }
}

impl Resolver<'_> {
    /// Walks `chain` (newest first), skipping the first `skip` commits (already judged), and
    /// returns the first commit whose completed, successful runs hold every group.
    pub(super) async fn walk_chain(
        &self,
        repo: &Repo,
        workflow: &str,
        branch: &str,
        chain: &[WalkCommit],
        skip: usize,
        extra_filters: &[(&str, &str)],
    ) -> Result<WalkOutcome<Vec<Slot>>> {
        let mut filters = vec![("branch", branch)];
        filters.extend_from_slice(extra_filters);
        let pager = self.gh.run_pager(repo, workflow, &filters);
        let mut history = Branch { r: self, repo, workflow, pager, known: BranchRuns { by_sha: HashMap::new(), oldest: None } };
        rules::walk(chain, skip, &mut history).await
    }

    /// Do candidate runs (completed, successful, newest first) hold every group?
    async fn judge_candidates(&self, repo: &Repo, cands: &[&Run]) -> Result<Result<Vec<Slot>, String>> {
        let slots = self.groups_in_runs(repo, cands).await?;
        if slots.iter().all(|s| s.hit.is_some()) {
            Ok(Ok(slots))
        } else {
            Ok(Err(missing_reason(&slots, cands)))
        }
    }

    /// Do these runs of one commit hold every group? `Ok(slots)` when they do, else the reason.
    async fn judge(&self, repo: &Repo, runs: &[Run]) -> Result<Result<Vec<Slot>, String>> {
        let refs: Vec<&Run> = runs.iter().collect();
        let cands = rules::candidates(&refs);
        if cands.is_empty() {
            return Ok(Err(rules::reject_reason(&refs)));
        }
        self.judge_candidates(repo, &cands).await
    }

    /// The exact check: do the commit's own completed, successful runs hold every group?
    /// Fork PR runs of this very commit count here: their artifacts are of this commit.
    pub(super) async fn exact(&self, repo: &Repo, workflow: &str, sha: &str) -> Result<Result<Vec<Slot>, String>> {
        let runs = self.runs_for_commit(repo, workflow, sha).await?;
        self.judge(repo, &runs).await
    }

    /// First-parent history from `start`: from the local checkout when it has the whole
    /// history, else from the API.
    pub(super) async fn chain_from(&self, repo: &Repo, start: &str, use_local: bool, max: usize) -> Result<Vec<WalkCommit>> {
        if use_local {
            if let Some(co) = self.checkout.filter(|c| !c.is_shallow() && c.has_object(start)) {
                if let Some(list) = co.first_parents_dated(start, max) {
                    return Ok(list.into_iter().map(|(sha, date)| WalkCommit { sha, date }).collect());
                }
            }
        }
        let commits = match self.gh.commits(repo, start, max.max(1)).await {
            Ok(c) => c,
            Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => bail!("commit {start} is not known to {repo} on GitHub"),
            Err(e) => return Err(gh_err(e)),
        };
        Ok(rules::first_parent_chain(&commits, start, max))
    }
}
