//! Bisect with CI artifacts, and `exec` for `git bisect run`: each step fetches a commit's
//! artifacts into a fresh tree and runs the user's test with `THEROCK_ARTIFACTS_DIR`,
//! `THEROCK_ARTIFACTS_COMMIT` and `THEROCK_ARTIFACTS_RUN_ID` set.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Pick;
use crate::domain::bisect::{Bisection, Verdict};
use crate::domain::run::{short_sha, Commit};
use crate::domain::select::Found;
use crate::fetch::{self, Filters, Limits};
use crate::resolve::RangeCommit;
use crate::s3::S3;

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
    pub markdown: bool,
}

impl BisectReport {
    /// No bisection: `why`.
    pub fn none(good: &str, bad: &str, why: String, markdown: bool) -> Self {
        BisectReport {
            good: good.into(),
            bad: bad.into(),
            steps: Vec::new(),
            without_artifacts: Vec::new(),
            candidates: 0,
            answer: None,
            note: Some(why),
            markdown,
        }
    }
}

/// Where step trees go, and whether they stay.
pub struct Workdir {
    pub root: PathBuf,
    pub keep: bool,
    temporary: bool,
}

impl Workdir {
    pub fn new(given: Option<&Path>, keep: bool) -> Result<Workdir> {
        let (root, temporary) = match given {
            Some(p) => (p.to_path_buf(), false),
            None => (std::env::temp_dir().join(format!("therock-artifacts-bisect-{}-{:08x}", std::process::id(), fastrand::u32(..))), true),
        };
        std::fs::create_dir_all(&root).with_context(|| format!("cannot create the work directory {}", root.display()))?;
        Ok(Workdir { root, keep, temporary })
    }

    /// Removes a step's tree once its test has run, unless `--keep`.
    pub fn drop_tree(&self, tree: &Path) {
        if !self.keep {
            let _ = fetch::extract::remove_path(tree);
        }
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.temporary && !self.keep {
            let _ = fetch::extract::remove_path(&self.root);
        }
    }
}

/// Fetches and runs: what each step needs besides the commit.
pub struct Runner<'a> {
    pub s3: &'a S3,
    pub pick: &'a Pick,
    pub cache_dir: PathBuf,
    pub limits: Limits,
    pub command: &'a [String],
    /// With `--json`, the test's stdout goes to stderr (stdout holds one JSON document).
    pub quiet_stdout: bool,
}

impl Runner<'_> {
    /// Fetches `found`'s archives into `tree`; the bytes downloaded.
    pub async fn fetch(&self, found: &Found, tree: &Path) -> Result<u64> {
        let planned = fetch::plan(found, &Filters { include: self.pick.include.clone(), exclude: self.pick.exclude.clone() });
        if planned.is_empty() {
            bail!("the --include/--exclude filters selected no archive of commit {}", found.commit.as_deref().unwrap_or("?"));
        }
        let out = fetch::prepare_output(tree, false)?;
        let opts = crate::config::FetchOptions {
            output_dir: out.clone(),
            include: Vec::new(),
            exclude: Vec::new(),
            extract: self.pick.extract,
            verify: true,
            dry_run: false,
            cache_dir: Some(self.cache_dir.clone()),
            force: false,
        };
        let report = fetch::run(planned, self.s3, &opts, out, self.limits).await?;
        Ok(report.downloaded)
    }

    /// Runs the command on `tree`; its exit code (`None`: killed by a signal).
    pub async fn run(&self, tree: &Path, commit: &str, run_id: Option<u64>) -> Result<Option<i32>> {
        let mut cmd = std::process::Command::new(&self.command[0]);
        cmd.args(&self.command[1..])
            .env("THEROCK_ARTIFACTS_DIR", tree)
            .env("THEROCK_ARTIFACTS_COMMIT", commit)
            .env("THEROCK_ARTIFACTS_RUN_ID", run_id.map(|r| r.to_string()).unwrap_or_default());
        if self.quiet_stdout {
            cmd.stdout(std::process::Stdio::from(std::io::stderr()));
        }
        let program = self.command[0].clone();
        let status = tokio::task::spawn_blocking(move || cmd.status()).await?.with_context(|| format!("cannot run {program}"))?;
        Ok(status.code())
    }
}

/// The run the fetched artifacts came from (the first group's).
pub fn first_run_id(found: &Found) -> Option<u64> {
    found.slots.iter().find_map(|s| s.hit.as_ref()).map(|h| h.run.id)
}

/// Bisects `range` (oldest first; the last is the given bad commit) with `runner`.
pub async fn bisect(good: &str, bad: &str, range: Vec<RangeCommit>, runner: &Runner<'_>, work: &Workdir, markdown: bool) -> Result<BisectReport> {
    let mut report = BisectReport { note: None, ..BisectReport::none(good, bad, String::new(), markdown) };
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
    let hi = bad_k.map_or(range.len() - 1, |k| cands[k].0);
    let from = lo.map_or(0, |l| l + 1);
    report.answer = Some(Answer {
        first_bad: bad_k.map(|k| range[cands[k].0].commit.clone()),
        last_good: lo.map(|l| range[l].commit.clone()),
        commits: range[from..=hi].iter().map(|r| r.commit.clone()).collect(),
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

/// What `exec` did.
#[derive(Debug, Clone)]
pub struct ExecReport {
    pub commit: String,
    pub run_id: Option<u64>,
    /// The command's exit code (125 when the commit has no artifacts).
    pub code: u8,
    pub note: Option<String>,
}

/// The exit code `exec` passes on: the command's, or 128 + the signal that killed it.
pub fn exit_of(code: Option<i32>) -> u8 {
    match code {
        Some(c) => c.clamp(0, 255) as u8,
        None => 128,
    }
}
