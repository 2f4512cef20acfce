//! Workflow runs and commits as the rules see them. `github` maps GitHub's JSON into these;
//! nothing here knows where they came from.

use super::buckets::Repo;
use super::rejection::RunRejection;
use super::status::{Conclusion, RunStatus};

/// One workflow run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Run {
    pub id: u64,
    pub name: Option<String>,
    /// `.github/workflows/multi_arch_ci.yml` (sometimes with `@ref`).
    pub path: Option<String>,
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub status: RunStatus,
    pub conclusion: Option<Conclusion>,
    /// RFC 3339, as GitHub writes it.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub html_url: Option<String>,
    /// `head_repository.full_name`; `None` for a deleted fork.
    pub head_repo: Option<String>,
    /// `repository.full_name`: the repository the workflow ran in, spelled as GitHub does.
    pub repo: Option<String>,
}

impl Run {
    pub fn is_completed(&self) -> bool {
        self.status.is_completed()
    }
    pub fn is_completed_success(&self) -> bool {
        self.is_completed() && self.conclusion == Some(Conclusion::Success)
    }
    /// A run from a fork: its head repository differs from `repo` (a deleted fork is not one).
    pub fn is_from_fork_of(&self, repo: &Repo) -> bool {
        self.head_repo.as_deref().is_some_and(|h| !h.eq_ignore_ascii_case(&repo.full()))
    }
    pub fn status_text(&self) -> String {
        match (self.status.name(), &self.conclusion) {
            (Some(s), Some(c)) => format!("{s} ({c})"),
            (Some(s), None) => s.to_string(),
            _ => "unknown".into(),
        }
    }
    /// Unix seconds of `created_at`.
    pub fn created(&self) -> Option<i64> {
        self.created_at.as_deref().and_then(super::time::parse_rfc3339)
    }
    /// The workflow file name (`multi_arch_ci.yml`) from `path`.
    pub fn workflow_file(&self) -> Option<String> {
        let p = self.path.as_deref()?;
        let p = p.split('@').next().unwrap_or(p);
        p.rsplit('/').next().map(String::from)
    }
}

/// One job of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Job {
    pub name: String,
    pub status: RunStatus,
    pub conclusion: Option<Conclusion>,
}

/// Whether a run's build jobs were healthy: at least one job whose name contains `Build` (any
/// case), and every such job completed with success or was skipped (upstream's `baseline_runs.py`
/// rule, TheRock #7529: a failed test job does not make the archives incomplete, nor does a
/// skipped one such as the Quartz notifications or a stage reused from a baseline; a failed,
/// cancelled or unfinished build job does).
pub fn build_jobs_healthy(run_id: u64, jobs: &[Job]) -> Result<(), RunRejection> {
    let builds: Vec<&Job> = jobs.iter().filter(|j| j.name.to_lowercase().contains("build")).collect();
    if builds.is_empty() {
        return Err(RunRejection::NoBuildJob { id: run_id });
    }
    let bad: Vec<(String, String)> = builds
        .iter()
        .filter(|j| !(j.status.is_completed() && matches!(j.conclusion, Some(Conclusion::Success | Conclusion::Skipped))))
        .map(|j| (j.name.clone(), j.conclusion.as_ref().map(Conclusion::name).or(j.status.name()).unwrap_or("unknown").to_string()))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(RunRejection::BuildJobFailed { id: run_id, jobs: bad })
    }
}

/// One commit of a history listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Commit {
    pub sha: String,
    pub parents: Vec<String>,
    /// Unix seconds of the committer date, when known.
    pub date: Option<i64>,
    /// The first line of the message, when known.
    pub subject: Option<String>,
    /// The author date as written (RFC 3339), when known.
    pub author_date: Option<String>,
}

/// First 12 characters of a SHA (or the whole string when shorter).
pub fn short_sha(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_fork_is_not_a_fork() {
        let r = Repo::parse("ROCm/TheRock").unwrap();
        let mut run = Run { head_repo: None, ..Run::default() };
        assert!(!run.is_from_fork_of(&r));
        run.head_repo = Some("rocm/therock".into());
        assert!(!run.is_from_fork_of(&r), "letter case does not make a fork");
        run.head_repo = Some("someone/TheRock".into());
        assert!(run.is_from_fork_of(&r));
    }

    #[test]
    fn workflow_file_drops_the_directory_and_the_ref() {
        let run = Run { path: Some(".github/workflows/therock-ci.yml@refs/heads/develop".into()), ..Run::default() };
        assert_eq!(run.workflow_file().as_deref(), Some("therock-ci.yml"));
    }

    #[test]
    fn builds_are_healthy_when_every_build_job_succeeded_whatever_the_tests_did() {
        let job = |name: &str, conclusion: &str| Job { name: name.into(), status: RunStatus::Completed, conclusion: Conclusion::parse(Some(conclusion)) };
        let ok = [job("Build Linux gfx94X-dcgpu", "success"), job("Test Linux gfx94X-dcgpu", "failure")];
        assert_eq!(build_jobs_healthy(1, &ok), Ok(()));
        let bad = [job("build / linux", "success"), job("Build Windows", "cancelled")];
        let why = build_jobs_healthy(2, &bad).unwrap_err();
        assert_eq!(why, RunRejection::BuildJobFailed { id: 2, jobs: vec![("Build Windows".into(), "cancelled".into())] });
        assert_eq!(why.to_string(), "run 2 failed in build job(s) 'Build Windows' (cancelled)");
        let running = [Job { name: "Build".into(), status: RunStatus::InProgress, conclusion: None }];
        assert_eq!(
            build_jobs_healthy(3, &running),
            Err(RunRejection::BuildJobFailed { id: 3, jobs: vec![("Build".into(), "in_progress".into())] }),
            "an unfinished build job is not healthy"
        );
        assert_eq!(build_jobs_healthy(4, &[job("Test", "failure")]), Err(RunRejection::NoBuildJob { id: 4 }), "no build job vouches for anything");
    }

    #[test]
    fn a_skipped_build_job_such_as_quartz_is_healthy() {
        let job = |name: &str, conclusion: &str| Job { name: name.into(), status: RunStatus::Completed, conclusion: Conclusion::parse(Some(conclusion)) };
        let jobs = [
            job("Linux::release / Build Multi-Arch Stages / Quartz - started - build ROCm", "skipped"),
            job("Linux::release / Build Multi-Arch Stages / foundation", "success"),
            job("Linux::release / Test gfx94X", "failure"),
        ];
        assert_eq!(build_jobs_healthy(5, &jobs), Ok(()));
        let neutral = [job("Build Linux", "neutral")];
        assert!(build_jobs_healthy(6, &neutral).is_err(), "only success and skipped are healthy");
    }

    #[test]
    fn short_shas_never_panic() {
        assert_eq!(short_sha("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_sha("abc"), "abc");
    }
}
