//! What either front end can say, as text, before validation. The command line parses straight
//! into these structs (they are clap argument groups); the action fills the same structs from
//! `INPUT_*`. `Config::build` is the only place that turns them into typed values.

use clap::Args;

/// Flags every lookup command shares.
#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// Repository OWNER/NAME (default: the origin remote of the current git checkout).
    #[arg(long, short = 'R')]
    pub repo: Option<String>,
    /// Artifact groups (GPU families such as gfx94X-dcgpu, or `generic`; one or more values;
    /// repeatable). `fetch` without one takes every archive of the run.
    #[arg(long = "artifact-group", num_args = 1..)]
    pub artifact_group: Vec<String>,
    /// Extra gfx targets for a single artifact group (repeatable; upstream spells it
    /// --amdgpu-targets).
    #[arg(long = "amdgpu-target", visible_alias = "amdgpu-targets")]
    pub amdgpu_target: Vec<String>,
    /// The platform whose artifacts to use (default: the host OS) [possible values: linux, windows]
    // The values are listed, not clap's value parser: a wrong one stays a one-sentence error.
    #[arg(long)]
    pub platform: Option<String>,
    /// Workflow file (default: multi_arch_ci.yml for TheRock and forks, therock-ci.yml otherwise).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// A ref GitHub resolves (branch, then tag, then commit) when no commit, run or pull request
    /// is given: the action's `ref` and `branch` inputs.
    #[arg(skip)]
    pub git_ref: Option<String>,
    /// With nothing else given: the head of the repository's default branch (the action, for a
    /// repository other than the workflow's own).
    #[arg(skip)]
    pub default_branch_head: bool,
}

/// How far and where a baseline walk goes.
#[derive(Args, Debug, Clone, Default)]
pub struct WalkRaw {
    /// Branch for the merge-base walk (default: main for TheRock, else the default branch).
    #[arg(long = "base-branch")]
    pub base_branch: Option<String>,
    /// How many first-parent commits to walk back at most.
    #[arg(long = "max-commits")]
    pub max_commits: Option<String>,
    /// The TheRock repository super-repos pin (default ROCm/TheRock).
    #[arg(long = "therock-repo", visible_alias = "therock-repository")]
    pub therock_repo: Option<String>,
    /// The TheRock workflow a super-repo's pin is walked in (default multi_arch_ci.yml; on a
    /// super-repo, `--workflow` names the super-repo workflow whose pin is read).
    #[arg(long = "therock-workflow")]
    pub therock_workflow: Option<String>,
    /// A pull request number: its head commit and base branch.
    #[arg(long)]
    pub pr: Option<String>,
    /// Runs older than this many hours do not count (upstream reuses baselines up to 72 h old).
    #[arg(long = "max-age-hours")]
    pub max_age_hours: Option<String>,
}

/// Which runs and archives count.
#[derive(Args, Debug, Clone, Default)]
pub struct RequireRaw {
    /// A regex every group's archive list must match (repeatable).
    #[arg(long = "require-artifact")]
    pub require_artifact: Vec<String>,
    /// All groups must come from one run (no accumulation across re-triggered runs).
    #[arg(long = "require-single-run")]
    pub require_single_run: bool,
    /// Only completed, successful runs count (else `latest` and `baseline` also take runs whose
    /// tests failed but whose build jobs were healthy; `find` takes any run).
    #[arg(long = "require-successful-run")]
    pub require_successful_run: bool,
}

/// `--stage`: a build stage's inbound artifacts (`BUILD_TOPOLOGY.toml`), narrowed.
#[derive(Args, Debug, Clone, Default)]
pub struct StageRaw {
    /// Only the artifacts this build stage consumes from earlier stages, or `all` (every
    /// artifact of the commit's BUILD_TOPOLOGY.toml).
    #[arg(long)]
    pub stage: Option<String>,
    /// With --stage: drop archives of this component (lib, run, dev, dbg, doc, test; repeatable).
    #[arg(long = "exclude-component", requires = "stage")]
    pub exclude_component: Vec<String>,
    /// With --stage: drop this artifact (a name of the topology; repeatable).
    #[arg(long = "exclude-artifact", requires = "stage")]
    pub exclude_artifact: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FindRaw {
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long, conflicts_with = "run_id")]
    pub commit: Option<String>,
    /// Use this workflow run directly.
    #[arg(long = "run-id")]
    pub run_id: Option<String>,
    #[command(flatten)]
    pub require: RequireRaw,
    #[command(flatten)]
    pub release: ReleaseRaw,
    #[command(flatten)]
    pub stage: StageRaw,
}

