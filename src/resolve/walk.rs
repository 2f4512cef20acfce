//! Walking first-parent history for the first commit whose runs hold every group: the runs come
//! from one branch listing read lazily (not one query per commit), the groups from S3.

use std::collections::HashMap;

use super::{explain_runs_error, runs_for_commit, Missing, OrMissing, ResolveError, Resolver};
use crate::domain::artifacts::RunListing;
use crate::domain::buckets::Repo;
use crate::domain::rejection::{Rejection, RunRejection};
use crate::domain::run::{build_jobs_healthy, Commit, Run};
use crate::domain::select::{missing_reason, Hit, Selection, Slot};
use crate::domain::walk::{self as rules, History, RunRule, Usable, WalkCommit, WalkOutcome};
use crate::sources::{RunFilter, RunPages};

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
    pager: Box<dyn RunPages + 'a>,
    known: BranchRuns,
}

/// Groups found for a commit, and a note when a run whose tests failed supplied them.
pub type Judged = (Vec<Slot>, Option<Rejection>);

impl History for Branch<'_, '_> {
    type Found = Judged;
    type Error = ResolveError;

    async fn runs_of(&mut self, c: &WalkCommit) -> Result<Vec<Run>, ResolveError> {
        let (r, repo, workflow) = (self.r, self.repo, self.workflow);
        while !rules::listing_covers(c.date, self.known.oldest, self.pager.complete()) && self.pager.pages() < MAX_PAGES {
            match self.pager.next_page().await {
                Ok(page) => self.known.add(repo, page),
                Err(e) => return Err(explain_runs_error(r, repo, workflow, e).await),
            }
        }
        if rules::listing_covers(c.date, self.known.oldest, self.pager.complete()) {
            return Ok(self.known.by_sha.get(&c.sha).cloned().unwrap_or_default());
        }
        // Too old for the branch listing: ask about this commit alone.
        Ok(runs_for_commit(r, repo, workflow, &c.sha).await?.into_iter().filter(|run| !run.is_from_fork_of(repo)).collect())
    }

    async fn judge(&mut self, candidates: &[(&Run, Usable)]) -> Result<Result<Judged, Rejection>, ResolveError> {
        judge_candidates(self.r, self.repo, candidates).await
    }
}

/// Walks `chain` (newest first), skipping the first `skip` commits (already judged), and
/// returns the first commit whose completed, successful runs hold every group. Runs come from
/// `branch`'s listing; without a branch, commit by commit.
pub(super) async fn walk_chain(
    r: &Resolver<'_>,
    repo: &Repo,
    workflow: &str,
    branch: Option<&str>,
    chain: &[WalkCommit],
    skip: usize,
    rule: RunRule,
) -> Result<WalkOutcome<Judged>, ResolveError> {
    let mut history = branch_history(r, repo, workflow, branch, rule);
    rules::walk(chain, skip, rule, &mut history).await
}

/// No branch listing: every commit's runs are asked about alone.
struct NoListing;

#[async_trait::async_trait]
impl RunPages for NoListing {
    async fn next_page(&mut self) -> Result<Vec<Run>, crate::sources::github::GhError> {
        Ok(Vec::new())
    }
    fn complete(&self) -> bool {
        false
    }
    fn pages(&self) -> u32 {
        MAX_PAGES
    }
}

/// The runs of `branch`, read lazily as a walk goes back (none: commit by commit).
fn branch_history<'r, 'a>(r: &'r Resolver<'a>, repo: &'r Repo, workflow: &'r str, branch: Option<&str>, rule: RunRule) -> Branch<'r, 'a> {
    // Only successful runs can count under the strict rule: let GitHub filter them.
    let pager: Box<dyn RunPages + 'a> = match branch {
        Some(branch) => {
            let mut filters = vec![RunFilter::Branch(branch.to_string())];
            if rule.require_success {
                filters.push(RunFilter::Status("success".into()));
            }
            r.runs.branch_pager(repo, workflow, &filters)
        }
        None => Box::new(NoListing),
    };
    Branch { r, repo, workflow, pager, known: BranchRuns { by_sha: HashMap::new(), oldest: None } }
}

