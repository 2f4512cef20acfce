//! Scenario 1: the runs of a commit (or one run) and the groups they hold; `latest`, the
//! newest commit of a branch that has them all; and `exec`'s commit, judged on its own.

use std::collections::HashMap;

use super::subject::{commit_of, full_sha, run_by_id};
use super::superpin::commit_runs;
use super::walk::{judge_runs, walk_chain};
use super::{groups_in_runs, runs_for_commit, Missing, OrMissing, ResolveError, Resolver};
use crate::config::{LatestFrom, Subject};
use crate::domain::buckets::Repo;
use crate::domain::rejection::Rejection;
use crate::domain::run::short_sha;
use crate::domain::run::Run;
use crate::domain::select::{Found, Slot};
use crate::domain::sha::is_hex_commitish;
use crate::domain::walk::{self as rules, WalkCommit};
use crate::domain::workflows;
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
    let (runs, workflow) = match asked.run {
        Some(run) => (vec![run], workflow),
        None => commit_runs_in_order(r, &repo, workflow, &commit).await?,
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

/// A commit's runs in the order they answer groups. A super-repo without `--workflow`: one
/// repository-wide listing, the gating multi-arch CI's runs first, then the legacy CI's (the
/// workflow named in notes says both); else (or when GitHub has no such listing) the workflow's.
async fn commit_runs_in_order(r: &Resolver<'_>, repo: &Repo, workflow: String, sha: &str) -> Result<(Vec<Run>, String), ResolveError> {
    if !repo.is_therock_family() && r.q.workflow_flag.is_none() {
        if let Some(all) = commit_runs(r, repo, sha).await? {
            let files = workflows::workflow_files(repo);
            let ordered = workflows::candidate_order(&all, files, None).into_iter().cloned().collect();
            return Ok((ordered, files.join(" or ")));
        }
    }
    Ok((runs_for_commit(r, repo, &workflow, sha).await?, workflow))
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
    // A super-repo's commit: both CI workflows, the gating multi-arch one first (as `find`).
    let (runs, workflow) = commit_runs_in_order(r, &repo, workflow, &sha).await?;
    let found = judge_runs(r, &repo, &runs, rule).await?.map(|(slots, _)| Found::at(repo, workflow, sha.clone(), slots));
    Ok((sha, found))
}

/// The newest commit of a branch (or back from `--ref`) whose completed runs with healthy
/// builds hold every group; `--run-id`: that run's commit, when the run alone holds them.
pub async fn latest(r: &Resolver<'_>, branch: Option<&str>, from: &LatestFrom, max_commits: usize) -> Result<Found, ResolveError> {
    let repo = r.q.repo.clone();
    let workflow = r.q.workflow_for(&repo);
    let rule = r.run_rule_any_age();
    let (rev, listing) = match from {
        LatestFrom::Run(id) => return latest_run(r, *id).await,
        // A commit: resolved once; its runs asked commit by commit (no branch listing to read).
        LatestFrom::Ref(x) if is_hex_commitish(x) => (full_sha(r, &repo, x).await?, None),
        LatestFrom::Ref(b) => (b.clone(), Some(b.clone())),
        LatestFrom::Branch => {
            let b = match branch {
                Some(b) => b.to_string(),
                None => r.runs.default_branch(&repo).await.or_missing(|| Missing::Repo { repo: repo.clone() })?,
            };
            (b.clone(), Some(b))
        }
    };
    let commits = r.runs.commits(&repo, &rev, max_commits).await.or_missing(|| Missing::Branch { repo: repo.clone(), branch: rev.clone() })?;
    let chain: Vec<WalkCommit> = commits.iter().map(WalkCommit::from).collect();
    let out = walk_chain(r, &repo, &workflow, listing.as_deref(), &chain, 0, rule).await?;
    Ok(match out.hit {
        Some((c, _, (slots, _))) => Found::at(repo, workflow, c.sha, slots),
        None => {
            let runs = rule.runs_phrase();
            let what = if listing.is_some() { rev } else { format!("history back from {}", short_sha(&rev)) };
            let note = format!("none of the newest {} commits of {what} in {repo} has {runs} holding every group", chain.len());
            Found::none(repo, workflow, None, &r.q.groups, Some(note))
        }
    })
}

/// `latest --run-id`: the run judged alone under the rule of `latest`.
async fn latest_run(r: &Resolver<'_>, id: u64) -> Result<Found, ResolveError> {
    let repo = r.q.repo.clone();
    let run = run_by_id(r, &repo, id).await?;
    let workflow = run.workflow_file().unwrap_or_else(|| r.q.workflow_for(&repo));
    let sha = run.head_sha.clone();
    let judged = judge_runs(r, &repo, &[run], r.run_rule_any_age()).await?;
    Ok(match judged {
        Ok((slots, _)) => Found::at(repo, workflow, sha, slots),
        Err(why) => Found::none(repo, workflow, Some(sha), &r.q.groups, Some(format!("run {id}: {why}"))),
    })
}
