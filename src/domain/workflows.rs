//! Which workflow's runs answer a super-repo commit, and the TheRock commit a pin resolved at
//! run time (or a release branch) stood for (therock-facts.md §4, §5).

use super::buckets::Repo;
use super::run::{Commit, Run};

/// The super-repos' gating workflow since 2026-08 ("TheRock Multi-Arch CI").
pub const MULTI_ARCH: &str = "therock-multi-arch-ci.yml";
/// The super-repos' legacy workflow ("TheRock CI"), still running beside it.
pub const LEGACY: &str = "therock-ci.yml";
/// The release branches rocm-systems' `therock-ci.yml` builds against TheRock's namesake.
pub const RELEASE_PREFIX: &str = "release/therock-";

/// Whether `file` is the multi-arch CI or one of its variants (`-nightly`, `-asan`, ...).
pub fn is_multi_arch(file: &str) -> bool {
    file == MULTI_ARCH || (file.starts_with("therock-multi-arch-ci-") && (file.ends_with(".yml") || file.ends_with(".yaml")))
}

/// Which of a super-repo's pins a baseline reads (facts §5: the pin of the workflow that ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinChain {
    /// The multi-arch CI's own pin (rocm-libraries: the workflow file; rocm-systems:
    /// `therock_ref.json` and the `_therock_*` wrappers).
    MultiArch,
    /// The legacy "TheRock CI": ci-env, then the checkout step of `therock-ci.yml`,
    /// `therock-ci-linux.yml`.
    Legacy,
    /// Every pin file in the order the tool always read them (nothing says which workflow ran).
    AnyFile,
}

impl PinChain {
    /// The workflow file this chain stands for, as the answer names it.
    pub fn workflow(self) -> Option<&'static str> {
        match self {
            PinChain::MultiArch => Some(MULTI_ARCH),
            PinChain::Legacy => Some(LEGACY),
            PinChain::AnyFile => None,
        }
    }
}

/// The chain to read: `--workflow` names it; else the workflow of the run that answers first
/// (`answering`, from `candidate_order`). `None`: no run says (the caller looks for the
/// multi-arch workflow file).
pub fn pin_chain(workflow_flag: Option<&str>, answering: Option<&str>) -> Option<PinChain> {
    let file = |w: &str| match w.rsplit('/').next().unwrap_or(w) {
        f if is_multi_arch(f) => PinChain::MultiArch,
        LEGACY => PinChain::Legacy,
        _ => PinChain::AnyFile,
    };
    match (workflow_flag, answering) {
        (Some(w), _) => Some(file(w)),
        (None, Some(w)) => Some(file(w)),
        (None, None) => None,
    }
}

/// The workflow files whose runs are looked for in `repo`, in order of preference.
pub fn workflow_files(repo: &Repo) -> &'static [&'static str] {
    if repo.is_therock_family() {
        &["multi_arch_ci.yml"]
    } else {
        &[MULTI_ARCH, LEGACY]
    }
}

/// The candidate runs of one commit, from one repository-wide listing, in the order they answer
/// groups: by workflow (`files` order; `--workflow` names exactly one file), newest first within
/// each. Runs of other workflows are dropped. A selection offered the runs in this order answers a
/// group from a multi-arch run even when a newer legacy run exists, and from a legacy run a group
/// only it holds.
pub fn candidate_order<'r>(runs: &'r [Run], files: &[&str], workflow_flag: Option<&str>) -> Vec<&'r Run> {
    let flag = workflow_flag.map(|w| w.rsplit('/').next().unwrap_or(w));
    let rank = |r: &Run| {
        let f = r.workflow_file()?;
        match flag {
            Some(w) => (f == w).then_some(0),
            None => files.iter().position(|x| *x == f),
        }
    };
    let mut ranked: Vec<(usize, &Run)> = runs.iter().filter_map(|r| Some((rank(r)?, r))).collect();
    ranked.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then(b.created().cmp(&a.created())).then(b.id.cmp(&a.id)));
    ranked.into_iter().map(|(_, r)| r).collect()
}

/// The moment a TheRock ref resolved at run time (or a release branch) is read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeBasis {
    /// A pull request: the committer time of its merge base (rocm-libraries'
    /// `resolve_therock_ref.py`).
    MergeBase { sha: String, at: String },
    /// A commit on a branch: its own committer time.
    Commit { sha: String, at: String },
}

