//! Scenario 2: the commit whose artifacts a build can reuse. TheRock: the commit itself, else
//! back from its merge-base with the base branch. Super-repos: the pinned TheRock commit, else
//! back from it. Both are one walk: judge a start commit, then first-parent history.

use super::error::Missing;
use super::subject::{commit_of, SubjectCommit};
use super::superpin::{read_super_pin, Ask, Pin, ResolvedByTime, SuperRead};
use super::walk::{chain_from, exact, walk_chain};
use super::{ResolveError, Resolver};
use crate::config::{Subject, WalkOptions};
use crate::domain::buckets::Repo;
use crate::domain::run::{short_sha, Run};
use crate::domain::select::Found;
use crate::domain::walk::{Rejected, RunRule};
use crate::domain::workflows::{candidate_order, workflow_files, HintVerdict};
use crate::sources::github::GhError;

/// Why the baseline is the commit it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineReason {
    /// The commit asked about has artifacts of its own.
    Exact,
    /// A first-parent ancestor (of the merge-base, or of the pin).
    Ancestor,
    /// The TheRock commit a super-repo commit pins.
    #[serde(rename = "therock-pin")]
    TheRockPin,
}

impl BaselineReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            BaselineReason::Exact => "exact",
            BaselineReason::Ancestor => "ancestor",
            BaselineReason::TheRockPin => "therock-pin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Baseline {
    /// The commit asked about.
    pub commit: String,
    pub found: Found,
    pub reason: Option<BaselineReason>,
    pub distance: Option<usize>,
    pub therock_ref: Option<String>,
    /// The file the pin was read from, and its line.
    pub pin_source: Option<String>,
    pub pin_line: Option<usize>,
    /// Which TheRock commit the super-repo commit's own newest run built against
    /// (`manifests/therock_manifest.json`), when it has one.
    pub therock_commit_built: Option<String>,
    pub baseline_run_id_hint: Option<u64>,
    /// The super-repo workflow whose pin was read.
    pub pin_workflow: Option<&'static str>,
    /// Set when the pin was a branch (or a release branch) turned into a commit by time.
    pub resolved_by_time: Option<ResolvedByTime>,
    /// Pins that disagree, bad files passed over (also said on stderr).
    pub pin_warnings: Vec<String>,
    /// ci-env's `baseline-run-id` judged against the pin.
    pub hint: Option<HintVerdict>,
    pub looked_at: Vec<Rejected>,
    pub merge_base: Option<String>,
}

/// Walking back from `start` (the merge-base, or the pin).
struct Walk<'w> {
    repo: Repo,
    workflow: String,
    branch: String,
    /// A commit already judged on its own (not judged again when the history starts with it).
    judged: Option<String>,
    start: String,
    use_local: bool,
    /// Says where the walk started, for the not-found note.
    from: String,
    opts: &'w WalkOptions,
    rule: RunRule,
}

/// The pieces of a baseline that do not depend on the walk.
struct Asked {
    commit: String,
    pin: Option<Pin>,
    built: Option<String>,
    merge_base: Option<String>,
}

/// The rule for runs of a baseline: healthy builds unless `--require-successful-run`, no
/// older than `--max-age-hours`.
fn run_rule(r: &Resolver<'_>, opts: &WalkOptions) -> RunRule {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    RunRule { max_age: opts.max_age_hours.map(|h| (h as i64 * 3600, now)), ..r.run_rule_any_age() }
}

pub async fn baseline(r: &Resolver<'_>, subject: &Subject, opts: &WalkOptions) -> Result<Baseline, ResolveError> {
    let repo = r.q.repo.clone();
    let asked = commit_of(r, &repo, subject).await?;
    if repo.is_therock_family() {
        baseline_therock(r, repo, asked.sha, asked.local_only, asked.pr_base, opts).await
    } else {
        baseline_pinned(r, repo, asked, opts).await
    }
}

