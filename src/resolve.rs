//! Resolve: which commit and which runs (find, latest, baseline), from the GitHub API and git.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;

use crate::config::{Config, Subject};
use crate::domain::buckets::Repo;
use crate::domain::families::ArtifactGroup;
use crate::domain::pins::{self, PinRead, PIN_SOURCES};
use crate::domain::walk::{self, WalkCommit};
use crate::github::{GhError, GitHub, Run};
use crate::locate::{Hit, Locator};

pub struct Ctx {
    pub cfg: Config,
    pub gh: GitHub,
    pub loc: Locator,
}

/// One requested group: its complete hit, or the best partial one (required patterns missing).
#[derive(Debug, Clone)]
pub struct Slot {
    pub group: ArtifactGroup,
    pub hit: Option<Hit>,
    pub partial: Option<Hit>,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub repo: Repo,
    pub workflow: String,
    /// The commit whose artifacts these are (None: nothing resolved, e.g. `latest` found none).
    pub commit: Option<String>,
    pub slots: Vec<Slot>,
    /// Why nothing was found, for the human message.
    pub note: Option<String>,
}

impl Found {
    pub fn found(&self) -> bool {
        !self.slots.is_empty() && self.slots.iter().all(|s| s.hit.is_some())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    pub commit: String,
    pub distance: usize,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Baseline {
    /// The commit asked about.
    pub commit: String,
    pub found: Found,
    pub reason: Option<&'static str>,
    pub distance: Option<usize>,
    pub therock_ref: Option<String>,
    pub pin_source: Option<String>,
    pub baseline_run_id_hint: Option<u64>,
    pub looked_at: Vec<Rejected>,
    pub merge_base: Option<String>,
}

fn gh_err(e: GhError) -> anyhow::Error {
    anyhow!(e)
}

struct WalkOutcome {
    hit: Option<(WalkCommit, usize, Vec<Slot>)>,
    rejected: Vec<Rejected>,
}

impl Ctx {
    fn slots_empty(&self) -> Vec<Slot> {
        self.cfg.groups.iter().map(|g| Slot { group: g.clone(), hit: None, partial: None }).collect()
    }

    /// Groups from runs, newest first: accumulated across runs (a group found in a newer run
    /// is kept), or all from one run with `single_run`.
    pub async fn groups_in_runs(&self, repo: &Repo, runs: &[&Run], single_run: bool) -> Result<Vec<Slot>> {
        let mut slots = self.slots_empty();
        if single_run {
            for run in runs {
                let mut these = self.slots_empty();
                for s in these.iter_mut() {
                    if let Some(h) = self.loc.group_in_run(repo, run, &s.group, &self.cfg.required).await? {
                        if h.complete() {
                            s.hit = Some(h);
                        } else {
                            s.partial = Some(h);
                        }
                    }
                }
                if these.iter().all(|s| s.hit.is_some()) {
                    return Ok(these);
                }
                for (s, t) in slots.iter_mut().zip(these) {
                    if s.partial.is_none() {
                        s.partial = t.hit.or(t.partial);
                    }
                }
            }
            return Ok(slots);
        }
        for run in runs {
            for s in slots.iter_mut().filter(|s| s.hit.is_none()) {
                if let Some(h) = self.loc.group_in_run(repo, run, &s.group, &self.cfg.required).await? {
                    if h.complete() {
                        s.hit = Some(h);
                    } else if s.partial.is_none() {
                        s.partial = Some(h);
                    }
                }
            }
            if slots.iter().all(|s| s.hit.is_some()) {
                break;
            }
        }
        Ok(slots)
    }

    async fn full_sha(&self, repo: &Repo, sha: &str) -> Result<String> {
        if sha.len() == 40 {
            return Ok(sha.to_string());
        }
        match self.gh.commit(repo, sha).await {
            Ok(c) => Ok(c.sha),
            Err(GhError::NotFound(_)) => bail!("commit {sha} is not known to {repo} on GitHub"),
            Err(GhError::Refused { status: 422, .. }) => bail!("commit {sha} is not known to {repo} on GitHub"),
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

    /// Scenario 1.
    pub async fn find(&self) -> Result<Found> {
        let subject = self.cfg.subject.clone().ok_or_else(|| anyhow!("find needs --commit or --run-id"))?;
        self.find_subject(subject).await
    }

    pub async fn find_subject(&self, subject: Subject) -> Result<Found> {
        let repo = self.cfg.repo.clone();
        let workflow = self.cfg.workflow_for(&repo);
        let (commit, runs) = match subject {
            Subject::RunId(id) => {
                let run = match self.gh.run(&repo, id).await {
                    Ok(r) => r,
                    Err(GhError::NotFound(_)) => bail!("run {id} does not exist in {repo}"),
                    Err(e) => return Err(gh_err(e)),
                };
                (run.head_sha.clone(), vec![run])
            }
            Subject::Commit { sha, local_only: true } => {
                return Ok(Found {
                    repo,
                    workflow,
                    commit: Some(sha.clone()),
                    slots: self.slots_empty(),
                    note: Some(format!("commit {sha} exists only in the local checkout (no remote branch contains it), so CI never ran on it; `baseline` finds the artifacts it can reuse")),
                });
            }
            Subject::Commit { sha, .. } => {
                let sha = self.full_sha(&repo, &sha).await?;
                let runs = self.runs_for_commit(&repo, &workflow, &sha).await?;
                (sha, runs)
            }
            Subject::Pr(n) => {
                let (sha, _) = self.pull_head(&repo, n).await?;
                let runs = self.runs_for_commit(&repo, &workflow, &sha).await?;
                (sha, runs)
            }
        };
        let considered: Vec<&Run> = runs.iter().filter(|r| !self.cfg.require_successful_run || r.is_completed_success()).collect();
        let note = if runs.is_empty() {
            Some(format!("no run of workflow {workflow} exists for commit {commit} in {repo}"))
        } else if considered.is_empty() {
            Some(format!(
                "none of the {} runs of {workflow} for commit {commit} completed successfully ({})",
                runs.len(),
                walk::reject_reason(&runs.iter().collect::<Vec<_>>())
            ))
        } else {
            None
        };
        let slots = self.groups_in_runs(&repo, &considered, self.cfg.require_single_run).await?;
        Ok(Found { repo, workflow, commit: Some(commit), slots, note })
    }

    /// The newest commit of a branch whose completed, successful runs hold every group.
    pub async fn latest(&self) -> Result<Found> {
        let repo = self.cfg.repo.clone();
        let workflow = self.cfg.workflow_for(&repo);
        let branch = match &self.cfg.branch {
            Some(b) => b.clone(),
            None => self.gh.default_branch(&repo).await.map_err(|e| match e {
                GhError::NotFound(_) => anyhow!("repository {repo} does not exist on GitHub (or the token cannot see it)"),
                e => gh_err(e),
            })?,
        };
        let commits = match self.gh.commits(&repo, &branch, self.cfg.max_commits).await {
            Ok(c) => c,
            Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => bail!("branch {branch} does not exist in {repo}"),
            Err(e) => return Err(gh_err(e)),
        };
        let chain: Vec<WalkCommit> = commits.iter().map(|c| WalkCommit { sha: c.sha.clone(), date: c.date() }).collect();
        let out = self.walk_chain(&repo, &workflow, &branch, &chain, 0, &[("status", "success")]).await?;
        Ok(match out.hit {
            Some((c, _, slots)) => Found { repo, workflow, commit: Some(c.sha), slots, note: None },
            None => Found {
                repo: repo.clone(),
                workflow,
                commit: None,
                slots: self.slots_empty(),
                note: Some(format!("none of the newest {} commits of {branch} in {repo} has completed, successful runs holding every group", chain.len())),
            },
        })
    }

    /// Walks `chain` (newest first), skipping the first `skip` commits (already judged), and
    /// returns the first commit whose completed, successful runs hold every group.
    async fn walk_chain(
        &self,
        repo: &Repo,
        workflow: &str,
        branch: &str,
        chain: &[WalkCommit],
        skip: usize,
        extra_filters: &[(&str, &str)],
    ) -> Result<WalkOutcome> {
        let mut filters = vec![("branch", branch)];
        filters.extend_from_slice(extra_filters);
        let mut pager = self.gh.run_pager(repo, workflow, &filters);
        let mut by_sha: HashMap<String, Vec<Run>> = HashMap::new();
        let mut oldest: Option<i64> = None;
        let mut rejected = Vec::new();
        const MAX_PAGES: u32 = 5;
        for (distance, c) in chain.iter().enumerate().skip(skip) {
            while !walk::listing_covers(c.date, oldest, pager.complete()) && pager.pages < MAX_PAGES {
                let page = match self.gh.next_runs(&mut pager).await {
                    Ok(p) => p,
                    Err(GhError::NotFound(_)) => return Err(gh_err(self.gh.explain_workflow_404(repo, workflow).await)),
                    Err(e) => return Err(gh_err(e)),
                };
                for r in page {
                    let created = r.created_at.as_deref().and_then(crate::domain::time::parse_rfc3339);
                    oldest = match (oldest, created) {
                        (Some(o), Some(c)) => Some(o.min(c)),
                        (None, c) => c,
                        (o, None) => o,
                    };
                    if !r.is_from_fork_of(repo) {
                        by_sha.entry(r.head_sha.clone()).or_default().push(r);
                    }
                }
            }
            let runs: Vec<Run> = if walk::listing_covers(c.date, oldest, pager.complete()) {
                by_sha.get(&c.sha).cloned().unwrap_or_default()
            } else {
                // Too old for the branch listing: ask about this commit alone.
                self.runs_for_commit(repo, workflow, &c.sha).await?.into_iter().filter(|r| !r.is_from_fork_of(repo)).collect()
            };
            let refs: Vec<&Run> = runs.iter().collect();
            let cands = walk::candidates(&refs);
            if cands.is_empty() {
                rejected.push(Rejected { commit: c.sha.clone(), distance, reason: walk::reject_reason(&refs) });
                continue;
            }
            let slots = self.groups_in_runs(repo, &cands, self.cfg.require_single_run).await?;
            if slots.iter().all(|s| s.hit.is_some()) {
                return Ok(WalkOutcome { hit: Some((c.clone(), distance, slots)), rejected });
            }
            rejected.push(Rejected { commit: c.sha.clone(), distance, reason: missing_reason(&slots, &cands) });
        }
        Ok(WalkOutcome { hit: None, rejected })
    }

    /// The exact check: does the commit's own set of completed, successful runs hold every group?
    async fn exact(&self, repo: &Repo, workflow: &str, sha: &str) -> Result<(Vec<Slot>, Option<String>)> {
        let runs = self.runs_for_commit(repo, workflow, sha).await?;
        // Fork PR runs of this very commit count here: their artifacts are of this commit.
        let refs: Vec<&Run> = runs.iter().collect();
        let cands = walk::candidates(&refs);
        if cands.is_empty() {
            return Ok((self.slots_empty(), Some(walk::reject_reason(&refs))));
        }
        let slots = self.groups_in_runs(repo, &cands, self.cfg.require_single_run).await?;
        if slots.iter().all(|s| s.hit.is_some()) {
            Ok((slots, None))
        } else {
            let reason = missing_reason(&slots, &cands);
            Ok((slots, Some(reason)))
        }
    }

    /// First-parent history from `start`: from the local checkout when it has the whole
    /// history, else from the API.
    async fn chain_from(&self, repo: &Repo, start: &str, use_local: bool) -> Result<Vec<WalkCommit>> {
        let n = self.cfg.max_commits;
        if use_local {
            if let Some(co) = self.cfg.checkout.as_ref().filter(|c| !c.is_shallow() && c.has_object(start)) {
                if let Some(list) = co.first_parents_dated(start, n) {
                    return Ok(list.into_iter().map(|(sha, date)| WalkCommit { sha, date }).collect());
                }
            }
        }
        let commits = match self.gh.commits(repo, start, n.max(1)).await {
            Ok(c) => c,
            Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => bail!("commit {start} is not known to {repo} on GitHub"),
            Err(e) => return Err(gh_err(e)),
        };
        Ok(walk::first_parent_chain(&commits, start, n))
    }

    /// Scenario 2.
    pub async fn baseline(&self) -> Result<Baseline> {
        let repo = self.cfg.repo.clone();
        let subject = self.cfg.subject.clone().ok_or_else(|| anyhow!("baseline needs --commit"))?;
        let (sha, local_only, pr_base) = match subject {
            Subject::Commit { sha, local_only } => (sha, local_only, None),
            Subject::Pr(n) => {
                let (sha, base) = self.pull_head(&repo, n).await?;
                (sha, false, Some(base))
            }
            Subject::RunId(id) => {
                let run = self.gh.run(&repo, id).await.map_err(gh_err)?;
                (run.head_sha, false, None)
            }
        };
        let sha = if local_only { sha } else { self.full_sha(&repo, &sha).await? };
        if repo.is_therock_family() {
            self.baseline_therock(repo, sha, local_only, pr_base).await
        } else {
            self.baseline_pinned(repo, sha, local_only).await
        }
    }

    async fn baseline_therock(&self, repo: Repo, sha: String, local_only: bool, pr_base: Option<String>) -> Result<Baseline> {
        let workflow = self.cfg.workflow_for(&repo);
        let base_branch = self.cfg.base_branch.clone().or(pr_base).unwrap_or_else(|| "main".to_string());
        let mut looked_at = Vec::new();
        if !local_only {
            let (slots, why) = self.exact(&repo, &workflow, &sha).await?;
            match why {
                None => {
                    return Ok(Baseline {
                        commit: sha.clone(),
                        found: Found { repo, workflow, commit: Some(sha), slots, note: None },
                        reason: Some("exact"),
                        distance: Some(0),
                        therock_ref: None,
                        pin_source: None,
                        baseline_run_id_hint: None,
                        looked_at,
                        merge_base: None,
                    })
                }
                Some(why) => looked_at.push(Rejected { commit: sha.clone(), distance: 0, reason: format!("the commit itself: {why}") }),
            }
        }
        // Merge-base with the base branch: locally when origin/<base> is there, else the API.
        let remote_ref = format!("origin/{base_branch}");
        let local = self.cfg.checkout.as_ref().filter(|c| c.has_object(&sha) && c.has_ref(&remote_ref));
        let merge_base = match local {
            Some(co) => co.merge_base(&sha, &remote_ref).ok_or_else(|| anyhow!("commit {sha} shares no history with {remote_ref}"))?,
            None if local_only => bail!(
                "commit {sha} exists only in the local checkout and {remote_ref} is not there to compute its merge-base: run `git fetch origin {base_branch}`"
            ),
            None => match self.gh.merge_base(&repo, &base_branch, &sha).await {
                Ok(m) => m,
                Err(GhError::NotFound(_)) => match self.gh.commit(&repo, &sha).await {
                    Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => {
                        bail!("commit {sha} is not known to {repo} on GitHub nor to a local checkout")
                    }
                    _ => bail!("base branch {base_branch} does not exist in {repo}"),
                },
                Err(e) => return Err(gh_err(e)),
            },
        };
        let chain = self.chain_from(&repo, &merge_base, local.is_some()).await?;
        // The merge-base may be the commit itself (a commit on the base branch): judged already.
        let skip = usize::from(!local_only && chain.first().is_some_and(|c| c.sha == sha));
        let out = self.walk_chain(&repo, &workflow, &base_branch, &chain, skip, &[]).await?;
        looked_at.extend(out.rejected);
        let (found, distance) = match out.hit {
            Some((c, d, slots)) => (Found { repo: repo.clone(), workflow, commit: Some(c.sha), slots, note: None }, Some(d)),
            None => (
                Found {
                    repo: repo.clone(),
                    workflow,
                    commit: None,
                    slots: self.slots_empty(),
                    note: Some(format!(
                        "no commit within {} first-parent commits of {base_branch} back from merge-base {} has completed, successful runs holding every group (looked at {} commits)",
                        self.cfg.max_commits,
                        short(&merge_base),
                        chain.len()
                    )),
                },
                None,
            ),
        };
        Ok(Baseline {
            commit: sha,
            reason: found.found().then_some("ancestor"),
            found,
            distance,
            therock_ref: None,
            pin_source: None,
            baseline_run_id_hint: None,
            looked_at,
            merge_base: Some(merge_base),
        })
    }

    /// Reads the pinned TheRock commit of a super-repo commit.
    async fn read_pin(&self, repo: &Repo, sha: &str, local_only: bool) -> Result<(String, String, Option<u64>)> {
        let local = self.cfg.checkout.as_ref().filter(|c| c.has_object(sha));
        let mut notes = Vec::new();
        for (i, path) in PIN_SOURCES.iter().enumerate() {
            let text = match local {
                Some(co) => co.show(sha, path),
                None if local_only => None,
                None => self.gh.file_at(repo, path, sha).await.map_err(gh_err)?,
            };
            let Some(text) = text else {
                notes.push(format!("{path}: not present"));
                continue;
            };
            match pins::parse_source(i, &text) {
                Ok(PinRead::Pin { sha: pin, baseline_run_id }) => return Ok((pin, path.to_string(), baseline_run_id)),
                Ok(PinRead::NoPin(why)) => notes.push(format!("{path}: {why}")),
                Ok(PinRead::Invalid(why)) => bail!("the TheRock pin of {repo} at {sha} in {path} is invalid: {why}"),
                Err(e) => notes.push(format!("{path}: {e}")),
            }
        }
        bail!("no readable TheRock pin in {repo} at commit {sha}; read {}", notes.join("; "))
    }

    async fn baseline_pinned(&self, repo: Repo, sha: String, local_only: bool) -> Result<Baseline> {
        let (pin, source, hint) = self.read_pin(&repo, &sha, local_only).await?;
        let therock = self.cfg.therock_repo.clone();
        let workflow = self.cfg.workflow_flag.clone().unwrap_or_else(|| therock.default_workflow().to_string());
        let mut looked_at = Vec::new();
        let (slots, why) = self.exact(&therock, &workflow, &pin).await?;
        if why.is_none() {
            return Ok(Baseline {
                commit: sha,
                found: Found { repo: therock, workflow, commit: Some(pin.clone()), slots, note: None },
                reason: Some("therock-pin"),
                distance: Some(0),
                therock_ref: Some(pin),
                pin_source: Some(source),
                baseline_run_id_hint: hint,
                looked_at,
                merge_base: None,
            });
        }
        looked_at.push(Rejected { commit: pin.clone(), distance: 0, reason: format!("the pinned commit: {}", why.unwrap_or_default()) });
        let chain = self.chain_from(&therock, &pin, false).await?;
        let skip = usize::from(chain.first().is_some_and(|c| c.sha == pin));
        let out = self.walk_chain(&therock, &workflow, "main", &chain, skip, &[]).await?;
        looked_at.extend(out.rejected);
        let (found, distance) = match out.hit {
            Some((c, d, slots)) => (Found { repo: therock.clone(), workflow, commit: Some(c.sha), slots, note: None }, Some(d)),
            None => (
                Found {
                    repo: therock.clone(),
                    workflow,
                    commit: None,
                    slots: self.slots_empty(),
                    note: Some(format!(
                        "no {therock} commit within {} first-parent commits back from the pin {} has completed, successful runs holding every group",
                        self.cfg.max_commits,
                        short(&pin)
                    )),
                },
                None,
            ),
        };
        Ok(Baseline {
            commit: sha,
            reason: found.found().then_some("ancestor"),
            found,
            distance,
            therock_ref: Some(pin),
            pin_source: Some(source),
            baseline_run_id_hint: hint,
            looked_at,
            merge_base: None,
        })
    }
}

fn missing_reason(slots: &[Slot], runs: &[&Run]) -> String {
    let ids: Vec<String> = runs.iter().map(|r| r.id.to_string()).collect();
    let mut parts = Vec::new();
    for s in slots.iter().filter(|s| s.hit.is_none()) {
        match &s.partial {
            Some(p) => parts.push(format!("group {} lacks required artifacts {}", s.group.name, p.missing.join(", "))),
            None => parts.push(format!("group {} missing", s.group.name)),
        }
    }
    format!("{} in successful run(s) {}", parts.join(", "), ids.join(", "))
}

pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

pub async fn context(cfg: Config) -> Result<Ctx> {
    let token = crate::github::discover_token(cfg.token.clone()).await;
    if token.is_none() {
        eprintln!("warning: no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`); anonymous requests are limited to 60 an hour");
    }
    let gh = GitHub::new(crate::github::api_base_from_env(), token, crate::github::RetryPolicy::from_env())?;
    let s3 = crate::s3::S3::from_env().await.context("could not set up the S3 client")?;
    let loc = Locator::new(s3, cfg.platform, cfg.release.clone());
    Ok(Ctx { cfg, gh, loc })
}
