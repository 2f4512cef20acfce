//! Baseline selection over plain data: a first-parent chain of commits and the runs known for
//! them. The S3 check of candidate runs happens outside; this decides which runs are candidates
//! and why a commit is rejected without one.

use std::collections::HashMap;

use super::rejection::{Rejection, RunRejection};
use super::run::{Commit, Run};
use super::status::{Conclusion, RunStatus};

/// One commit of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkCommit {
    pub sha: String,
    /// Unix seconds of the committer date, when known.
    pub date: Option<i64>,
}

impl From<&Commit> for WalkCommit {
    fn from(c: &Commit) -> Self {
        WalkCommit { sha: c.sha.clone(), date: c.date }
    }
}

/// A commit the walk looked at and passed over, with the reason (or, `taken`, the commit it
/// took, with what is worth knowing about the run it took).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub commit: String,
    pub distance: usize,
    /// Which commit this was, when the walk judged it on its own ("the commit itself").
    pub label: Option<&'static str>,
    pub why: Rejection,
    pub taken: bool,
}

impl Rejected {
    /// A commit of the walk passed over at `distance`.
    pub fn passed(commit: &str, distance: usize, why: Rejection) -> Rejected {
        Rejected { commit: commit.to_string(), distance, label: None, why, taken: false }
    }

    /// The reason in words, as reports show it: `{label}: {why}`.
    pub fn reason(&self) -> String {
        match self.label {
            Some(l) => format!("{l}: {}", self.why),
            None => self.why.to_string(),
        }
    }
}

/// `{commit, distance, reason, kind, taken?}`: the reason in words and its machine-readable kind.
impl serde::Serialize for Rejected {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Rejected", 6)?;
        m.serialize_field("commit", &self.commit)?;
        m.serialize_field("distance", &self.distance)?;
        m.serialize_field("reason", &self.reason())?;
        m.serialize_field("kind", self.why.kind())?;
        let missing: Vec<serde_json::Value> = self.why.missing().into_iter().map(|(g, lacks)| serde_json::json!({"group": g, "lacks": lacks})).collect();
        if !missing.is_empty() {
            m.serialize_field("missing", &missing)?;
        }
        if self.taken {
            m.serialize_field("taken", &true)?;
        }
        m.end()
    }
}

/// How a run may supply artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usable {
    /// Completed, conclusion `success`.
    Success,
    /// Completed, conclusion `failure`: its archives count if its build jobs were healthy
    /// (test jobs fail often on main) and it holds every requested group on its own.
    TestsFailed,
}

/// Which runs may supply a baseline (therock-facts.md section 5b).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunRule {
    /// `--require-successful-run`: only conclusion `success`.
    pub require_success: bool,
    /// `--max-age-hours` as seconds, and the time now (Unix seconds).
    pub max_age: Option<(i64, i64)>,
}

impl RunRule {
    pub fn strict() -> RunRule {
        RunRule { require_success: true, max_age: None }
    }

    /// The runs this rule lets count, in words ("... has {} holding every group").
    pub fn runs_phrase(&self) -> &'static str {
        if self.require_success {
            "completed, successful runs"
        } else {
            "completed runs with healthy builds"
        }
    }

    /// Whether the run may supply artifacts, or why not.
    pub fn classify(&self, r: &Run) -> Result<Usable, RunRejection> {
        let id = r.id;
        let usable = match (&r.status, &r.conclusion) {
            (RunStatus::Completed, Some(Conclusion::Success)) => Usable::Success,
            (RunStatus::Completed, Some(Conclusion::Failure)) if !self.require_success => Usable::TestsFailed,
            (RunStatus::Completed, Some(Conclusion::Failure)) => return Err(RunRejection::Failed { id }),
            (RunStatus::Completed, Some(Conclusion::Cancelled)) => return Err(RunRejection::Cancelled { id }),
            (RunStatus::Completed, Some(Conclusion::Other(c))) => return Err(RunRejection::Concluded { id, conclusion: c.clone() }),
            (RunStatus::Completed, None) => return Err(RunRejection::NoConclusion { id }),
            (RunStatus::Unknown, _) => return Err(RunRejection::NoStatus { id }),
            (status, _) => return Err(RunRejection::InProgress { id, status: status.clone() }),
        };
        if let (Some((limit, now)), Some(created)) = (self.max_age, r.created()) {
            if now - created > limit {
                return Err(RunRejection::TooOld { id, hours: (now - created) / 3600, limit: limit / 3600 });
            }
        }
        Ok(usable)
    }

    /// The runs that may supply artifacts, newest first.
    pub fn candidates<'a>(&self, runs: &[&'a Run]) -> Vec<(&'a Run, Usable)> {
        let mut ok: Vec<&Run> = runs.iter().copied().filter(|r| self.classify(r).is_ok()).collect();
        newest_first(&mut ok);
        ok.into_iter().filter_map(|r| self.classify(r).ok().map(|u| (r, u))).collect()
    }

    /// Why none of `runs` may supply artifacts.
    pub fn reject_reason(&self, runs: &[&Run]) -> Rejection {
        if runs.is_empty() {
            return Rejection::NoRun;
        }
        Rejection::Runs(runs.iter().filter_map(|r| self.classify(r).err()).collect())
    }
}