impl TimeBasis {
    /// The timestamp as written (RFC 3339).
    pub fn timestamp(&self) -> &str {
        match self {
            TimeBasis::MergeBase { at, .. } | TimeBasis::Commit { at, .. } => at,
        }
    }
    pub fn what(&self) -> String {
        match self {
            TimeBasis::MergeBase { sha, at } => format!("the committer time of the pull request's merge base {} ({at})", super::run::short_sha(sha)),
            TimeBasis::Commit { sha, at } => format!("the committer time of commit {} ({at})", super::run::short_sha(sha)),
        }
    }
}

/// The newest of `commits` (newest first, as `GET /commits?sha=B&until=T` lists them) whose
/// committer date is at or before `at` (RFC 3339). `None` when none is, or `at` does not parse.
pub fn newest_at_or_before<'c>(commits: &'c [Commit], at: &str) -> Option<&'c Commit> {
    let t = super::time::parse_rfc3339(at)?;
    commits.iter().find(|c| c.date.is_some_and(|d| d <= t))
}

/// Which TheRock ref a super-repo commit's `workflow` run builds against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TheRockRef {
    /// The pin read from the super-repo's files.
    FilePin,
    /// TheRock's branch of this name, as it was at the time basis (rocm-systems' "Determine
    /// TheRock ref" step for `release/therock-*`).
    ReleaseBranch(String),
}

/// The rule of rocm-systems' `therock-ci.yml`: a commit built on `release/therock-*` builds
/// against TheRock's branch of the same name; everything else against the file pin.
pub fn therock_ref_for(repo: &Repo, workflow: &str, super_branch: Option<&str>) -> TheRockRef {
    let systems = repo.owner.eq_ignore_ascii_case("ROCm") && repo.name.eq_ignore_ascii_case("rocm-systems");
    match super_branch {
        Some(b) if systems && workflow == LEGACY && b.strip_prefix(RELEASE_PREFIX).is_some_and(|rest| !rest.is_empty()) => {
            TheRockRef::ReleaseBranch(b.to_string())
        }
        _ => TheRockRef::FilePin,
    }
}

/// Where the super-repo branch a commit is built on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchFrom {
    PullRequestBase,
    BaseBranchFlag,
    LocalCheckout,
    RunHeadBranch,
}

/// The super-repo branch, first known wins: `--pr`'s base, `--base-branch`, the local checkout's
/// branch, the commit's runs' `head_branch` (the first candidate's).
pub fn super_branch(pr_base: Option<&str>, flag: Option<&str>, local: Option<&str>, runs: &[&Run]) -> Option<(String, BranchFrom)> {
    let run = runs.iter().find_map(|r| r.head_branch.as_deref());
    [(pr_base, BranchFrom::PullRequestBase), (flag, BranchFrom::BaseBranchFlag), (local, BranchFrom::LocalCheckout), (run, BranchFrom::RunHeadBranch)]
        .into_iter()
        .find_map(|(b, from)| b.filter(|b| !b.trim().is_empty()).map(|b| (b.trim().to_string(), from)))
}

/// ci-env's `baseline-run-id` (the bot's hint) judged against the resolved pin, as
/// rocm-libraries' `validate_baseline()`: accepted only when that run built the pinned commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HintVerdict {
    /// The hint run's TheRock commit is the pin.
    Matches { run_id: u64 },
    /// The hint run built another TheRock commit: not to be trusted.
    Differs { run_id: u64, run_commit: String },
    /// The hint run could not be read (one sentence why).
    Unknown { run_id: u64, why: String },
}

impl HintVerdict {
    /// The JSON word of the verdict.
    pub fn as_str(&self) -> &'static str {
        match self {
            HintVerdict::Matches { .. } => "matches",
            HintVerdict::Differs { .. } => "differs",
            HintVerdict::Unknown { .. } => "unknown",
        }
    }
}

/// Judges the hint: `hint_run` is the hint run's `head_sha` (`Err`: why it could not be read).
pub fn judge_hint(run_id: u64, hint_run: Result<&str, String>, pin: &str) -> HintVerdict {
    match hint_run {
        Ok(c) if c.eq_ignore_ascii_case(pin) => HintVerdict::Matches { run_id },
        Ok(c) => HintVerdict::Differs { run_id, run_commit: c.to_ascii_lowercase() },
        Err(why) => HintVerdict::Unknown { run_id, why },
    }
}

#[cfg(test)]
#[path = "workflows_tests.rs"]
mod tests;
