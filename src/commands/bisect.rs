//! `bisect`: find the first commit whose test fails, fetching each candidate's CI artifacts
//! instead of building it (`runner.rs` fetches and runs; `domain::bisect` picks the next commit).

use anyhow::{bail, Result};
use std::time::Instant;

use super::runner::{first_run_id, Workdir};
use super::App;
use crate::config::BisectOptions;
use crate::domain::bisect::{Bisection, Verdict};
use crate::domain::run::{short_sha, Commit};
use crate::domain::select::Found;
use crate::resolve::{self, RangeCommit};

/// One test run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub commit: String,
    pub run_id: Option<u64>,
    pub fetched_bytes: u64,
    pub exit_code: Option<i32>,
    pub verdict: Verdict,
    pub seconds: f64,
}

/// What the bisection proved.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The first commit with artifacts whose test failed (`None`: the given bad commit, which
    /// has no artifacts of its own, after every candidate tested good).
    pub first_bad: Option<Commit>,
    /// The last commit with artifacts whose test passed (`None`: the given good commit).
    pub last_good: Option<Commit>,
    /// The first-parent commits after `last_good` up to `first_bad`, oldest first: the change
    /// is in one of them.
    pub commits: Vec<Commit>,
    /// Candidates in that range whose test said "skip".
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct BisectReport {
    pub good: String,
    pub bad: String,
    pub steps: Vec<Step>,
    /// Commits of the range without artifacts, with the reason.
    pub without_artifacts: Vec<(String, String)>,
    pub candidates: usize,
    pub answer: Option<Answer>,
    /// Why there is no answer.
    pub note: Option<String>,
}

impl BisectReport {
    /// No bisection: `why`.
    pub fn none(good: &str, bad: &str, why: String) -> Self {
        BisectReport { good: good.into(), bad: bad.into(), steps: Vec::new(), without_artifacts: Vec::new(), candidates: 0, answer: None, note: Some(why) }
    }
}

pub async fn run(app: &App, o: &BisectOptions) -> Result<BisectReport> {
    let range = match resolve::range(&app.resolver(), &o.good, &o.bad, o.branch.as_deref(), o.max_commits).await? {
        Ok(r) => r,
        Err(why) => return Ok(BisectReport::none(&o.good, &o.bad, why.to_string())),
    };
    // The range is what follows good up to bad: empty only when both name one commit.
    if range.is_empty() {
        bail!("--good and --bad name the same commit {}: there is nothing to bisect", short_sha(&o.bad));
    }
    let work = Workdir::new(o.workdir.as_deref(), o.keep)?;
    let runner = app.runner(&o.pick, &o.cache_dir, &o.command);
    bisect(&o.good, &o.bad, range, &runner, &work).await
}

/// Bisects `range` (oldest first, not empty; the last is the given bad commit) with `runner`.
async fn bisect(good: &str, bad: &str, range: Vec<RangeCommit>, runner: &super::runner::Runner<'_>, work: &Workdir) -> Result<BisectReport> {
    let mut report = BisectReport { note: None, ..BisectReport::none(good, bad, String::new()) };
    let mut cands: Vec<(usize, Found)> = Vec::new();
    for (i, rc) in range.iter().enumerate() {
        match &rc.found {
            Ok(f) => cands.push((i, f.clone())),
            Err(why) => report.without_artifacts.push((rc.commit.sha.clone(), why.to_string())),
        }
    }
    report.candidates = cands.len();
    let bad_has_artifacts = cands.last().is_some_and(|(i, _)| *i + 1 == range.len());
    if !report.without_artifacts.is_empty() {
        crate::say!("bisect: {} of the {} commits after the good one have no artifacts and are skipped", report.without_artifacts.len(), range.len());
    }
    let mut b = Bisection::new(cands.len(), bad_has_artifacts);
    let mut step = 0;
    while let Some(k) = b.next() {
        if crate::interrupt::cancelled() {
            bail!("interrupted by {}", crate::interrupt::signal_name());
        }
        step += 1;
        let (i, found) = &cands[k];
        let sha = &range[*i].commit.sha;
        crate::say!("bisect: step {step} (about {} left): {} {}", b.tests_left(), short_sha(sha), range[*i].commit.subject.as_deref().unwrap_or(""));
        let started = Instant::now();
        let tree = work.root.join(format!("step-{step}-{}", short_sha(sha)));
        let fetched = runner.fetch(found, &tree).await?;
        let run_id = first_run_id(found);
        let code = runner.run(&tree, sha, run_id).await?;
        work.drop_tree(&tree);
        let verdict = Verdict::from_exit(code);
        crate::say!("bisect: {} is {}", short_sha(sha), verdict_word(verdict, code));
        report.steps.push(Step { commit: sha.clone(), run_id, fetched_bytes: fetched, exit_code: code, verdict, seconds: started.elapsed().as_secs_f64() });
        if verdict == Verdict::Abort {
            bail!(
                "the test exited {} on {}: bisection aborted (as `git bisect run` does for 128 or more)",
                code.map(|c| c.to_string()).unwrap_or("by a signal".into()),
                short_sha(sha)
            );
        }
        b.record(k, verdict);
    }
    let (good_k, bad_k) = b.answer();
    let lo = good_k.map(|g| cands[g].0);
    let hi = bad_k.map_or(range.len().saturating_sub(1), |k| cands[k].0);
    let from = lo.map_or(0, |l| l + 1);
    report.answer = Some(Answer {
        first_bad: bad_k.map(|k| range[cands[k].0].commit.clone()),
        last_good: lo.map(|l| range[l].commit.clone()),
        commits: range.get(from..=hi).unwrap_or_default().iter().map(|r| r.commit.clone()).collect(),
        skipped: b.skipped_between().into_iter().map(|k| range[cands[k].0].commit.sha.clone()).collect(),
    });
    Ok(report)
}

fn verdict_word(v: Verdict, code: Option<i32>) -> String {
    let c = code.map(|c| format!("exit {c}")).unwrap_or_else(|| "killed".into());
    match v {
        Verdict::Good => format!("good ({c})"),
        Verdict::Bad => format!("bad ({c})"),
        Verdict::Skip => format!("skipped ({c})"),
        Verdict::Abort => format!("an abort ({c})"),
    }
}

impl super::Conclusion for BisectReport {
    fn found(&self) -> bool {
        self.answer.is_some()
    }
}
