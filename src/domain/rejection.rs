//! Why a walk passed over a commit (or a run), as data: `Display` gives the words reports have
//! always shown, `kind()` a stable kebab-case name for machines (JSON `looked_at[].kind`).

use std::fmt;

use super::buckets::Repo;
use super::run::short_sha;
use super::status::RunStatus;

/// Why one run may not supply artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRejection {
    /// Completed with conclusion `failure` where only successful runs count.
    Failed {
        id: u64,
    },
    Cancelled {
        id: u64,
    },
    /// Completed with another conclusion (`timed_out`, `skipped`, ...), kept as GitHub names it.
    Concluded {
        id: u64,
        conclusion: String,
    },
    NoConclusion {
        id: u64,
    },
    /// Not completed yet (queued, in progress, waiting, ...).
    InProgress {
        id: u64,
        status: RunStatus,
    },
    NoStatus {
        id: u64,
    },
    /// Older than `--max-age-hours`.
    TooOld {
        id: u64,
        hours: i64,
        limit: i64,
    },
    /// A run whose tests failed counts only when it holds every group on its own.
    FailedWithoutEveryGroup {
        id: u64,
    },
    /// A run whose tests failed and that has no build job to vouch for its archives.
    NoBuildJob {
        id: u64,
    },
    /// A run whose build jobs did not all succeed: each job's name and how it ended.
    BuildJobFailed {
        id: u64,
        jobs: Vec<(String, String)>,
    },
}

/// A requested group a commit's runs do not supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    Missing {
        group: String,
        /// The `{name}_{component}_{family}` archives it lacked: every target-specific
        /// `{name}_{component}` the candidate runs hold for other targets (TheRock #8296).
        lacks: Vec<String>,
    },
    /// Found, but without archives matching these `--require-artifact` patterns.
    LacksRequired { group: String, patterns: Vec<String> },
}

/// Why a commit has no artifacts to offer (or, `TookFailedRun`, the note on one taken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No run of the workflow for the commit.
    NoRun,
    /// Runs exist, none may supply artifacts.
    Runs(Vec<RunRejection>),
    /// Candidate runs were listed in S3 and miss groups; `notes` are runs set aside on the way.
    Groups { gaps: Vec<Gap>, runs: Vec<u64>, notes: Vec<RunRejection> },
    /// The commit exists only in the local checkout, so CI never ran on it.
    LocalOnly,
    /// `bisect`: good is not a first-parent ancestor of bad within `within` commits.
    /// `swapped`: bad is a first-parent ancestor of good (the two were given the wrong way round).
    NotAncestor { good: String, bad: String, within: usize, repo: Repo, swapped: bool },
    /// Not a rejection: the commit was taken from a run whose tests failed but builds were healthy.
    TookFailedRun { id: u64 },
}

impl RunRejection {
    pub fn kind(&self) -> &'static str {
        match self {
            RunRejection::Failed { .. } => "run-failed",
            RunRejection::Cancelled { .. } => "run-cancelled",
            RunRejection::Concluded { .. } => "run-concluded",
            RunRejection::NoConclusion { .. } => "no-conclusion",
            RunRejection::InProgress { .. } => "in-progress",
            RunRejection::NoStatus { .. } => "no-status",
            RunRejection::TooOld { .. } => "too-old",
            RunRejection::FailedWithoutEveryGroup { .. } => "failed-without-every-group",
            RunRejection::NoBuildJob { .. } => "no-build-job",
            RunRejection::BuildJobFailed { .. } => "build-job-failed",
        }
    }
}

