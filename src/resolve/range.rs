//! The commits between a good and a bad commit, and which of them have artifacts (for bisect),
//! read with the baseline walk's budget: one history listing, one branch runs listing.

use anyhow::Result;

use super::Resolver;
use crate::domain::run::{short_sha, Commit};
use crate::domain::select::Found;
use crate::domain::walk::WalkCommit;

/// One first-parent commit of `good..bad`, with its artifacts or why it has none.
#[derive(Debug, Clone)]
pub struct RangeCommit {
    pub commit: Commit,
    pub found: Result<Found, String>,
}

impl Resolver<'_> {
    /// The first-parent commits after `good` up to `bad`, oldest first, each judged as a walk would.
    /// `Ok(Err(why))` when `good` is not a first-parent ancestor of `bad` within `max` commits.
    pub async fn range(&self, good: &str, bad: &str, branch: Option<&str>, max: usize) -> Result<Result<Vec<RangeCommit>, String>> {
        let rule = self.run_rule_any_age();
        let repo = self.q.repo.clone();
        let workflow = self.q.workflow_for(&repo);
        let (good, bad) = (self.full_sha(&repo, good).await?, self.full_sha(&repo, bad).await?);
        let use_local = self.checkout.is_some_and(|c| c.has_object(&good) && c.has_object(&bad));
        let history = self.commits_from(&repo, &bad, use_local, max).await?;
        let Some(at) = history.iter().position(|c| c.sha == good) else {
            return Ok(Err(format!(
                "good commit {} is not a first-parent ancestor of bad commit {} within {} commits of {repo}",
                short_sha(&good),
                short_sha(&bad),
                history.len()
            )));
        };
        let between = &history[..at];
        let branch = match branch {
            Some(b) => b.to_string(),
            None if repo.is_therock_family() => "main".to_string(),
            None => self.gh.default_branch(&repo).await.map_err(super::gh_err)?,
        };
        let chain: Vec<WalkCommit> = between.iter().map(WalkCommit::from).collect();
        let judged = self.judge_each(&repo, &workflow, &branch, &chain, rule).await?;
        let mut out: Vec<RangeCommit> = between
            .iter()
            .zip(judged)
            .map(|(c, j)| {
                let found = j.map(|(slots, _)| Found { repo: repo.clone(), workflow: workflow.clone(), commit: Some(c.sha.clone()), slots, note: None });
                RangeCommit { commit: c.clone(), found }
            })
            .collect();
        out.reverse();
        Ok(Ok(out))
    }
}