async fn baseline_therock(
    r: &Resolver<'_>,
    repo: Repo,
    sha: String,
    local_only: bool,
    pr_base: Option<String>,
    opts: &WalkOptions,
) -> Result<Baseline, ResolveError> {
    let base_branch = opts.base_branch.clone().or(pr_base).unwrap_or_else(|| "main".to_string());
    let workflow = r.q.workflow_for(&repo);
    let asked = |merge_base: Option<String>| Asked { commit: sha.clone(), pin: None, built: None, merge_base };
    let mut looked_at = Vec::new();
    // The exact check comes first: a commit that is its own baseline costs no comparison.
    if !local_only {
        if let Some(found) = judge_alone(r, &repo, &workflow, &sha, "the commit itself", run_rule(r, opts), &mut looked_at).await? {
            return Ok(assemble(asked(None), found, Some(BaselineReason::Exact), Some(0), looked_at));
        }
    }
    // Merge-base with the base branch: locally when origin/<base> is there, else the API.
    let remote_ref = format!("origin/{base_branch}");
    let local = match r.checkout {
        Some(co) if co.has_object(&sha).await && co.has_ref(&remote_ref).await => Some(co),
        _ => None,
    };
    let merge_base = match local {
        Some(co) => co.merge_base(&sha, &remote_ref).await.ok_or_else(|| Missing::SharedHistory { sha: sha.clone(), remote_ref: remote_ref.clone() })?,
        None if local_only => return Err(ResolveError::NoLocalBase { sha, remote_ref, base_branch }),
        None => api_merge_base(r, &repo, &base_branch, &sha).await?,
    };
    let walk = Walk {
        repo,
        workflow,
        from: format!("{base_branch} back from merge-base {}", short_sha(&merge_base)),
        branch: base_branch,
        // The merge-base may be the commit itself (a commit on the base branch): judged already.
        judged: (!local_only).then(|| sha.clone()),
        start: merge_base.clone(),
        use_local: local.is_some(),
        opts,
        rule: run_rule(r, opts),
    };
    walk_back(r, walk, asked(Some(merge_base)), looked_at).await
}

async fn api_merge_base(r: &Resolver<'_>, repo: &Repo, base_branch: &str, sha: &str) -> Result<String, ResolveError> {
    match r.runs.merge_base(repo, base_branch, sha).await {
        // No comparison: either the commit or the base branch is unknown.
        Err(GhError::NotFound(_)) => match r.runs.commit(repo, sha).await {
            Err(e) if e.is_missing() => Err(Missing::CommitAnywhere { repo: repo.clone(), sha: sha.to_string() }.into()),
            _ => Err(Missing::BaseBranch { repo: repo.clone(), branch: base_branch.to_string() }.into()),
        },
        m => Ok(m?.sha),
    }
}

async fn baseline_pinned(r: &Resolver<'_>, repo: Repo, asked: SubjectCommit, opts: &WalkOptions) -> Result<Baseline, ResolveError> {
    let (sha, local_only) = (asked.sha, asked.local_only);
    let therock = opts.therock_repo.clone();
    let ask = Ask { sha: &sha, local_only, pr_base: asked.pr_base.as_deref(), base_flag: opts.base_branch.as_deref(), therock: &therock };
    let SuperRead { pin: read, runs } = read_super_pin(r, &repo, &ask).await?;
    let pin = read.sha.clone();
    let built = match (&runs, local_only) {
        (_, true) => None,
        (Some(runs), _) => built_by(r, &repo, runs, read.workflow).await,
        (None, _) => therock_commit_built(r, &repo, &sha).await,
    };
    if let Some(b) = built.as_deref().filter(|b| *b != pin) {
        crate::say!(
            "note: the newest run of {repo} at {} built against TheRock {b}, not the pin {pin} read from {} (an override?)",
            short_sha(&sha),
            read.path
        );
    }
    // On a super-repo, `--workflow` names the super-repo workflow; TheRock's walk keeps its own.
    let workflow = opts.therock_workflow.clone().unwrap_or_else(|| therock.default_workflow().to_string());
    let asked = Asked { commit: sha, pin: Some(read), built, merge_base: None };
    let mut looked_at = Vec::new();
    if let Some(found) = judge_alone(r, &therock, &workflow, &pin, "the pinned commit", run_rule(r, opts), &mut looked_at).await? {
        return Ok(assemble(asked, found, Some(BaselineReason::TheRockPin), Some(0), looked_at));
    }
    let walk = Walk {
        from: format!("{therock} back from the pin {}", short_sha(&pin)),
        repo: therock,
        workflow,
        branch: "main".into(),
        judged: Some(pin.clone()),
        start: pin.clone(),
        use_local: false,
        opts,
        rule: run_rule(r, opts),
    };
    walk_back(r, walk, asked, looked_at).await
}

