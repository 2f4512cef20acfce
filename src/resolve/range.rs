//! The commits between a good and a bad commit, and which of them have artifacts (for bisect),
//! read with the baseline walk's budget: one history listing, one branch runs listing.

use super::subject::full_sha;
use super::walk::{commits_from, judge_each};
use super::{ResolveError, Resolver};
use crate::domain::rejection::Rejection;
use crate::domain::run::Commit;
use crate::domain::select::Found;
use crate::domain::walk::WalkCommit;

/// One first-parent commit of `good..bad`, with its artifacts or why it has none.
#[derive(Debug, Clone)]
pub struct RangeCommit {
    pub commit: Commit,
    pub found: Result<Found, Rejection>,
}

/// The first-parent commits after `good` up to `bad`, oldest first, each judged as a walk would.
/// `Ok(Err(why))` when `good` is not a first-parent ancestor of `bad` within `max` commits.
pub async fn range(r: &Resolver<'_>, good: &str, bad: &str, branch: Option<&str>, max: usize) -> Result<Result<Vec<RangeCommit>, Rejection>, ResolveError> {
    let rule = r.run_rule_any_age();
    let repo = r.q.repo.clone();
    let workflow = r.q.workflow_for(&repo);
    let (good, bad) = (full_sha(r, &repo, good).await?, full_sha(r, &repo, bad).await?);
    let use_local = match r.checkout {
        Some(co) => co.has_object(&good).await && co.has_object(&bad).await,
        None => false,
    };
    let history = commits_from(r, &repo, &bad, use_local, max).await?;
    let Some(at) = history.iter().position(|c| c.sha == good) else {
        // Given the wrong way round? One more history listing, only on this failure.
        let swapped = commits_from(r, &repo, &good, use_local, max).await.is_ok_and(|h| h.iter().any(|c| c.sha == bad));
        return Ok(Err(Rejection::NotAncestor { good, bad, within: history.len(), repo, swapped }));
    };
    let between = &history[..at];
    let branch = match branch {
        Some(b) => b.to_string(),
        None if repo.is_therock_family() => "main".to_string(),
        None => r.runs.default_branch(&repo).await?,
    };
    let chain: Vec<WalkCommit> = between.iter().map(WalkCommit::from).collect();
    let judged = judge_each(r, &repo, &workflow, Some(&branch), &chain, rule).await?;
    let mut out: Vec<RangeCommit> = between
        .iter()
        .zip(judged)
        .map(|(c, j)| RangeCommit { commit: c.clone(), found: j.map(|(slots, _)| Found::at(repo.clone(), workflow.clone(), c.sha.clone(), slots)) })
        .collect();
    out.reverse();
    Ok(Ok(out))
}
