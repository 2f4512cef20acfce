//! `bisect`: find the first commit whose test fails, fetching each candidate's CI artifacts
//! instead of building it (`runner.rs` fetches and runs; `domain::bisect` picks the next commit).

use anyhow::{bail, Result};
use std::time::Instant;

use super::bump::Bump;
use super::overlay::{self, Layer};
use super::runner::{first_run_id, Runner, Workdir};
use super::App;
use crate::config::{BisectOptions, Ends, Query};
use crate::domain::bisect::{Bisection, Verdict};
use crate::domain::buckets::Repo;
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
    /// With `--overlay`: which archives came from which run (the TheRock baseline, then the
    /// commit's own run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
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
    /// The TheRock bump the range came from (`--bump`, `--good-therock`/`--bad-therock`).
    pub bump: Option<Bump>,
}

impl BisectReport {
    /// No bisection: `why`.
    pub fn none(good: &str, bad: &str, why: String) -> Self {
        BisectReport {
            good: good.into(),
            bad: bad.into(),
            steps: Vec::new(),
            without_artifacts: Vec::new(),
            candidates: 0,
            answer: None,
            note: Some(why),
            bump: None,
        }
    }
}

/// The range a bisection covers: the repository (in its query) and the two ends.
pub struct Span {
    pub query: Query,
    pub good: String,
    pub bad: String,
    pub bump: Option<Bump>,
}

/// The ends as given, or a bump's super-repo gitlinks.
pub async fn span(app: &App, ends: &Ends) -> Result<Span> {
    let q = &app.cfg.query;
    match ends {
        Ends::Commits { good, bad } => Ok(Span { query: q.clone(), good: good.clone(), bad: bad.clone(), bump: None }),
        Ends::Bump { good_therock, bad_therock, submodule } => {
            let bump = super::bump::resolve(app, good_therock.as_deref(), bad_therock, submodule.as_deref()).await?;
            let repo = Repo::parse(&bump.repo).map_err(anyhow::Error::msg)?;
            if bump.good == bump.bad {
                bail!("the {} gitlinks at both TheRock commits are {}: there is nothing to bisect", bump.submodule, short_sha(&bump.bad));
            }
            Ok(Span { query: Query { repo, ..q.clone() }, good: bump.good.clone(), bad: bump.bad.clone(), bump: Some(bump) })
        }
        Ends::FromState => bail!("--state without --plan"),
    }
}

/// The range's first-parent commits after good up to bad (oldest first), or why there are none.
pub async fn range_of(app: &App, span: &Span, o: &BisectOptions) -> Result<Result<Vec<RangeCommit>, String>> {
    let range = match resolve::range(&app.resolver_for(&span.query), &span.good, &span.bad, o.branch.as_deref(), o.max_commits).await? {
        Ok(r) => r,
        Err(why) => return Ok(Err(why.to_string())),
    };
    // The range is what follows good up to bad: empty only when both name one commit.
    if range.is_empty() {
        bail!("--good and --bad name the same commit {}: there is nothing to bisect", short_sha(&span.bad));
    }
    Ok(Ok(range))
}

pub async fn run(app: &App, o: &BisectOptions) -> Result<BisectReport> {
    let span = span(app, &o.ends).await?;
    let range = match range_of(app, &span, o).await? {
        Ok(r) => r,
        Err(why) => return Ok(BisectReport { bump: span.bump, ..BisectReport::none(&span.good, &span.bad, why) }),
    };
    let work = Workdir::new(o.workdir.as_deref(), o.keep)?;
    let runner = app.runner(&o.pick, &o.cache_dir, &o.command);
    let overlay = o.overlay && !span.query.repo.is_therock_family();
    let ctx = Ctx { app, query: &span.query, overlay, runner: &runner, work: &work };
    let mut report = bisect(&span.good, &span.bad, range, &ctx).await?;
    report.bump = span.bump;
    Ok(report)
}

/// The range's commits with artifacts: index in the range, what was found.
pub type Candidates = Vec<(usize, Found)>;