/// Judges one commit on its own: its runs' groups when they hold every group, else `None`
/// with the reason recorded as `{label}: {reason}` at distance 0.
async fn judge_alone(
    r: &Resolver<'_>,
    repo: &Repo,
    workflow: &str,
    sha: &str,
    label: &'static str,
    rule: RunRule,
    looked_at: &mut Vec<Rejected>,
) -> Result<Option<Found>, ResolveError> {
    let at = |why, taken| Rejected { commit: sha.to_string(), distance: 0, label: Some(label), why, taken };
    match exact(r, repo, workflow, sha, rule).await? {
        Ok((slots, note)) => {
            looked_at.extend(note.map(|n| at(n, true)));
            Ok(Some(Found::at(repo.clone(), workflow.to_string(), sha.to_string(), slots)))
        }
        Err(why) => {
            looked_at.push(at(why, false));
            Ok(None)
        }
    }
}

/// The one walk of both kinds of baseline: first-parent history from the start commit.
async fn walk_back(r: &Resolver<'_>, w: Walk<'_>, asked: Asked, mut looked_at: Vec<Rejected>) -> Result<Baseline, ResolveError> {
    let chain = chain_from(r, &w.repo, &w.start, w.use_local, w.opts.max_commits).await?;
    let skip = usize::from(w.judged.as_ref().is_some_and(|c| chain.first().is_some_and(|f| &f.sha == c)));
    let out = walk_chain(r, &w.repo, &w.workflow, Some(&w.branch), &chain, skip, w.rule).await?;
    looked_at.extend(out.rejected);
    Ok(match out.hit {
        Some((c, d, (slots, note))) => {
            looked_at.extend(note.map(|why| Rejected { taken: true, ..Rejected::passed(&c.sha, d, why) }));
            let found = Found::at(w.repo, w.workflow, c.sha, slots);
            assemble(asked, found, Some(BaselineReason::Ancestor), Some(d), looked_at)
        }
        None => {
            let runs = w.rule.runs_phrase();
            let note = format!(
                "no commit within {} first-parent commits of {} has {runs} holding every group (looked at {} commits)",
                w.opts.max_commits,
                w.from,
                chain.len()
            );
            let found = Found::none(w.repo, w.workflow, None, &r.q.groups, Some(note));
            assemble(asked, found, None, None, looked_at)
        }
    })
}

/// Which TheRock commit the newest run of a super-repo commit built against, from the
/// `manifests/therock_manifest.json` in its S3 prefix. Best effort: one runs listing, no
/// error when there is no run or no manifest.
async fn therock_commit_built(r: &Resolver<'_>, repo: &Repo, sha: &str) -> Option<String> {
    let workflow = r.q.workflow_for(repo);
    let runs = r.runs.runs_for_commit(repo, &workflow, sha, 100).await.ok()?;
    let run = runs.into_iter().find(|run| !run.is_from_fork_of(repo))?;
    let location = r.listings.location(repo, &run);
    r.listings.manifest(&location).await?.the_rock_commit.map(String::from)
}

/// Which TheRock commit the newest run of `workflow` (of the runs listed) built against.
async fn built_by(r: &Resolver<'_>, repo: &Repo, runs: &[Run], workflow: Option<&str>) -> Option<String> {
    let run = candidate_order(runs, workflow_files(repo), workflow).into_iter().find(|run| !run.is_from_fork_of(repo))?;
    let location = r.listings.location(repo, run);
    r.listings.manifest(&location).await?.the_rock_commit.map(String::from)
}

fn assemble(a: Asked, found: Found, reason: Option<BaselineReason>, distance: Option<usize>, looked_at: Vec<Rejected>) -> Baseline {
    Baseline {
        commit: a.commit,
        found,
        reason,
        distance,
        therock_ref: a.pin.as_ref().map(|p| p.sha.clone()),
        pin_source: a.pin.as_ref().map(|p| p.path.clone()),
        pin_line: a.pin.as_ref().and_then(|p| p.line),
        baseline_run_id_hint: a.pin.as_ref().and_then(|p| p.hint),
        pin_workflow: a.pin.as_ref().and_then(|p| p.workflow),
        resolved_by_time: a.pin.as_ref().and_then(|p| p.by_time.clone()),
        pin_warnings: a.pin.as_ref().map(|p| p.warnings.clone()).unwrap_or_default(),
        hint: a.pin.and_then(|p| p.hint_verdict),
        therock_commit_built: a.built,
        looked_at,
        merge_base: a.merge_base,
    }
}

#[cfg(test)]
mod tests {
    use super::BaselineReason;

    #[test]
    fn reasons_serialize_as_the_documented_words() {
        for r in [BaselineReason::Exact, BaselineReason::Ancestor, BaselineReason::TheRockPin] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(BaselineReason::TheRockPin.as_str(), "therock-pin");
    }
}