/// The first commit of a walk that holds every group (with its distance and what the judge
/// found there), and the commits passed over on the way.
pub struct WalkOutcome<S> {
    pub hit: Option<(WalkCommit, usize, S)>,
    pub rejected: Vec<Rejected>,
}

/// What a walk asks of the world: the runs of a commit, and whether candidate runs hold every
/// requested group (`Ok(what was found)` or `Err(why not)`).
#[allow(async_fn_in_trait)]
pub trait History {
    type Found;
    type Error;
    async fn runs_of(&mut self, commit: &WalkCommit) -> Result<Vec<Run>, Self::Error>;
    async fn judge(&mut self, candidates: &[(&Run, Usable)]) -> Result<Result<Self::Found, Rejection>, Self::Error>;
}

/// The baseline walk, shared by `latest`, TheRock's merge-base walk and the super-repos' pin
/// walk: along `chain` (newest first, skipping the first `skip` commits, judged already), the
/// first commit whose usable runs hold every group. A commit without usable runs is passed
/// over with the reason, before anything is asked of S3.
pub async fn walk<H: History>(chain: &[WalkCommit], skip: usize, rule: RunRule, history: &mut H) -> Result<WalkOutcome<H::Found>, H::Error> {
    let mut rejected = Vec::new();
    for (distance, c) in chain.iter().enumerate().skip(skip) {
        match judge_commit(c, rule, history).await? {
            Ok(found) => return Ok(WalkOutcome { hit: Some((c.clone(), distance, found)), rejected }),
            Err(why) => rejected.push(Rejected::passed(&c.sha, distance, why)),
        }
    }
    Ok(WalkOutcome { hit: None, rejected })
}

/// One commit, judged as a walk judges it: its usable runs, then whether they hold every group.
pub async fn judge_commit<H: History>(c: &WalkCommit, rule: RunRule, history: &mut H) -> Result<Result<H::Found, Rejection>, H::Error> {
    let runs = history.runs_of(c).await?;
    let refs: Vec<&Run> = runs.iter().collect();
    let cands = rule.candidates(&refs);
    if cands.is_empty() {
        return Ok(Err(rule.reject_reason(&refs)));
    }
    history.judge(&cands).await
}

/// Follows `parents[0]` from `start` through a commits listing (which holds every ancestor,
/// not only first parents), at most `max` commits.
pub fn first_parent_commits(commits: &[Commit], start: &str, max: usize) -> Vec<Commit> {
    let by_sha: HashMap<&str, &Commit> = commits.iter().map(|c| (c.sha.as_str(), c)).collect();
    let mut out = Vec::new();
    let mut cur = by_sha.get(start).map(|c| c.sha.as_str()).or_else(|| commits.first().map(|c| c.sha.as_str()));
    while let Some(sha) = cur {
        if out.len() >= max {
            break;
        }
        let Some(c) = by_sha.get(sha) else { break };
        out.push((*c).clone());
        cur = c.parents.first().map(String::as_str);
    }
    out
}

/// Orders runs newest first (by `created_at`, then id).
pub fn newest_first<R: std::borrow::Borrow<Run>>(runs: &mut [R]) {
    runs.sort_by(|a, b| {
        let (a, b) = (a.borrow(), b.borrow());
        b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
    });
}