/// The range's commits with artifacts, and those without (with the reason).
pub fn candidates(range: &[RangeCommit]) -> (Candidates, Vec<(String, String)>) {
    let mut cands = Vec::new();
    let mut without = Vec::new();
    for (i, rc) in range.iter().enumerate() {
        match &rc.found {
            Ok(f) => cands.push((i, f.clone())),
            Err(why) => without.push((rc.commit.sha.clone(), why.to_string())),
        }
    }
    (cands, without)
}

/// A bisection over `cands` (of `range`) at its end.
pub fn answer(range: &[RangeCommit], cands: &[(usize, Found)], b: &Bisection) -> Answer {
    let (good_k, bad_k) = b.answer();
    let lo = good_k.map(|g| cands[g].0);
    let hi = bad_k.map_or(range.len().saturating_sub(1), |k| cands[k].0);
    let from = lo.map_or(0, |l| l + 1);
    Answer {
        first_bad: bad_k.map(|k| range[cands[k].0].commit.clone()),
        last_good: lo.map(|l| range[l].commit.clone()),
        commits: range.get(from..=hi).unwrap_or_default().iter().map(|r| r.commit.clone()).collect(),
        skipped: b.skipped_between().into_iter().map(|k| range[cands[k].0].commit.sha.clone()).collect(),
    }
}

/// What each step needs: where trees go, how to fetch and run, and whether to overlay.
struct Ctx<'a> {
    app: &'a App,
    query: &'a Query,
    overlay: bool,
    runner: &'a Runner<'a>,
    work: &'a Workdir,
}

/// A step's tree: the commit's archives, or (`--overlay`) its TheRock baseline and them over
/// it. The bytes downloaded and the layers; `Err(why)` when the step cannot be tested.
async fn step_tree(ctx: &Ctx<'_>, found: &Found, sha: &str, tree: &std::path::Path) -> Result<Result<(u64, Vec<Layer>), String>> {
    if !ctx.overlay {
        return Ok(Ok((ctx.runner.fetch(found, tree).await?, Vec::new())));
    }
    match overlay::base_of(ctx.app, ctx.query, sha).await? {
        Ok(base) => {
            let (bytes, layers) = overlay::fetch(ctx.runner, &[&base, found], tree).await?;
            for l in &layers {
                let run = l.run_id.map(|r| r.to_string()).unwrap_or_default();
                crate::say!("bisect: {} archive(s) from {} run {run} ({})", l.archives.len(), l.repo, l.archives.join(", "));
            }
            Ok(Ok((bytes, layers)))
        }
        Err(why) => Ok(Err(why)),
    }
}

/// Bisects `range` (oldest first, not empty; the last is the given bad commit).
async fn bisect(good: &str, bad: &str, range: Vec<RangeCommit>, ctx: &Ctx<'_>) -> Result<BisectReport> {
    let (runner, work) = (ctx.runner, ctx.work);
    let mut report = BisectReport { note: None, ..BisectReport::none(good, bad, String::new()) };
    let (cands, without) = candidates(&range);
    report.without_artifacts = without;
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
        let run_id = first_run_id(found);
        let (fetched, layers, code) = match step_tree(ctx, found, sha, &tree).await? {
            Ok((bytes, layers)) => (bytes, layers, runner.run(&tree, sha, run_id).await?),
            Err(why) => {
                crate::say!("bisect: {} cannot be tested: {why}", short_sha(sha));
                (0, Vec::new(), Some(i32::from(crate::exit::UNTESTABLE)))
            }
        };
        work.drop_tree(&tree);
        let verdict = Verdict::from_exit(code);
        crate::say!("bisect: {} is {}", short_sha(sha), verdict_word(verdict, code));
        report.steps.push(Step {
            commit: sha.clone(),
            run_id,
            fetched_bytes: fetched,
            exit_code: code,
            verdict,
            seconds: started.elapsed().as_secs_f64(),
            layers,
        });
        if verdict == Verdict::Abort {
            bail!(
                "the test exited {} on {}: bisection aborted (as `git bisect run` does for 128 or more)",
                code.map(|c| c.to_string()).unwrap_or("by a signal".into()),
                short_sha(sha)
            );
        }
        b.record(k, verdict);
    }
    report.answer = Some(answer(&range, &cands, &b));
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
