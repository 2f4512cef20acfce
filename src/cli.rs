//! Command-line flags. They parse straight into the `config::raw` structs the action fills
//! too; `Config::build` validates both.

use clap::{Args, Parser, Subcommand};

use crate::commands::cache::Op;
use crate::config::raw::{BaselineRaw, BisectRaw, Common, CompareRaw, ContainsRaw, ExecRaw, FetchRaw, FindRaw, LatestRaw, ReuseRaw};
use crate::config::{CacheCommand, ConfigError, Facts, Raw, RawCommand};

#[derive(Parser, Debug)]
#[command(name = "therock-artifacts", version, about = "Find, baseline, fetch and compare ROCm TheRock CI build artifacts", long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

/// Examples and exit codes (README "Exit codes and output") under each `--help`.
const AFTER_HELP: &str = "Examples:
  therock-artifacts find --commit HEAD --artifact-group gfx94X-dcgpu
  therock-artifacts latest -R ROCm/TheRock -b main --artifact-group gfx110X-all
  therock-artifacts fetch --baseline --artifact-group gfx94X-dcgpu -D build/artifacts
  therock-artifacts bisect --good v1 --bad HEAD --artifact-group gfx94X-dcgpu -- ./test.sh

Exit codes: 0 found, 1 nothing found (a valid answer), 2 error, 130/143 interrupted;
exec and bisect pass on the test's code (125: no artifacts, skip)";

const FIND_HELP: &str = "Examples:
  therock-artifacts find --commit 1a2b3c4 --artifact-group gfx94X-dcgpu --json
  therock-artifacts find -R ROCm/TheRock --run-id 20384488184 --artifact-group gfx110X-all

Exit codes: 0 found, 1 nothing found (a valid answer), 2 error";

const LATEST_HELP: &str = "Examples:
  therock-artifacts latest --artifact-group gfx94X-dcgpu
  therock-artifacts latest -R ROCm/TheRock -b main --artifact-group gfx94X-dcgpu gfx110X-all --require-successful-run

Exit codes: 0 found, 1 nothing found (a valid answer), 2 error";

const BASELINE_HELP: &str = "Examples:
  therock-artifacts baseline --artifact-group gfx94X-dcgpu          (HEAD of this checkout)
  therock-artifacts baseline -R ROCm/TheRock --pr 1234 --artifact-group gfx94X-dcgpu

Exit codes: 0 found, 1 nothing found (a valid answer), 2 error";

const FETCH_HELP: &str = "Examples:
  therock-artifacts fetch --commit 1a2b3c4 --artifact-group gfx94X-dcgpu -D artifacts
  therock-artifacts fetch --baseline --artifact-group gfx94X-dcgpu --extract bootstrap -D build
  therock-artifacts fetch --run-id 20384488184 -R ROCm/TheRock --dry-run

Exit codes: 0 fetched (or, with --dry-run, found), 1 nothing found or nothing selected, 2 error";

const COMPARE_HELP: &str = "Examples:
  therock-artifacts compare --from 1a2b3c4 --to 5d6e7f8 --artifact-group gfx94X-dcgpu
  therock-artifacts compare --from-run-id 100 --to-run-id 200 -R ROCm/TheRock --deep --top 10 --markdown

Exit codes: 0 compared, 1 one side has no artifacts, 2 error";

const BISECT_HELP: &str = "Examples:
  therock-artifacts bisect --good 1a2b3c4 --bad HEAD --artifact-group gfx94X-dcgpu -- ./run-test.sh
  therock-artifacts bisect --good v1 --bad main --artifact-group gfx94X-dcgpu --markdown -- sh -c 'ctest -R foo'

The test after `--`: exit 0 good, 125 skip, 1-127 bad, 128 or more abort.
Exit codes: 0 an answer, 1 none, 2 error";

const EXEC_HELP: &str = "Examples:
  git bisect run therock-artifacts exec --artifact-group gfx94X-dcgpu -- ./run-test.sh

Exit codes: the command's own, 125 when the commit has no artifacts (git bisect skips it),
128 when the tool itself failed (git bisect run stops), 2 usage errors";

/// A command's own flags next to the common ones.
#[derive(Args, Debug)]
pub struct With<T: Args> {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub own: T,
}

/// `reuse`'s flags: `With<ReuseRaw>`, where `--platform` may be repeated (one plan each; the
/// first stays `Common::platform`, all of them go to `ReuseRaw::platforms`).
#[derive(Debug)]
pub struct ReuseWith(pub With<ReuseRaw>);

impl clap::FromArgMatches for ReuseWith {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }
    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let all: Vec<String> = m.get_many::<String>("platform").map(|v| v.cloned().collect()).unwrap_or_default();
        let mut w = With::<ReuseRaw>::from_arg_matches_mut(m)?;
        if all.len() > 1 {
            w.own.platforms.splice(0..0, all);
        }
        Ok(ReuseWith(w))
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
}