/// `--release`: a ROCm release tarball instead of a CI run (`find`, `fetch`).
#[derive(Args, Debug, Clone, Default)]
pub struct ReleaseRaw {
    /// A release tarball instead of a CI run: `latest` (the newest nightly of the group and
    /// platform) or a version (7.11.0a20251124, 7.11.0rc20251124, 7.11.0.dev0+SHA).
    #[arg(long)]
    pub release: Option<String>,
    /// With --release: the `-tests` tarball too. With --components: each set's `_test` archives.
    #[arg(long)]
    pub tests: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LatestRaw {
    /// Branch (default: the repository's default branch).
    #[arg(long, short = 'b')]
    pub branch: Option<String>,
    /// A branch or a commit SHA to walk back from (resolved once, as upstream's
    /// find_latest_artifacts.py --ref).
    #[arg(long = "ref", conflicts_with = "branch")]
    pub git_ref: Option<String>,
    /// Judge this run alone: its commit, when the run is usable and holds every group.
    #[arg(long = "run-id", conflicts_with_all = ["branch", "git_ref"])]
    pub run_id: Option<String>,
    /// How many commits to look at at most.
    #[arg(long = "max-commits")]
    pub max_commits: Option<String>,
    #[command(flatten)]
    pub require: RequireRaw,
}

#[derive(Args, Debug, Clone, Default)]
pub struct BaselineRaw {
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long, conflicts_with = "run_id")]
    pub commit: Option<String>,
    /// The commit of this workflow run.
    #[arg(long = "run-id")]
    pub run_id: Option<String>,
    #[command(flatten)]
    pub walk: WalkRaw,
    #[command(flatten)]
    pub require: RequireRaw,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FetchRaw {
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long, conflicts_with = "run_id")]
    pub commit: Option<String>,
    /// Use this workflow run directly.
    #[arg(long = "run-id")]
    pub run_id: Option<String>,
    /// Resolve the baseline commit first (as `baseline` does).
    #[arg(long)]
    pub baseline: bool,
    /// Fetch what `reuse` plans: the baseline run's archives the rebuilt stages need (default
    /// extract mode bootstrap).
    #[arg(long, conflicts_with_all = ["baseline", "run_id"])]
    pub reuse: bool,
    #[command(flatten)]
    pub walk: WalkRaw,
    #[command(flatten)]
    pub require: RequireRaw,
    /// Where to put the artifacts (not needed with --dry-run).
    #[arg(long = "output-dir", short = 'D', required_unless_present = "dry_run")]
    pub output_dir: Option<String>,
    #[command(flatten)]
    pub fetch: FetchOptsRaw,
    #[command(flatten)]
    pub release: ReleaseRaw,
}

/// Which archives to take and how to lay them out (`fetch`, `bisect`, `exec`).
#[derive(Args, Debug, Clone, Default)]
pub struct SelectRaw {
    /// Keep archives whose filename matches (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Drop archives whose filename matches (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Keep archives whose filename matches this glob (`blas_*_gfx94*`, as `gh run download
    /// --pattern`; repeatable; adds to --include).
    #[arg(long)]
    pub pattern: Vec<String>,
    /// How to lay the archives out: flatten (default: one merged tree), per-artifact (one
    /// directory per archive), archives (the archives themselves), bootstrap (TheRock's build
    /// tree, with .prebuilt markers) [possible values: flatten, per-artifact, archives, bootstrap]
    #[arg(long)]
    pub extract: Option<String>,
}