/// Can a listing of runs that reaches back to `oldest_run_created` have seen every run of a
/// commit dated `commit_date`? Runs are created after their commit, so yes when the commit is
/// not older than the oldest listed run.
pub fn listing_covers(commit_date: Option<i64>, oldest_run_created: Option<i64>, listing_complete: bool) -> bool {
    if listing_complete {
        return true;
    }
    match (commit_date, oldest_run_created) {
        (Some(c), Some(o)) => c >= o,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::rejection::Gap;
    use super::*;

    fn commit(sha: &str, parents: &[&str]) -> Commit {
        Commit { sha: sha.into(), parents: parents.iter().map(|p| p.to_string()).collect(), ..Commit::default() }
    }

    fn run(id: u64, status: &str, conclusion: Option<&str>) -> Run {
        Run {
            id,
            head_sha: "x".into(),
            status: RunStatus::parse(Some(status)),
            conclusion: Conclusion::parse(conclusion),
            created_at: Some(format!("2026-01-01T00:00:{:02}Z", id % 60)),
            ..Run::default()
        }
    }

    #[test]
    fn the_chain_follows_first_parents_only() {
        // m merges side branch s into a; listing order interleaves them.
        let commits = vec![commit("m", &["a", "s"]), commit("s", &["b"]), commit("a", &["b"]), commit("b", &[])];
        let chain: Vec<_> = first_parent_commits(&commits, "m", 10).into_iter().map(|c| c.sha).collect();
        assert_eq!(chain, vec!["m", "a", "b"]);
        assert_eq!(first_parent_commits(&commits, "m", 2).len(), 2, "at most max commits");
    }

    #[test]
    fn rejections_name_each_unusable_run_and_candidates_are_successful_runs_newest_first() {
        let strict = RunRule::strict();
        assert_eq!(strict.reject_reason(&[]), Rejection::NoRun);
        let f = run(1, "completed", Some("failure"));
        let p = run(2, "in_progress", None);
        let c = run(3, "completed", Some("cancelled"));
        let why = strict.reject_reason(&[&f, &p, &c]);
        assert_eq!(
            why,
            Rejection::Runs(vec![
                RunRejection::Failed { id: 1 },
                RunRejection::InProgress { id: 2, status: RunStatus::InProgress },
                RunRejection::Cancelled { id: 3 }
            ])
        );
        assert_eq!(why.to_string(), "run 1 failed, run 2 in progress, run 3 cancelled");
        let ok_old = run(4, "completed", Some("success"));
        let ok_new = run(5, "completed", Some("success"));
        let all = [&f, &ok_old, &ok_new, &p];
        let cands: Vec<u64> = strict.candidates(&all).iter().map(|(r, _)| r.id).collect();
        assert_eq!(cands, vec![5, 4]);
    }

    #[test]
    fn a_run_whose_tests_failed_is_a_candidate_unless_success_is_required_and_cancelled_runs_never_are() {
        let f = run(1, "completed", Some("failure"));
        let c = run(3, "completed", Some("cancelled"));
        let t = run(6, "completed", Some("timed_out"));
        let healthy = RunRule::default();
        assert_eq!(healthy.classify(&f), Ok(Usable::TestsFailed));
        assert_eq!(RunRule::strict().classify(&f), Err(RunRejection::Failed { id: 1 }));
        assert_eq!(healthy.classify(&c), Err(RunRejection::Cancelled { id: 3 }), "a cancelled run left partial uploads");
        assert_eq!(healthy.classify(&t), Err(RunRejection::Concluded { id: 6, conclusion: "timed_out".into() }));
    }

    #[test]
    fn runs_older_than_the_age_limit_do_not_count() {
        // Created 2026-01-01T00:00:04Z; now is 80 h later; the limit is 72 h.
        let r = run(4, "completed", Some("success"));
        let created = r.created().unwrap();
        let rule = RunRule { require_success: false, max_age: Some((72 * 3600, created + 80 * 3600)) };
        assert_eq!(rule.classify(&r), Err(RunRejection::TooOld { id: 4, hours: 80, limit: 72 }));
        let rule = RunRule { require_success: false, max_age: Some((72 * 3600, created + 3600)) };
        assert_eq!(rule.classify(&r), Ok(Usable::Success));
    }

    /// A history of commits `c0` (newest) to `cN`, each with its runs; a run id in `good` holds
    /// every group.
    struct Fake {
        runs: HashMap<String, Vec<Run>>,
        good: Vec<u64>,
        asked: Vec<String>,
        judged: usize,
    }

    impl History for Fake {
        type Found = u64;
        type Error = String;
        async fn runs_of(&mut self, c: &WalkCommit) -> Result<Vec<Run>, String> {
            self.asked.push(c.sha.clone());
            Ok(self.runs.get(&c.sha).cloned().unwrap_or_default())
        }
        async fn judge(&mut self, cands: &[(&Run, Usable)]) -> Result<Result<u64, Rejection>, String> {
            self.judged += 1;
            let missing = || Rejection::Groups {
                gaps: vec![Gap::Missing { group: "gfx94X-dcgpu".into(), lacks: vec![] }],
                runs: cands.iter().map(|(r, _)| r.id).collect(),
                notes: vec![],
            };
            Ok(cands.iter().find(|(r, _)| self.good.contains(&r.id)).map(|(r, _)| r.id).ok_or_else(missing))
        }
    }

    fn chain(n: usize) -> Vec<WalkCommit> {
        (0..n).map(|i| WalkCommit { sha: format!("c{i}"), date: None }).collect()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn the_walk_takes_the_first_commit_whose_successful_runs_hold_every_group() {
        let mut runs = HashMap::new();
        runs.insert("c1".to_string(), vec![run(1, "completed", Some("failure"))]);
        runs.insert("c2".to_string(), vec![run(2, "completed", Some("success"))]);
        runs.insert("c3".to_string(), vec![run(3, "completed", Some("success"))]);
        let mut h = Fake { runs, good: vec![3], asked: Vec::new(), judged: 0 };
        let out = block_on(walk(&chain(6), 0, RunRule::strict(), &mut h)).unwrap();
        let (c, distance, run) = out.hit.unwrap();
        assert_eq!((c.sha.as_str(), distance, run), ("c3", 3, 3));
        let kinds: Vec<(&str, &str)> = out.rejected.iter().map(|r| (r.commit.as_str(), r.why.kind())).collect();
        assert_eq!(kinds, vec![("c0", "no-run"), ("c1", "run-failed"), ("c2", "group-missing")]);
        assert_eq!(out.rejected[1].why, Rejection::Runs(vec![RunRejection::Failed { id: 1 }]));
        assert_eq!(h.judged, 2, "S3 is asked only about commits with successful runs");
        assert_eq!(h.asked.len(), 4, "the walk stops at the hit");
    }

    #[test]
    fn the_walk_skips_commits_already_judged_and_reports_running_out() {
        let mut h = Fake { runs: HashMap::new(), good: vec![], asked: Vec::new(), judged: 0 };
        let out = block_on(walk(&chain(3), 1, RunRule::default(), &mut h)).unwrap();
        assert!(out.hit.is_none());
        assert_eq!(h.asked, vec!["c1", "c2"], "the first commit was judged before the walk");
        assert_eq!(out.rejected.iter().map(|r| r.distance).collect::<Vec<_>>(), vec![1, 2], "distances count from the start");
    }

    #[test]
    fn a_looked_at_entry_carries_the_words_and_their_kind() {
        let passed = Rejected { label: Some("the commit itself"), ..Rejected::passed("c0", 0, Rejection::Runs(vec![RunRejection::Failed { id: 1 }])) };
        let j = serde_json::to_value(&passed).unwrap();
        assert_eq!(j, serde_json::json!({"commit": "c0", "distance": 0, "reason": "the commit itself: run 1 failed", "kind": "run-failed"}));
        let taken = Rejected { taken: true, ..Rejected::passed("c2", 2, Rejection::TookFailedRun { id: 9 }) };
        assert_eq!(serde_json::to_value(&taken).unwrap()["taken"], true);
        assert_eq!(taken.reason(), "tests failed, builds healthy: took run 9");
    }

    #[test]
    fn a_listing_covers_commits_no_older_than_its_oldest_run() {
        assert!(listing_covers(Some(100), Some(50), false));
        assert!(!listing_covers(Some(10), Some(50), false));
        assert!(listing_covers(Some(10), Some(50), true), "a complete listing covers everything");
        assert!(!listing_covers(None, Some(50), false), "an undated commit is asked about alone");
    }
}