impl Args for ReuseWith {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Self::repeatable(With::<ReuseRaw>::augment_args(cmd))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::repeatable(With::<ReuseRaw>::augment_args_for_update(cmd))
    }
}

impl ReuseWith {
    fn repeatable(cmd: clap::Command) -> clap::Command {
        cmd.mut_arg("platform", |a| a.action(clap::ArgAction::Append).help("linux or windows (default: the host OS); repeatable: one plan per platform"))
    }
}

#[derive(Subcommand, Debug)]
// Parsed once per process, moved once: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Cmd {
    /// The CI runs and S3 locations holding a commit's (or a run's) artifacts.
    #[command(after_help = FIND_HELP)]
    Find(With<FindRaw>),
    /// The newest commit on a branch (or back from --ref) whose completed runs with healthy builds
    /// hold every requested group (--require-successful-run: successful runs only); --run-id judges one run.
    #[command(after_help = LATEST_HELP)]
    Latest(With<LatestRaw>),
    /// The commit whose artifacts a build of --commit can reuse.
    #[command(after_help = BASELINE_HELP)]
    Baseline(With<BaselineRaw>),
    /// Find (or --baseline), then download, verify and extract the artifacts.
    #[command(after_help = FETCH_HELP)]
    Fetch(With<FetchRaw>),
    /// Compare the artifact sizes of two commits or runs.
    #[command(after_help = COMPARE_HELP)]
    Compare(With<CompareRaw>),
    /// Find the first commit that broke a test, fetching CI artifacts instead of building.
    #[command(after_help = BISECT_HELP)]
    Bisect(With<BisectRaw>),
    /// Fetch a commit's artifacts and run a command on them (for `git bisect run`).
    #[command(after_help = EXEC_HELP)]
    Exec(With<ExecRaw>),
    /// Which build stages a build of --commit must rebuild, and which it reuses from a baseline run.
    Reuse(ReuseWith),
    /// The first TheRock commit whose submodule gitlink includes a rocm-libraries or
    /// rocm-systems commit, its runs' artifacts and its dev tarball.
    Contains(With<ContainsRaw>),
    /// Look after the download cache: info, prune, clear.
    Cache(CacheArgs),
    /// What the container action runs: reads INPUT_* and GITHUB_* variables.
    Action,
}

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub op: CacheOp,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CacheOp {
    /// The cache's directory, size, entries and oldest/newest use.
    Info {
        /// Print exactly one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove the least recently used archives (never one a running fetch uses).
    Prune {
        /// Keep the cache at most this big (`50G`, `512M`; powers of 1024).
        #[arg(long = "max-size")]
        max_size: Option<String>,
        /// Remove archives unused for longer (`14d`, `36h`).
        #[arg(long = "max-age")]
        max_age: Option<String>,
        /// Say what would go; remove nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
        /// Print exactly one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove every archive (but those in use) and leave an empty cache.
    Clear {
        /// Print exactly one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
}

impl CacheOp {
    pub fn json(&self) -> bool {
        match self {
            CacheOp::Info { json } | CacheOp::Clear { json } | CacheOp::Prune { json, .. } => *json,
        }
    }

    /// Which cache command, with its limits parsed.
    pub fn build(&self, facts: &Facts) -> Result<(Op, CacheCommand), ConfigError> {
        Ok(match self {
            CacheOp::Info { .. } => (Op::Info, CacheCommand::build(None, None, false, facts, false)?),
            CacheOp::Clear { .. } => (Op::Clear, CacheCommand::build(None, None, false, facts, false)?),
            CacheOp::Prune { max_size, max_age, dry_run, .. } => {
                (Op::Prune, CacheCommand::build(max_size.as_deref(), max_age.as_deref(), *dry_run, facts, true)?)
            }
        })
    }
}

impl Cmd {
    /// `None` for `action` (it builds its `Raw` from the environment) and `cache`.
    pub fn into_raw(self) -> Option<Raw> {
        let (common, command) = match self {
            Cmd::Find(a) => (a.common, RawCommand::Find(a.own)),
            Cmd::Latest(a) => (a.common, RawCommand::Latest(a.own)),
            Cmd::Baseline(a) => (a.common, RawCommand::Baseline(a.own)),
            Cmd::Fetch(a) => (a.common, RawCommand::Fetch(a.own)),
            Cmd::Compare(a) => (a.common, RawCommand::Compare(a.own)),
            Cmd::Bisect(a) => (a.common, RawCommand::Bisect(a.own)),
            Cmd::Exec(a) => (a.common, RawCommand::Exec(a.own)),
            Cmd::Reuse(ReuseWith(a)) => (a.common, RawCommand::Reuse(a.own)),
            Cmd::Contains(a) => (a.common, RawCommand::Contains(a.own)),
            Cmd::Action | Cmd::Cache(_) => return None,
        };
        Some(Raw { common, command, token: None })
    }
}