/// Fetch settings.
#[derive(Args, Debug, Clone, Default)]
pub struct FetchOptsRaw {
    #[command(flatten)]
    pub select: SelectRaw,
    /// Skip the .sha256sum check.
    #[arg(long = "no-verify")]
    pub no_verify: bool,
    /// List what would be fetched, with sizes; download nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Stream straight to extraction without keeping archives in the cache.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Write even into a system directory (`/`, `/usr`, or one that holds a root file system).
    #[arg(long)]
    pub force: bool,
    /// Remove what earlier fetches into the output placed first (never files it did not write).
    #[arg(long, conflicts_with = "merge")]
    pub clean: bool,
    /// Layer over an earlier fetch of another commit on purpose (else replaced or refused).
    #[arg(long)]
    pub merge: bool,
    /// Named component sets, as upstream's installer flags (base, blas, fft, miopen, rccl, ...;
    /// comma-separated or repeated): each adds its `_lib` archives and extras to the base set.
    #[arg(long, num_args = 1..)]
    pub components: Vec<String>,
    #[command(flatten)]
    pub stage: StageRaw,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CompareRaw {
    /// The older side: a commit SHA or a revision of this checkout (default: HEAD).
    #[arg(long, conflicts_with = "from_run_id")]
    pub from: Option<String>,
    /// The older side: this workflow run.
    #[arg(long = "from-run-id")]
    pub from_run_id: Option<String>,
    /// The newer side: a commit SHA or a revision of this checkout.
    #[arg(long, conflicts_with = "to_run_id")]
    pub to: Option<String>,
    /// The newer side: this workflow run.
    #[arg(long = "to-run-id")]
    pub to_run_id: Option<String>,
    /// The platform of the 'to' side (it must equal --platform; refused otherwise). Hidden:
    /// only one value is ever accepted; kept so existing scripts still parse.
    #[arg(long = "to-platform", hide = true)]
    pub to_platform: Option<String>,
    /// Compare file sizes inside the archives (reads tar headers only).
    #[arg(long)]
    pub deep: bool,
    /// With --deep: only member paths matching this regex (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Print a Markdown table.
    #[arg(long)]
    pub markdown: bool,
    /// How many rows every table shows (default: every changed archive, 20 files with --deep).
    #[arg(long)]
    pub top: Option<String>,
    /// Show unchanged archives too (hidden by default; folded in <details> in Markdown).
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct BisectRaw {
    /// A commit where the test passes.
    #[arg(long, required_unless_present_any = ["bump", "bad_therock", "state"])]
    pub good: Option<String>,
    /// A commit where the test fails (a first-parent descendant of --good).
    #[arg(long, required_unless_present_any = ["bump", "bad_therock", "state"])]
    pub bad: Option<String>,
    #[command(flatten)]
    pub bump: BumpRaw,
    #[command(flatten)]
    pub plan: PlanRaw,
    /// The branch whose runs are listed (default: main for TheRock, else the default branch).
    #[arg(long, short = 'b')]
    pub branch: Option<String>,
    /// How many first-parent commits back from --bad to look for --good (default 100).
    #[arg(long = "max-commits")]
    pub max_commits: Option<String>,
    #[command(flatten)]
    pub require: RequireRaw,
    #[command(flatten)]
    pub select: SelectRaw,
    /// Where each step's tree goes (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub workdir: Option<String>,
    /// Keep each step's tree.
    #[arg(long)]
    pub keep: bool,
    /// For a rocm-libraries / rocm-systems commit: fetch the TheRock baseline of its pin for
    /// the groups, then its own run's archives over it (a complete ROCm tree).
    #[arg(long)]
    pub overlay: bool,
    /// Print the answer as Markdown (for a pull request comment).
    #[arg(long)]
    pub markdown: bool,
    /// The test: exit 0 good, 125 skip, 1-127 bad, 128 or more abort (as `git bisect run`). It
    /// runs with THEROCK_ARTIFACTS_DIR, _COMMIT and _RUN_ID, ROCM_PATH and THEROCK_BIN_DIR (the
    /// tree and its bin/), AMDGPU_FAMILIES (the groups), and PATH and LD_LIBRARY_PATH (PATH on
    /// Windows) led by the tree's bin/ and lib/.
    #[arg(last = true, required_unless_present = "plan", num_args = 1..)]
    pub command: Vec<String>,
}

/// `bisect` over a TheRock submodule bump: the super-repo range between two gitlinks.
#[derive(Args, Debug, Clone, Default)]
pub struct BumpRaw {
    /// A TheRock commit that bumped rocm-libraries or rocm-systems: bisect the super-repo
    /// commits between its parent's gitlink (good) and its own (bad).
    #[arg(long, conflicts_with_all = ["good", "bad", "good_therock", "bad_therock"])]
    pub bump: Option<String>,
    /// A TheRock commit whose submodule gitlink tests good (with --bad-therock).
    #[arg(long = "good-therock", requires = "bad_therock", conflicts_with_all = ["good", "bad"])]
    pub good_therock: Option<String>,
    /// A later TheRock commit whose submodule gitlink tests bad (with --good-therock).
    #[arg(long = "bad-therock", requires = "good_therock", conflicts_with_all = ["good", "bad"])]
    pub bad_therock: Option<String>,
    /// The submodule to bisect when the bump moved more than one (rocm-libraries, rocm-systems).
    #[arg(long)]
    pub submodule: Option<String>,
}

/// `bisect --plan`: one round of a parallel bisection (a GitHub Actions matrix of `exec` jobs).
#[derive(Args, Debug, Clone, Default)]
pub struct PlanRaw {
    /// Print the next round (a matrix of commits to test at once) instead of running a test.
    #[arg(long)]
    pub plan: bool,
    /// How many commits one round tests at once (with --plan; default 3).
    #[arg(long, requires = "plan")]
    pub ways: Option<String>,
    /// The previous round's document (or its `state` value), to go on from (with --plan).
    #[arg(long, requires = "plan")]
    pub state: Option<String>,
    /// A tested commit's verdict, SHA=good|bad|skip (repeatable; with --state).
    #[arg(long = "result", requires = "state")]
    pub result: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ExecRaw {
    /// The commit whose artifacts to use (default: HEAD of the current checkout).
    #[arg(long)]
    pub commit: Option<String>,
    #[command(flatten)]
    pub require: RequireRaw,
    #[command(flatten)]
    pub select: SelectRaw,
    /// Where the tree goes (default: a temporary directory, removed after the command).
    #[arg(long)]
    pub workdir: Option<String>,
    /// Keep the tree.
    #[arg(long)]
    pub keep: bool,
    /// For a rocm-libraries / rocm-systems commit: fetch the TheRock baseline of its pin for
    /// the groups, then its own run's archives over it (a complete ROCm tree).
    #[arg(long)]
    pub overlay: bool,
    /// The command, run with THEROCK_ARTIFACTS_DIR, _COMMIT and _RUN_ID set, ROCM_PATH and
    /// THEROCK_BIN_DIR (the tree and its bin/), AMDGPU_FAMILIES (the groups), and PATH and
    /// LD_LIBRARY_PATH (PATH on Windows) led by the tree's bin/ and lib/.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ReuseRaw {
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long)]
    pub commit: Option<String>,
    #[command(flatten)]
    pub walk: WalkRaw,
    #[command(flatten)]
    pub require: RequireRaw,
    /// Changed inputs given by hand: repository-relative paths or submodule names (repeatable;
    /// default: the paths changed between the baseline commit and the commit).
    #[arg(long, num_args = 1..)]
    pub changed: Vec<String>,
    /// One plan per platform and the decision for all of them: linux, windows or both (comma
    /// list, repeatable; `--platform` may be repeated here too).
    #[arg(long, value_delimiter = ',')]
    pub platforms: Vec<String>,
}

/// `contains`: the first TheRock commit whose gitlink includes a super-repo commit.
#[derive(Args, Debug, Clone, Default)]
pub struct ContainsRaw {
    /// The rocm-libraries / rocm-systems commit (default: HEAD of the current checkout).
    #[arg(long)]
    pub commit: Option<String>,
    /// The TheRock branch whose first-parent history is searched (default main).
    #[arg(long = "therock-branch")]
    pub therock_branch: Option<String>,
}

/// One command's own flags.
#[derive(Debug, Clone)]
// Parsed once per process, moved once: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum RawCommand {
    Find(FindRaw),
    Latest(LatestRaw),
    Baseline(BaselineRaw),
    Fetch(FetchRaw),
    Compare(CompareRaw),
    Bisect(BisectRaw),
    Exec(ExecRaw),
    Reuse(ReuseRaw),
    Contains(ContainsRaw),
}

/// Which front end the values came from (it words errors in its own terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Front {
    #[default]
    Cli,
    Action,
}

/// Everything a front end said.
#[derive(Debug, Clone)]
pub struct Raw {
    pub common: Common,
    pub command: RawCommand,
    /// Token given explicitly (the action's `github-token` input).
    pub token: Option<String>,
}
