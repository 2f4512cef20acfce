//! Scenario 1: the runs of a commit (or one run) and the groups they hold; `latest`, the
//! newest commit of a branch that has them all; and `exec`'s commit, judged on its own.

use std::collections::HashMap;

use super::subject::commit_of;
use super::walk::{exact, walk_chain};
use super::{groups_in_runs, runs_for_commit, Missing, OrMissing, ResolveError, Resolver};
use crate::config::Subject;
use crate::domain::buckets::Repo;
use crate::domain::rejection::Rejection;
use crate::domain::run::Run;
use crate::domain::select::{Found, Slot};
use crate::domain::walk::{self as rules, WalkCommit};
use crate::sources::github::GhError;

/// The runs of a commit (or one run), and the groups they hold.
pub async fn find(r: &Resolver<'_>, subject: &Subject) -> Result<Found, ResolveError> {
    let repo = r.q.repo.clone();
    let workflow = r.q.workflow_for(&repo);
    let asked = commit_of(r, &repo, subject).await?;
    if asked.local_only {
        let note = format!(
            "commit {} exists only in the local checkout (no remote branch contains it), so CI never ran on it; `baseline` finds the artifacts it can reuse",
            asked.sha
        );
        return Ok(Found::none(repo, workflow, Some(asked.sha), &r.q.groups, Some(note)));
    }
    let commit = asked.sha;
    let by_run = asked.run.is_some();
    let runs = match asked.run {
        Some(run) => vec![run],
        None => runs_for_commit(r, &repo, &workflow, &commit).await?,
    };
    let considered: Vec<&Run> = runs.iter().filter(|run| !r.q.successful_run || run.is_completed_success()).collect();
    if runs.is_empty() && !by_run {
        commit_exists(r, &repo, &commit).await?;
    }
    let note = if runs.is_empty() {
        let fork = if repo.is_therock_family() && !repo.is_therock() {
            "; pull-request runs from forks are listed under the upstream repository: --repo ROCm/TheRock"
        } else {
            ""
        };
        Some(format!("no run of workflow {workflow} exists for commit {commit} in {repo}{fork}"))
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
    let mut slots = groups_in_runs(r, &repo, &considered).await?;
    let note = match note {
        None => what_runs_hold(r, &repo, &considered, &slots).await?,
        n => n,
    };
    if !repo.is_therock_family() {
        add_therock_commits(r, &mut slots).await;
    }
    Ok(Found { note, ..Found::at(repo, workflow, commit, slots) })
}

/// A commit without runs may not exist at all (a full SHA is not looked up otherwise): GitHub's
/// 422 "No commit found" says so; any other answer leaves the "no run" note to speak.
async fn commit_exists(r: &Resolver<'_>, repo: &Repo, sha: &str) -> Result<(), ResolveError> {
    match r.runs.commit(repo, sha).await {
        Err(GhError::Refused { status: 422, .. }) => Err(Missing::Commit { repo: repo.clone(), sha: sha.to_string() }.into()),
        _ => Ok(()),
    }
}

/// Why groups no run held are missing: each run's state and what it uploaded (listings are
/// cached: no new request). `None` when every group was found, or held without its patterns.
async fn what_runs_hold(r: &Resolver<'_>, repo: &Repo, runs: &[&Run], slots: &[Slot]) -> Result<Option<String>, ResolveError> {
    let missing: Vec<_> = slots.iter().filter(|s| s.hit.is_none() && s.partial.is_none()).map(|s| &s.group).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let mut said = Vec::new();
    for run in runs.iter().take(5) {
        let listing = r.listings.listing(&r.listings.location(repo, run)).await?;
        said.push(crate::domain::select::run_holds(run, &listing, &missing));
    }
    Ok((!said.is_empty()).then(|| said.join("; ")))
}

/// Which TheRock commit each super-repo run built against (S3 only; no GitHub request).
async fn add_therock_commits(r: &Resolver<'_>, slots: &mut [Slot]) {
    let mut known: HashMap<u64, Option<String>> = HashMap::new();
    for h in slots.iter_mut().flat_map(|s| s.hit.iter_mut().chain(s.partial.iter_mut())) {
        if let std::collections::hash_map::Entry::Vacant(e) = known.entry(h.run.id) {
            e.insert(r.listings.manifest(&h.location).await.and_then(|m| m.the_rock_commit).map(String::from));
        }
        h.therock_commit = known[&h.run.id].clone();
    }
}

/// A commit's own artifacts (for `exec`): its full SHA, and what was found or why nothing was.
pub async fn judge_subject(r: &Resolver<'_>, subject: &Subject) -> Result<(String, Result<Found, Rejection>), ResolveError> {
    let rule = r.run_rule_any_age();
    let repo = r.q.repo.clone();
    let workflow = r.q.workflow_for(&repo);
    let asked = commit_of(r, &repo, subject).await?;
    if asked.local_only {
        return Ok((asked.sha, Err(Rejection::LocalOnly)));
    }
    let sha = asked.sha;
    let found = exact(r, &repo, &workflow, &sha, rule).await?.map(|(slots, _)| Found::at(repo, workflow, sha.clone(), slots));
    Ok((sha, found))
}

/// The newest commit of a branch whose completed, successful runs hold every group.
pub async fn latest(r: &Resolver<'_>, branch: Option<&str>, max_commits: usize) -> Result<Found, ResolveError> {
    let repo = r.q.repo.clone();
    let workflow = r.q.workflow_for(&repo);
    let branch = match branch {
        Some(b) => b.to_string(),
        None => r.runs.default_branch(&repo).await.or_missing(|| Missing::Repo { repo: repo.clone() })?,
    };
    let commits = r.runs.commits(&repo, &branch, max_commits).await.or_missing(|| Missing::Branch { repo: repo.clone(), branch: branch.clone() })?;
    let chain: Vec<WalkCommit> = commits.iter().map(WalkCommit::from).collect();
    let rule = r.run_rule_any_age();
    let out = walk_chain(r, &repo, &workflow, &branch, &chain, 0, rule).await?;
    Ok(match out.hit {
        Some((c, _, (slots, _))) => Found::at(repo, workflow, c.sha, slots),
        None => {
            let runs = rule.runs_phrase();
            let note = format!("none of the newest {} commits of {branch} in {repo} has {runs} holding every group", chain.len());
            Found::none(repo, workflow, None, &r.q.groups, Some(note))
        }
    })
}