impl Rejection {
    /// The groups missing and the exact archives they lacked, for `looked_at[].missing`.
    pub fn missing(&self) -> Vec<(&str, &[String])> {
        match self {
            Rejection::Groups { gaps, .. } => gaps
                .iter()
                .filter_map(|g| match g {
                    Gap::Missing { group, lacks } => Some((group.as_str(), lacks.as_slice())),
                    Gap::LacksRequired { .. } => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The machine-readable name. A commit whose runs were all set aside for one reason gets
    /// that reason's name; for mixed reasons, `no-usable-run`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::NoRun => "no-run",
            Rejection::Runs(runs) => match runs.first().map(RunRejection::kind) {
                Some(k) if runs.iter().all(|r| r.kind() == k) => k,
                _ => "no-usable-run",
            },
            Rejection::Groups { gaps, .. } if gaps.iter().any(|g| matches!(g, Gap::Missing { .. })) => "group-missing",
            Rejection::Groups { .. } => "lacks-required",
            Rejection::LocalOnly => "local-only",
            Rejection::NotAncestor { .. } => "not-ancestor",
            Rejection::TookFailedRun { .. } => "took-failed-run",
        }
    }
}

/// `items` written one after another with `sep` between them.
fn joined<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl fmt::Display for RunRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunRejection::Failed { id } => write!(f, "run {id} failed"),
            RunRejection::Cancelled { id } => write!(f, "run {id} cancelled"),
            RunRejection::Concluded { id, conclusion } => write!(f, "run {id} {conclusion}"),
            RunRejection::NoConclusion { id } => write!(f, "run {id} completed without a conclusion"),
            RunRejection::InProgress { id, status } => write!(f, "run {id} {}", status.name().unwrap_or("unknown").replace('_', " ")),
            RunRejection::NoStatus { id } => write!(f, "run {id} has no status"),
            RunRejection::TooOld { id, hours, limit } => write!(f, "run {id} is {hours} h old, more than the {limit} h allowed"),
            RunRejection::FailedWithoutEveryGroup { id } => write!(f, "run {id} failed without every group"),
            RunRejection::NoBuildJob { id } => write!(f, "run {id} failed and has no build job to vouch for its archives"),
            RunRejection::BuildJobFailed { id, jobs } => {
                let jobs: Vec<String> = jobs.iter().map(|(name, how)| format!("'{name}' ({how})")).collect();
                write!(f, "run {id} failed in build job(s) {}", jobs.join(", "))
            }
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::Missing { group, lacks } if lacks.is_empty() => write!(f, "group {group} missing"),
            Gap::Missing { group, lacks } => {
                const SHOWN: usize = 6;
                write!(f, "group {group} missing (lacks {}", lacks[..lacks.len().min(SHOWN)].join(", "))?;
                if lacks.len() > SHOWN {
                    write!(f, " and {} more", lacks.len() - SHOWN)?;
                }
                f.write_str(")")
            }
            Gap::LacksRequired { group, patterns } => write!(f, "group {group} lacks required artifacts {}", patterns.join(", ")),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NoRun => f.write_str("no run of the workflow"),
            Rejection::Runs(runs) => joined(f, runs, ", "),
            Rejection::Groups { gaps, runs, notes } => {
                joined(f, gaps, ", ")?;
                f.write_str(" in run(s) ")?;
                joined(f, runs, ", ")?;
                if !notes.is_empty() {
                    f.write_str("; ")?;
                    joined(f, notes, "; ")?;
                }
                Ok(())
            }
            Rejection::LocalOnly => f.write_str("it exists only in the local checkout"),
            Rejection::NotAncestor { good, bad, within, repo, swapped } => {
                write!(f, "good commit {} is not a first-parent ancestor of bad commit {} within {within} commits of {repo}", short_sha(good), short_sha(bad))?;
                if *swapped {
                    write!(f, "; {} is an ancestor of {}: swap --good and --bad", short_sha(bad), short_sha(good))?;
                }
                Ok(())
            }
            Rejection::TookFailedRun { id } => write!(f, "tests failed, builds healthy: took run {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_those_reports_have_always_shown() {
        let runs = Rejection::Runs(vec![
            RunRejection::Failed { id: 1 },
            RunRejection::InProgress { id: 2, status: RunStatus::InProgress },
            RunRejection::Cancelled { id: 3 },
        ]);
        assert_eq!(runs.to_string(), "run 1 failed, run 2 in progress, run 3 cancelled");
        assert_eq!(runs.kind(), "no-usable-run");
        let gaps = Rejection::Groups {
            gaps: vec![
                Gap::Missing { group: "gfx94X-dcgpu".into(), lacks: vec![] },
                Gap::LacksRequired { group: "gfx110X-all".into(), patterns: vec!["^a".into(), "^b".into()] },
            ],
            runs: vec![7, 6],
            notes: vec![
                RunRejection::FailedWithoutEveryGroup { id: 5 },
                RunRejection::BuildJobFailed { id: 4, jobs: vec![("Build Windows".into(), "cancelled".into())] },
            ],
        };
        assert_eq!(
            gaps.to_string(),
            "group gfx94X-dcgpu missing, group gfx110X-all lacks required artifacts ^a, ^b in run(s) 7, 6; run 5 failed without every group; run 4 failed in build job(s) 'Build Windows' (cancelled)"
        );
        assert_eq!(gaps.kind(), "group-missing");
        assert_eq!(RunRejection::TooOld { id: 4, hours: 80, limit: 72 }.to_string(), "run 4 is 80 h old, more than the 72 h allowed");
    }

    #[test]
    fn a_missing_group_names_the_exact_archives_it_lacked_and_counts_the_rest() {
        let lacks: Vec<String> = (0..8).map(|i| format!("lib{i}_lib_gfx125X-dcgpu")).collect();
        let g = Gap::Missing { group: "gfx125X-dcgpu".into(), lacks: lacks.clone() };
        assert_eq!(
            g.to_string(),
            "group gfx125X-dcgpu missing (lacks lib0_lib_gfx125X-dcgpu, lib1_lib_gfx125X-dcgpu, lib2_lib_gfx125X-dcgpu, lib3_lib_gfx125X-dcgpu, lib4_lib_gfx125X-dcgpu, lib5_lib_gfx125X-dcgpu and 2 more)"
        );
        let why = Rejection::Groups { gaps: vec![g], runs: vec![1], notes: vec![] };
        assert_eq!(why.missing(), vec![("gfx125X-dcgpu", lacks.as_slice())]);
        assert_eq!(why.kind(), "group-missing");
    }

    #[test]
    fn one_reason_for_every_run_names_the_commit_kind() {
        assert_eq!(Rejection::Runs(vec![RunRejection::TooOld { id: 1, hours: 9, limit: 1 }]).kind(), "too-old");
        assert_eq!(Rejection::NoRun.kind(), "no-run");
        assert_eq!(
            Rejection::Groups { gaps: vec![Gap::LacksRequired { group: "g".into(), patterns: vec![] }], runs: vec![1], notes: vec![] }.kind(),
            "lacks-required"
        );
    }
}
