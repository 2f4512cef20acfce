//! Command-line flags. They parse straight into the `config::raw` structs the action fills
//! too; `Config::build` validates both.

use clap::{Args, Parser, Subcommand};

use crate::config::raw::{BaselineRaw, Common, CompareRaw, FetchRaw, FindRaw, LatestRaw};
use crate::config::{Raw, RawCommand};

#[derive(Parser, Debug)]
#[command(name = "therock-artifacts", version, about = "Find, baseline, fetch and compare ROCm TheRock CI build artifacts", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

/// A command's own flags next to the common ones.
#[derive(Args, Debug)]
pub struct With<T: Args> {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub own: T,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Scenario 1: the CI runs and S3 locations holding a commit's (or a run's) artifacts.
    Find(With<FindRaw>),
    /// The newest commit on a branch whose successful runs hold every requested group.
    Latest(With<LatestRaw>),
    /// Scenario 2: the commit whose artifacts a build of --commit can reuse.
    Baseline(With<BaselineRaw>),
    /// Find (or --baseline), then download, verify and extract the artifacts.
    Fetch(With<FetchRaw>),
    /// Compare the artifact sizes of two commits or runs.
    Compare(With<CompareRaw>),
    /// What the container action runs: reads INPUT_* and GITHUB_* variables.
    Action,
}

impl Cmd {
    /// `None` for `action`, which builds its `Raw` from the environment.
    pub fn into_raw(self) -> Option<Raw> {
        let (common, command) = match self {
            Cmd::Find(a) => (a.common, RawCommand::Find(a.own)),
            Cmd::Latest(a) => (a.common, RawCommand::Latest(a.own)),
            Cmd::Baseline(a) => (a.common, RawCommand::Baseline(a.own)),
            Cmd::Fetch(a) => (a.common, RawCommand::Fetch(a.own)),
            Cmd::Compare(a) => (a.common, RawCommand::Compare(a.own)),
            Cmd::Action => return None,
        };
        Some(Raw { common, command, token: None })
    }
}
