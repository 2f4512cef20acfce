//! Command-line flags. Both these flags and the action's `INPUT_*` land in one `Raw` value,
//! which `config::Config::build` validates.

use clap::{Args, Parser, Subcommand};

use crate::config::{CommandKind, Raw};

#[derive(Parser, Debug)]
#[command(name = "therock-artifacts", version, about = "Find, baseline, fetch and compare ROCm TheRock CI build artifacts", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Scenario 1: the CI runs and S3 locations holding a commit's (or a run's) artifacts.
    Find(FindArgs),
    /// The newest commit on a branch whose successful runs hold every requested group.
    Latest(LatestArgs),
    /// Scenario 2: the commit whose artifacts a build of --commit can reuse.
    Baseline(BaselineArgs),
    /// Find (or --baseline), then download, verify and extract the artifacts.
    Fetch(FetchArgs),
    /// Compare the artifact sizes of two commits or runs.
    Compare(CompareArgs),
    /// What the container action runs: reads INPUT_* and GITHUB_* variables.
    Action,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Repository OWNER/NAME (default: the origin remote of the current git checkout).
    #[arg(long)]
    pub repo: Option<String>,
    /// Artifact groups (GPU families such as gfx94X-dcgpu; one or more values; repeatable).
    #[arg(long = "artifact-group", num_args = 1.., required = true)]
    pub artifact_group: Vec<String>,
    /// Extra gfx targets for a single artifact group (repeatable).
    #[arg(long = "amdgpu-target")]
    pub amdgpu_target: Vec<String>,
    /// linux or windows (default: the host OS).
    #[arg(long)]
    pub platform: Option<String>,
    /// Workflow file (default: multi_arch_ci.yml for TheRock and forks, therock-ci.yml otherwise).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct BaselineOpts {
    /// Branch for the merge-base walk (default: main for TheRock, else the default branch).
    #[arg(long = "base-branch")]
    pub base_branch: Option<String>,
    /// How many first-parent commits to walk back at most.
    #[arg(long = "max-commits")]
    pub max_commits: Option<String>,
    /// The TheRock repository super-repos pin (default ROCm/TheRock).
    #[arg(long = "therock-repo")]
    pub therock_repo: Option<String>,
    /// A pull request number: its head commit and base branch.
    #[arg(long)]
    pub pr: Option<String>,
}

#[derive(Args, Debug)]
pub struct FindArgs {
    #[command(flatten)]
    pub common: Common,
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long, conflicts_with = "run_id")]
    pub commit: Option<String>,
    /// Use this workflow run directly.
    #[arg(long = "run-id")]
    pub run_id: Option<String>,
    /// A regex every group's archive list must match (repeatable).
    #[arg(long = "require-artifact")]
    pub require_artifact: Vec<String>,
    /// All groups must come from one run (no accumulation across re-triggered runs).
    #[arg(long = "require-single-run")]
    pub require_single_run: bool,
    /// Only completed, successful runs count.
    #[arg(long = "require-successful-run")]
    pub require_successful_run: bool,
}

#[derive(Args, Debug)]
pub struct LatestArgs {
    #[command(flatten)]
    pub common: Common,
    /// Branch (default: the repository's default branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// How many commits to look at at most.
    #[arg(long = "max-commits")]
    pub max_commits: Option<String>,
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub common: Common,
    /// Commit SHA (default: HEAD of the current checkout).
    #[arg(long)]
    pub commit: Option<String>,
    #[command(flatten)]
    pub opts: BaselineOpts,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, conflicts_with = "run_id")]
    pub commit: Option<String>,
    #[arg(long = "run-id")]
    pub run_id: Option<String>,
    /// Resolve the baseline commit first (as `baseline` does).
    #[arg(long)]
    pub baseline: bool,
    #[command(flatten)]
    pub opts: BaselineOpts,
    /// Where to put the artifacts.
    #[arg(long = "output-dir", required = true)]
    pub output_dir: String,
    /// Keep archives whose filename matches (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Drop archives whose filename matches (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// flatten (default), per-artifact, archives or bootstrap.
    #[arg(long)]
    pub extract: Option<String>,
    /// Skip the .sha256sum check.
    #[arg(long = "no-verify")]
    pub no_verify: bool,
    /// List what would be fetched, with sizes; download nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Stream straight to extraction without keeping archives in the cache.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, conflicts_with = "from_run_id")]
    pub from: Option<String>,
    #[arg(long = "from-run-id")]
    pub from_run_id: Option<String>,
    #[arg(long, conflicts_with = "to_run_id")]
    pub to: Option<String>,
    #[arg(long = "to-run-id")]
    pub to_run_id: Option<String>,
    /// The platform of the 'to' side (it must equal --platform; refused otherwise).
    #[arg(long = "to-platform")]
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
    /// How many rows of files to show with --deep.
    #[arg(long)]
    pub top: Option<String>,
}

fn common_into(c: Common, raw: &mut Raw) {
    raw.repo = c.repo;
    raw.groups = c.artifact_group;
    raw.targets = c.amdgpu_target;
    raw.platform = c.platform;
    raw.workflow = c.workflow;
    raw.json = c.json;
}

fn baseline_into(o: BaselineOpts, raw: &mut Raw) {
    raw.base_branch = o.base_branch;
    raw.max_commits = o.max_commits;
    raw.therock_repo = o.therock_repo;
    raw.pr = o.pr;
}

impl Cmd {
    /// `None` for `action`, which builds its `Raw` from the environment.
    pub fn into_raw(self) -> Option<Raw> {
        let mut raw = Raw::default();
        match self {
            Cmd::Find(a) => {
                raw.command = CommandKind::Find;
                common_into(a.common, &mut raw);
                raw.commit = a.commit;
                raw.run_id = a.run_id;
                raw.require_artifact = a.require_artifact;
                raw.require_single_run = a.require_single_run;
                raw.require_successful_run = a.require_successful_run;
            }
            Cmd::Latest(a) => {
                raw.command = CommandKind::Latest;
                common_into(a.common, &mut raw);
                raw.branch = a.branch;
                raw.max_commits = a.max_commits;
            }
            Cmd::Baseline(a) => {
                raw.command = CommandKind::Baseline;
                common_into(a.common, &mut raw);
                raw.commit = a.commit;
                baseline_into(a.opts, &mut raw);
            }
            Cmd::Fetch(a) => {
                raw.command = CommandKind::Fetch;
                common_into(a.common, &mut raw);
                raw.commit = a.commit;
                raw.run_id = a.run_id;
                raw.baseline = a.baseline;
                baseline_into(a.opts, &mut raw);
                raw.output_dir = Some(a.output_dir);
                raw.include = a.include;
                raw.exclude = a.exclude;
                raw.extract = a.extract;
                raw.no_verify = a.no_verify;
                raw.dry_run = a.dry_run;
                raw.no_cache = a.no_cache;
            }
            Cmd::Compare(a) => {
                raw.command = CommandKind::Compare;
                common_into(a.common, &mut raw);
                raw.commit = a.from;
                raw.run_id = a.from_run_id;
                raw.to = a.to;
                raw.to_run_id = a.to_run_id;
                raw.to_platform = a.to_platform;
                raw.deep = a.deep;
                raw.filter = a.filter;
                raw.markdown = a.markdown;
                raw.top = a.top;
            }
            Cmd::Action => return None,
        }
        Some(raw)
    }
}
