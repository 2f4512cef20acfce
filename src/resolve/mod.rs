//! Resolve: which commit and which runs (find, latest, baseline, exec's subject, bisect's
//! range), as free functions over the sources (`RunSource`, `ListingSource`) and git.

mod baseline;
mod error;
mod find;
mod gitlink;
mod range;
mod subject;
mod superpin;
pub mod topology;
mod walk;

pub use baseline::{baseline, Baseline, BaselineReason};
pub use error::{Missing, OrMissing, ResolveError};
pub use find::{find, judge_subject, latest};
pub use gitlink::gitlink;
pub use range::{range, RangeCommit};
pub use superpin::ResolvedByTime;

use crate::config::Query;
use crate::domain::buckets::Repo;
use crate::domain::run::Run;
use crate::domain::select::{Hit, Selection, Slot};
use crate::domain::walk as rules;
use crate::sources::git::Checkout;
use crate::sources::github::GhError;
use crate::sources::{ListingSource, RunSource};

/// What one command resolves over: the sources the app built, the query, the checkout.
pub struct Resolver<'a> {
    pub runs: &'a dyn RunSource,
    pub listings: &'a dyn ListingSource,
    pub q: &'a Query,
    pub checkout: Option<&'a Checkout>,
}

/// Runs asked for per commit (one request for up to 100 runs).
const RUNS_PER_COMMIT: usize = 1000;

impl Resolver<'_> {
    /// Runs that may count, of any age: healthy builds, or successful runs only with
    /// `--require-successful-run`.
    fn run_rule_any_age(&self) -> rules::RunRule {
        rules::RunRule { require_success: self.q.successful_run, max_age: None }
    }
}

/// Groups from runs offered newest first, under the accumulate / single-run rule.
async fn groups_in_runs(r: &Resolver<'_>, repo: &Repo, runs: &[&Run]) -> Result<Vec<Slot>, ResolveError> {
    let mut sel = Selection::new(&r.q.groups, r.q.single_run);
    for run in runs {
        if sel.is_done() {
            break;
        }
        let location = r.listings.location(repo, run);
        let listing = r.listings.listing(&location).await?;
        let canonical = repo.canonical(run.repo.as_deref());
        let hits = sel.wanted().into_iter().map(|(i, g)| (i, Hit::in_listing(g, &canonical, run, &location, &listing, &r.q.required))).collect();
        sel.offer(hits);
    }
    Ok(sel.into_slots())
}

/// A 404 from a workflow's runs listing, told apart: no such repository, or no such workflow.
async fn explain_runs_error(r: &Resolver<'_>, repo: &Repo, workflow: &str, e: GhError) -> ResolveError {
    match e {
        GhError::NotFound(_) => r.runs.explain_workflow_404(repo, workflow).await.into(),
        e => e.into(),
    }
}

/// Every run of the workflow for a commit.
async fn runs_for_commit(r: &Resolver<'_>, repo: &Repo, workflow: &str, sha: &str) -> Result<Vec<Run>, ResolveError> {
    match r.runs.runs_for_commit(repo, workflow, sha, RUNS_PER_COMMIT).await {
        Ok(runs) => Ok(runs),
        Err(e) => Err(explain_runs_error(r, repo, workflow, e).await),
    }
}

#[cfg(test)]
mod tests;