/// Do candidate runs (newest first) hold every group? Successful runs supply groups as
/// `find` does; a run whose tests failed counts only when it holds every group on its own
/// and its build jobs were healthy, which costs one jobs request, asked only then.
async fn judge_candidates(r: &Resolver<'_>, repo: &Repo, cands: &[(&Run, Usable)]) -> Result<Result<Judged, Rejection>, ResolveError> {
    let mut sel = Selection::new(&r.q.groups, r.q.single_run);
    let (mut notes, mut took, mut listed) = (Vec::new(), None, Vec::new());
    for (run, usable) in cands {
        if sel.is_done() {
            break;
        }
        let location = r.listings.location(repo, run);
        let listing = r.listings.listing(&location).await?;
        listed.push(listing.clone());
        let canonical = repo.canonical(run.repo.as_deref());
        let hit = |g| Hit::in_listing(g, &canonical, run, &location, &listing, &r.q.required);
        if *usable == Usable::TestsFailed {
            let all_there = r.q.groups.iter().all(|g| hit(g).is_some_and(|h| h.complete()));
            if !all_there {
                notes.push(RunRejection::FailedWithoutEveryGroup { id: run.id });
                continue;
            }
            let jobs = r.runs.jobs(repo, run.id).await?;
            if let Err(why) = build_jobs_healthy(run.id, &jobs) {
                notes.push(why);
                continue;
            }
            took = Some(run.id);
        }
        let hits = sel.wanted().into_iter().map(|(i, g)| (i, hit(g))).collect();
        sel.offer(hits);
    }
    let runs: Vec<&Run> = cands.iter().map(|(r, _)| *r).collect();
    let slots = sel.into_slots();
    if slots.iter().all(|s| s.hit.is_some()) {
        let note = took.filter(|id| slots.iter().any(|s| s.hit.as_ref().is_some_and(|h| h.run.id == *id)));
        Ok(Ok((slots, note.map(|id| Rejection::TookFailedRun { id }))))
    } else {
        let listings: Vec<&RunListing> = listed.iter().map(|l| &**l).collect();
        Ok(Err(missing_reason(&slots, &runs, notes, &listings)))
    }
}

/// The exact check: do the commit's own completed, successful runs hold every group?
/// Fork PR runs of this very commit count here: their artifacts are of this commit.
pub(super) async fn exact(r: &Resolver<'_>, repo: &Repo, workflow: &str, sha: &str, rule: RunRule) -> Result<Result<Judged, Rejection>, ResolveError> {
    let runs = runs_for_commit(r, repo, workflow, sha).await?;
    judge_runs(r, repo, &runs, rule).await
}

/// Do these runs (newest first), under `rule`, hold every group?
pub(super) async fn judge_runs(r: &Resolver<'_>, repo: &Repo, runs: &[Run], rule: RunRule) -> Result<Result<Judged, Rejection>, ResolveError> {
    let refs: Vec<&Run> = runs.iter().collect();
    let cands = rule.candidates(&refs);
    if cands.is_empty() {
        return Ok(Err(rule.reject_reason(&refs)));
    }
    judge_candidates(r, repo, &cands).await
}

/// Judges each commit of `commits` (newest first) against `rule`, reading runs the way a
/// walk does (one branch listing, read lazily).
pub(super) async fn judge_each(
    r: &Resolver<'_>,
    repo: &Repo,
    workflow: &str,
    branch: Option<&str>,
    commits: &[WalkCommit],
    rule: RunRule,
) -> Result<Vec<Result<Judged, Rejection>>, ResolveError> {
    let mut history = branch_history(r, repo, workflow, branch, rule);
    let mut out = Vec::new();
    for c in commits {
        out.push(rules::judge_commit(c, rule, &mut history).await?);
    }
    Ok(out)
}

/// First-parent history from `start` with subjects and dates: from the local checkout when
/// it has the whole history, else from the API.
pub(super) async fn commits_from(r: &Resolver<'_>, repo: &Repo, start: &str, use_local: bool, max: usize) -> Result<Vec<Commit>, ResolveError> {
    if use_local {
        if let Some(co) = r.checkout {
            if !co.is_shallow().await && co.has_object(start).await {
                if let Some(list) = co.first_parent_commits(start, max).await {
                    return Ok(list);
                }
            }
        }
    }
    let commits = r.runs.commits(repo, start, max.max(1)).await.or_missing(|| Missing::Commit { repo: repo.clone(), sha: start.to_string() })?;
    Ok(rules::first_parent_commits(&commits, start, max))
}

/// First-parent history from `start`, as a walk reads it.
pub(super) async fn chain_from(r: &Resolver<'_>, repo: &Repo, start: &str, use_local: bool, max: usize) -> Result<Vec<WalkCommit>, ResolveError> {
    Ok(commits_from(r, repo, start, use_local, max).await?.iter().map(WalkCommit::from).collect())
}
