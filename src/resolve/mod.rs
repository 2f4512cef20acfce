//! Resolve: which commit and which runs (find, latest, baseline), from the GitHub API and git.

mod baseline;
mod range;
mod walk;

use anyhow::{anyhow, bail, Result};

pub use baseline::Baseline;
pub use range::RangeCommit;

use crate::config::{Query, Subject};
use crate::domain::buckets::Repo;
use crate::domain::run::Run;
use crate::domain::select::{Found, Hit, Selection, Slot};
use crate::domain::walk as rules;
use crate::git::Checkout;
use crate::github::{GhError, GitHub};
use crate::locate::Locator;

/// The lookups of one command, over the clients the app built.
pub struct Resolver<'a> {
    pub gh: &'a GitHub,
    pub loc: &'a Locator,
    pub q: &'a Query,
    pub checkout: Option<&'a Checkout>,
}

fn gh_err(e: GhError) -> anyhow::Error {
    anyhow!(e)
}

impl Resolver<'_> {
    fn none(&self, repo: Repo, workflow: String, commit: Option<String>, note: String) -> Found {
        Found::none(repo, workflow, commit, &self.q.groups, Some(note))
    }

    /// Groups from runs offered newest first, under the accumulate / single-run rule.
    pub async fn groups_in_runs(&self, repo: &Repo, runs: &[&Run]) -> Result<Vec<Slot>> {
        let mut sel = Selection::new(&self.q.groups, self.q.single_run);
        for run in runs {
            if sel.is_done() {
                break;
            }
            let location = self.loc.location(repo, run);
            let listing = self.loc.listing(&location).await?;
            let canonical = repo.canonical(run.repo.as_deref());
            let hits = sel.wanted().into_iter().map(|(i, g)| (i, Hit::in_listing(g, &canonical, run, &location, &listing, &self.q.required))).collect();
            sel.offer(hits);
        }
        Ok(sel.into_slots())
    }

    async fn full_sha(&self, repo: &Repo, sha: &str) -> Result<String> {
        if sha.len() == 40 {
            return Ok(sha.to_string());
        }
        match self.gh.commit(repo, sha).await {
            Ok(c) => Ok(c.sha),
            Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => bail!("commit {sha} is not known to {repo} on GitHub"),
            Err(e) => Err(gh_err(e)),
        }
    }

    /// Every run of the workflow for a commit (one request for up to 100 runs).
    pub async fn runs_for_commit(&self, repo: &Repo, workflow: &str, sha: &str) -> Result<Vec<Run>> {
        match self.gh.workflow_runs(repo, workflow, &[("head_sha", sha)], 1000).await {
            Ok(r) => Ok(r),
            Err(GhError::NotFound(_)) => Err(gh_err(self.gh.explain_workflow_404(repo, workflow).await)),
            Err(e) => Err(gh_err(e)),
        }
    }

    async fn pull_head(&self, repo: &Repo, n: u64) -> Result<(String, String)> {
        match self.gh.pull(repo, n).await {
            Ok(p) => Ok((p.head.sha, p.base.git_ref)),
            Err(GhError::NotFound(_)) => bail!("pull request #{n} does not exist in {repo}"),
            Err(e) => Err(gh_err(e)),
        }
    }

    async fn run_by_id(&self, repo: &Repo, id: u64) -> Result<Run> {
        match self.gh.run(repo, id).await {
            Ok(r) => Ok(r),
            Err(GhError::NotFound(_)) => bail!("run {id} does not exist in {repo}"),
            Err(e) => Err(gh_err(e)),
        }
    }

    /// Scenario 1: the runs of a commit (or one run), and the groups they hold.
    pub async fn find(&self, subject: &Subject) -> Result<Found> {
        let repo = self.q.repo.clone();
        let workflow = self.q.workflow_for(&repo);
        let (commit, runs) = match subject {
            Subject::RunId(id) => {
                let run = self.run_by_id(&repo, *id).await?;
                (run.head_sha.clone(), vec![run])
            }
            Subject::Commit { sha, local_only: true } => {
                let note = format!("commit {sha} exists only in the local checkout (no remote branch contains it), so CI never ran on it; `baseline` finds the artifacts it can reuse");
                return Ok(self.none(repo, workflow, Some(sha.clone()), note));
            }
            Subject::Commit { sha, .. } => {
                let sha = self.full_sha(&repo, sha).await?;
                let runs = self.runs_for_commit(&repo, &workflow, &sha).await?;
                (sha, runs)
            }
            Subject::Pr(n) => {
                let (sha, _) = self.pull_head(&repo, *n).await?;
                let runs = self.runs_for_commit(&repo, &workflow, &sha).await?;
                (sha, runs)
            }
        };
        let considered: Vec<&Run> = runs.iter().filter(|r| !self.q.successful_run || r.is_completed_success()).collect();
        let note = if runs.is_empty() {
            Some(format!("no run of workflow {workflow} exists for commit {commit} in {repo}"))
        } else if considered.is_empty() {
            let all: Vec<&Run> = runs.iter().collect();
            Some(format!(
                "none of the {} runs of {workflow} for commit {commit} completed successfully ({})",
                runs.len(),
                rules::RunRule::strict().reject_reason(&all)
            ))
        } else {
            None
        };
        let mut slots = self.groups_in_runs(&repo, &considered).await?;
        if !repo.is_therock_family() {
            self.add_therock_commits(&mut slots).await;
        }
        Ok(Found { repo, workflow, commit: Some(commit), slots, note })
    }

    /// Which TheRock commit each super-repo run built against (S3 only; no GitHub request).
    async fn add_therock_commits(&self, slots: &mut [Slot]) {
        let mut known: std::collections::HashMap<u64, Option<String>> = std::collections::HashMap::new();
        for h in slots.iter_mut().flat_map(|s| s.hit.iter_mut().chain(s.partial.iter_mut())) {
            if let std::collections::hash_map::Entry::Vacant(e) = known.entry(h.run.id) {
                e.insert(self.loc.therock_commit(&h.location).await);
            }
            h.therock_commit = known[&h.run.id].clone();
        }
    }

    /// Runs that may count, of any age: healthy builds, or successful runs only with
    /// `--require-successful-run`.
    pub(crate) fn run_rule_any_age(&self) -> rules::RunRule {
        rules::RunRule { require_success: self.q.successful_run, max_age: None }
    }

    /// A commit's own artifacts (for `exec`): its full SHA, and what was found or why nothing was.
    pub async fn judge_subject(&self, subject: &Subject) -> Result<(String, Result<Found, String>)> {
        let rule = self.run_rule_any_age();
        let repo = self.q.repo.clone();
        let workflow = self.q.workflow_for(&repo);
        let sha = match subject {
            Subject::Commit { sha, local_only: true } => return Ok((sha.clone(), Err("it exists only in the local checkout".into()))),
            Subject::Commit { sha, .. } => self.full_sha(&repo, sha).await?,
            Subject::RunId(id) => self.run_by_id(&repo, *id).await?.head_sha,
            Subject::Pr(n) => self.pull_head(&repo, *n).await?.0,
        };
        let found = match self.exact(&repo, &workflow, &sha, rule).await? {
            Ok((slots, _)) => Ok(Found { repo, workflow, commit: Some(sha.clone()), slots, note: None }),
            Err(why) => Err(why),
        };
        Ok((sha, found))
    }

    /// The newest commit of a branch whose completed, successful runs hold every group.
    pub async fn latest(&self, branch: Option<&str>, max_commits: usize) -> Result<Found> {
        let repo = self.q.repo.clone();
        let workflow = self.q.workflow_for(&repo);
        let branch = match branch {
            Some(b) => b.to_string(),
            None => self.gh.default_branch(&repo).await.map_err(|e| match e {
                GhError::NotFound(_) => anyhow!("repository {repo} does not exist on GitHub (or the token cannot see it)"),
                e => gh_err(e),
            })?,
        };
        let commits = match self.gh.commits(&repo, &branch, max_commits).await {
            Ok(c) => c,
            Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => bail!("branch {branch} does not exist in {repo}"),
            Err(e) => return Err(gh_err(e)),
        };
        let chain: Vec<rules::WalkCommit> = commits.iter().map(rules::WalkCommit::from).collect();
        let rule = self.run_rule_any_age();
        let out = self.walk_chain(&repo, &workflow, &branch, &chain, 0, rule).await?;
        Ok(match out.hit {
            Some((c, _, (slots, _))) => Found { repo, workflow, commit: Some(c.sha), slots, note: None },
            None => {
                let runs = rule.runs_phrase();
                let note = format!("none of the newest {} commits of {branch} in {repo} has {runs} holding every group", chain.len());
                self.none(repo, workflow, None, note)
            }
        })
    }
}
