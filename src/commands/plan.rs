//! `bisect --plan`: one round of a parallel bisection. GitHub Actions runs the round (a matrix
//! of `exec` jobs on GPU runners); this reads the range, replays the results so far from the
//! state, and prints the next round's commits or the answer `bisect` would print.

use anyhow::{bail, Context, Result};

use super::bisect::{answer, candidates, range_of, span, BisectReport, Span, Step};
use super::runner::first_run_id;
use super::App;
use crate::config::{BisectOptions, Ends, PlanOptions};
use crate::domain::bisect::Bisection;
use crate::domain::bisect_plan::{match_results, range_digest, PlanState, Sealed, Tested};
use crate::domain::buckets::Repo;

/// One job of the round's matrix.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Job {
    pub commit: String,
    pub run_id: Option<u64>,
}

/// The next round: the commits to test at once, and the state to hand back with their results.
#[derive(Debug, Clone)]
pub struct PlanRound {
    pub round: usize,
    pub jobs: Vec<Job>,
    pub state: Sealed,
    pub candidates: usize,
}

/// What a plan call printed: a round, or (the range decided) the bisection's answer.
pub enum Planned {
    Round(Box<PlanRound>),
    Done(Box<BisectReport>),
}

/// The state in `--state FILE`, opened (its digest checked).
fn read_state(file: &std::path::Path) -> Result<PlanState> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read the --state file {}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("the --state file {} is not JSON: {e}", file.display()))?;
    Sealed::open(&doc).map_err(|why| anyhow::anyhow!("the --state file {} is refused: {why}", file.display()))
}

/// The span the call names, checked against the state's when both are there.
async fn span_of(app: &App, o: &BisectOptions, state: Option<&PlanState>) -> Result<Span> {
    let from_state = |s: &PlanState| -> Result<Span> {
        let repo = Repo::parse(&s.repo).map_err(anyhow::Error::msg)?;
        Ok(Span { query: crate::config::Query { repo, ..app.cfg.query.clone() }, good: s.good.clone(), bad: s.bad.clone(), bump: None })
    };
    match (&o.ends, state) {
        (Ends::FromState, Some(s)) => from_state(s),
        (Ends::FromState, None) => bail!("--plan needs --good and --bad (or --bump) for its first round"),
        (ends, state) => {
            let sp = span(app, ends).await?;
            if let Some(s) = state {
                let same = |a: &str, b: &str| a.starts_with(b) || b.starts_with(a);
                if !(sp.query.repo.full().eq_ignore_ascii_case(&s.repo) && same(&sp.good, &s.good) && same(&sp.bad, &s.bad)) {
                    bail!(
                        "the --state belongs to another range ({} {}..{}), not {} {}..{}",
                        s.repo,
                        &s.good[..12.min(s.good.len())],
                        &s.bad[..12.min(s.bad.len())],
                        sp.query.repo,
                        sp.good,
                        sp.bad
                    );
                }
            }
            Ok(sp)
        }
    }
}

pub async fn run(app: &App, o: &BisectOptions, p: &PlanOptions) -> Result<Planned> {
    let state = p.state.as_deref().map(read_state).transpose()?;
    let sp = span_of(app, o, state.as_ref()).await?;
    let range = match range_of(app, &sp, o).await? {
        Ok(r) => r,
        Err(why) => return Ok(Planned::Done(Box::new(BisectReport { bump: sp.bump, ..BisectReport::none(&sp.good, &sp.bad, why) }))),
    };
    let (cands, without) = candidates(&range);
    let shas: Vec<&str> = cands.iter().map(|(i, _)| range[*i].commit.sha.as_str()).collect();
    let digest = range_digest(&shas);
    let (round, mut results) = match &state {
        Some(s) if s.range != digest => {
            bail!("the --state belongs to another range: the commits with artifacts between {} and {} are not those it was planned over", &sp.good, &sp.bad)
        }
        Some(s) => {
            let mut all = s.results.clone();
            all.extend(match_results(&s.pending, &p.results, s.round).map_err(anyhow::Error::msg)?);
            (s.round + 1, all)
        }
        None if !p.results.is_empty() => bail!("--result needs the --state its round was planned with"),
        None => (1, Vec::new()),
    };
    results.dedup_by(|a, b| a.commit == b.commit);
    let bad_has_artifacts = cands.last().is_some_and(|(i, _)| *i + 1 == range.len());
    let mut b = Bisection::new(cands.len(), bad_has_artifacts);
    let index = |sha: &str| shas.iter().position(|s| *s == sha);
    let verdicts: Vec<(usize, crate::domain::bisect::Verdict)> = results.iter().filter_map(|t| index(&t.commit).map(|k| (k, t.verdict))).collect();
    b.record_round(&verdicts);
    let picks = b.round(p.ways);
    if picks.is_empty() {
        let mut report = BisectReport { note: None, ..BisectReport::none(&sp.good, &sp.bad, String::new()) };
        report.without_artifacts = without;
        report.candidates = cands.len();
        report.steps = results.iter().map(|t| step(t, &cands, index(&t.commit))).collect();
        report.answer = Some(answer(&range, &cands, &b));
        report.bump = sp.bump;
        return Ok(Planned::Done(Box::new(report)));
    }
    let jobs: Vec<Job> = picks.iter().map(|&k| Job { commit: shas[k].to_string(), run_id: first_run_id(&cands[k].1) }).collect();
    crate::say!("bisect --plan: round {round} tests {} of {} candidates at once", jobs.len(), cands.len());
    let state = PlanState {
        repo: sp.query.repo.full(),
        good: sp.good.clone(),
        bad: sp.bad.clone(),
        ways: p.ways,
        round,
        range: digest,
        pending: jobs.iter().map(|j| j.commit.clone()).collect(),
        results,
    };
    Ok(Planned::Round(Box::new(PlanRound { round, jobs, state: state.seal(), candidates: cands.len() })))
}

/// A result as a step of the answer (a matrix job ran it: no bytes or time of ours).
fn step(t: &Tested, cands: &[(usize, crate::domain::select::Found)], k: Option<usize>) -> Step {
    Step {
        commit: t.commit.clone(),
        run_id: k.and_then(|k| first_run_id(&cands[k].1)),
        fetched_bytes: 0,
        exit_code: None,
        verdict: t.verdict,
        seconds: 0.0,
        layers: Vec::new(),
    }
}

impl super::Conclusion for PlanRound {
    fn found(&self) -> bool {
        true
    }
}
