//! Baseline selection over plain data: a first-parent chain of commits and the runs known for
//! them. The S3 check of candidate runs happens outside; this decides which runs are candidates
//! and why a commit is rejected without one.

use std::collections::HashMap;

use crate::github::{Commit, Run};

/// One commit of a walk, with its distance from the walk's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkCommit {
    pub sha: String,
    /// Unix seconds of the committer date, when known.
    pub date: Option<i64>,
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
        out.push(WalkCommit { sha: c.sha.clone(), date: c.date() });
        cur = c.parents.first().map(|p| p.sha.as_str());
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

/// Completed, successful runs of `repo` itself (no fork runs that merely share a branch name),
/// newest first.
pub fn candidates<'a>(runs: &'a [&'a Run]) -> Vec<&'a Run> {
    let mut c: Vec<&Run> = runs.iter().copied().filter(|r| r.is_completed_success()).collect();
    c.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    c
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
    use crate::github::CommitRef;

    fn commit(sha: &str, parents: &[&str]) -> Commit {
        Commit { sha: sha.into(), parents: parents.iter().map(|p| CommitRef { sha: p.to_string() }).collect(), commit: None }
    }

    fn run(id: u64, status: &str, conclusion: Option<&str>) -> Run {
        serde_json::from_value(serde_json::json!({
            "id": id, "head_sha": "x", "status": status, "conclusion": conclusion,
            "created_at": format!("2026-01-01T00:00:{:02}Z", id % 60)
        }))
        .unwrap()
    }

    #[test]
    fn chain_follows_first_parents() {
        // m merges side branch s into a; listing order interleaves them.
        let commits = vec![commit("m", &["a", "s"]), commit("s", &["b"]), commit("a", &["b"]), commit("b", &[])];
        let chain: Vec<_> = first_parent_chain(&commits, "m", 10).into_iter().map(|c| c.sha).collect();
        assert_eq!(chain, vec!["m", "a", "b"]);
        assert_eq!(first_parent_chain(&commits, "m", 2).len(), 2);
    }

    #[test]
    fn reasons_and_candidates() {
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

    #[test]
    fn coverage() {
        assert!(listing_covers(Some(100), Some(50), false));
        assert!(!listing_covers(Some(10), Some(50), false));
        assert!(listing_covers(Some(10), Some(50), true));
        assert!(!listing_covers(None, Some(50), false));
    }
}
