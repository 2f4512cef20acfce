//! Baseline selection over plain data: a first-parent chain of commits and the runs known for
//! them. The S3 check of candidate runs happens outside; this decides which runs are candidates
//! and why a commit is rejected without one.

use std::collections::HashMap;

use super::run::{Commit, Run};

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

/// A commit the walk looked at and passed over, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    pub commit: String,
    pub distance: usize,
    pub reason: String,
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
    async fn judge(&mut self, candidates: &[&Run]) -> Result<Result<Self::Found, String>, Self::Error>;
}

/// The baseline walk, shared by `latest`, TheRock's merge-base walk and the super-repos' pin
/// walk: along `chain` (newest first, skipping the first `skip` commits, judged already), the
/// first commit whose usable runs hold every group. A commit without usable runs is passed
/// over with the reason, before anything is asked of S3.
pub async fn walk<H: History>(chain: &[WalkCommit], skip: usize, history: &mut H) -> Result<WalkOutcome<H::Found>, H::Error> {
    let mut rejected = Vec::new();
    for (distance, c) in chain.iter().enumerate().skip(skip) {
        let runs = history.runs_of(c).await?;
        let refs: Vec<&Run> = runs.iter().collect();
        let cands = candidates(&refs);
        let verdict = if cands.is_empty() { Err(reject_reason(&refs)) } else { history.judge(&cands).await? };
        match verdict {
            Ok(found) => return Ok(WalkOutcome { hit: Some((c.clone(), distance, found)), rejected }),
            Err(reason) => rejected.push(Rejected { commit: c.sha.clone(), distance, reason }),
        }
    }
    Ok(WalkOutcome { hit: None, rejected })
}

/// Follows `parents[0]` from `start` through a commits listing (which holds every ancestor,
/// not only first parents), at most `max` commits.
pub fn first_parent_chain(commits: &[Commit], start: &str, max: usize) -> Vec<WalkCommit> {
    let by_sha: HashMap<&str, &Commit> = commits.iter().map(|c| (c.sha.as_str(), c)).collect();
    let mut out = Vec::new();
    let mut cur = by_sha.get(start).map(|c| c.sha.as_str()).or_else(|| commits.first().map(|c| c.sha.as_str()));
    while let Some(sha) = cur {
        if out.len() >= max {
            break;
        }
        let Some(c) = by_sha.get(sha) else { break };
        out.push(WalkCommit::from(*c));
        cur = c.parents.first().map(String::as_str);
    }
    out
}

/// Why a commit cannot be a baseline (before S3 is asked).
pub fn reject_reason(runs: &[&Run]) -> String {
    if runs.is_empty() {
        return "no run of the workflow".into();
    }
    let mut parts = Vec::new();
    for r in runs {
        let what = match (r.status.as_deref(), r.conclusion.as_deref()) {
            (Some("completed"), Some("success")) => continue,
            (Some("completed"), Some(c)) => format!("run {} {}", r.id, if c == "failure" { "failed" } else { c }),
            (Some(s), _) => format!("run {} {}", r.id, s.replace('_', " ")),
            (None, _) => format!("run {} has no status", r.id),
        };
        parts.push(what);
    }
    parts.join(", ")
}

/// Completed, successful runs, newest first.
pub fn candidates<'a>(runs: &[&'a Run]) -> Vec<&'a Run> {
    let mut c: Vec<&Run> = runs.iter().copied().filter(|r| r.is_completed_success()).collect();
    newest_first(&mut c);
    c
}

/// Orders runs newest first (by `created_at`, then id).
pub fn newest_first(runs: &mut [&Run]) {
    runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
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
    use super::*;

    fn commit(sha: &str, parents: &[&str]) -> Commit {
        Commit { sha: sha.into(), parents: parents.iter().map(|p| p.to_string()).collect(), ..Commit::default() }
    }

    fn run(id: u64, status: &str, conclusion: Option<&str>) -> Run {
        Run {
            id,
            head_sha: "x".into(),
            status: Some(status.into()),
            conclusion: conclusion.map(String::from),
            created_at: Some(format!("2026-01-01T00:00:{:02}Z", id % 60)),
            ..Run::default()
        }
    }

    #[test]
    fn the_chain_follows_first_parents_only() {
        // m merges side branch s into a; listing order interleaves them.
        let commits = vec![commit("m", &["a", "s"]), commit("s", &["b"]), commit("a", &["b"]), commit("b", &[])];
        let chain: Vec<_> = first_parent_chain(&commits, "m", 10).into_iter().map(|c| c.sha).collect();
        assert_eq!(chain, vec!["m", "a", "b"]);
        assert_eq!(first_parent_chain(&commits, "m", 2).len(), 2, "at most max commits");
    }

    #[test]
    fn rejections_name_each_unusable_run_and_candidates_are_successful_runs_newest_first() {
        assert_eq!(reject_reason(&[]), "no run of the workflow");
        let f = run(1, "completed", Some("failure"));
        let p = run(2, "in_progress", None);
        let c = run(3, "completed", Some("cancelled"));
        assert_eq!(reject_reason(&[&f, &p, &c]), "run 1 failed, run 2 in progress, run 3 cancelled");
        let ok_old = run(4, "completed", Some("success"));
        let ok_new = run(5, "completed", Some("success"));
        let all = [&f, &ok_old, &ok_new, &p];
        let cands: Vec<u64> = candidates(&all).iter().map(|r| r.id).collect();
        assert_eq!(cands, vec![5, 4]);
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
        async fn judge(&mut self, cands: &[&Run]) -> Result<Result<u64, String>, String> {
            self.judged += 1;
            Ok(cands.iter().find(|r| self.good.contains(&r.id)).map(|r| r.id).ok_or_else(|| "group gfx94X-dcgpu missing".to_string()))
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
        let out = block_on(walk(&chain(6), 0, &mut h)).unwrap();
        let (c, distance, run) = out.hit.unwrap();
        assert_eq!((c.sha.as_str(), distance, run), ("c3", 3, 3));
        let reasons: Vec<String> = out.rejected.iter().map(|r| format!("{} {}", r.commit, r.reason)).collect();
        assert_eq!(reasons, vec!["c0 no run of the workflow", "c1 run 1 failed", "c2 group gfx94X-dcgpu missing"]);
        assert_eq!(h.judged, 2, "S3 is asked only about commits with successful runs");
        assert_eq!(h.asked.len(), 4, "the walk stops at the hit");
    }

    #[test]
    fn the_walk_skips_commits_already_judged_and_reports_running_out() {
        let mut h = Fake { runs: HashMap::new(), good: vec![], asked: Vec::new(), judged: 0 };
        let out = block_on(walk(&chain(3), 1, &mut h)).unwrap();
        assert!(out.hit.is_none());
        assert_eq!(h.asked, vec!["c1", "c2"], "the first commit was judged before the walk");
        assert_eq!(out.rejected.iter().map(|r| r.distance).collect::<Vec<_>>(), vec![1, 2], "distances count from the start");
    }

    #[test]
    fn a_listing_covers_commits_no_older_than_its_oldest_run() {
        assert!(listing_covers(Some(100), Some(50), false));
        assert!(!listing_covers(Some(10), Some(50), false));
        assert!(listing_covers(Some(10), Some(50), true), "a complete listing covers everything");
        assert!(!listing_covers(None, Some(50), false), "an undated commit is asked about alone");
    }
}
