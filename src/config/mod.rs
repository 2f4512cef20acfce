//! One validated configuration. Both front ends fill a `Raw`; `Config::build(raw, facts)` is
//! the only place that parses, defaults and rejects input, and it does no I/O: what it needs
//! from git and the environment is gathered into `Facts` first.

mod asks;
mod bisect;
mod error;
mod facts;
mod parse;
pub mod raw;
mod release;
mod stage;

use regex::Regex;
use std::path::PathBuf;

pub use error::{ConfigError, Field};
pub use facts::{env_cache_dir, Facts, Tunables};
pub use parse::{default_repo_note, given};
pub use raw::{Front, Raw, RawCommand};

use crate::domain::buckets::{Platform, ReleaseType, Repo};
use crate::domain::families::ArtifactGroup;
use crate::sources::git::Checkout;

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// 7 to 40 lower-case hex digits; `local_only` when the checkout has it but no remote does.
    Commit {
        sha: String,
        local_only: bool,
    },
    RunId(u64),
    Pr(u64),
    /// A ref GitHub resolves: a branch, then a tag, then a commit (the action's `ref` and
    /// `branch` inputs); `None` is the head of the repository's default branch.
    Ref(Option<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractMode {
    Flatten,
    PerArtifact,
    Archives,
    Bootstrap,
}

impl ExtractMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "flatten" => Ok(ExtractMode::Flatten),
            "per-artifact" => Ok(ExtractMode::PerArtifact),
            "archives" => Ok(ExtractMode::Archives),
            "bootstrap" => Ok(ExtractMode::Bootstrap),
            o => Err(format!("unknown extract mode '{o}': expected flatten, per-artifact, archives or bootstrap")),
        }
    }

    /// The name users write (`per-artifact`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractMode::Flatten => "flatten",
            ExtractMode::PerArtifact => "per-artifact",
            ExtractMode::Archives => "archives",
            ExtractMode::Bootstrap => "bootstrap",
        }
    }
}

/// What to look for, shared by every command: where, which groups, which runs count.
#[derive(Debug, Clone)]
pub struct Query {
    pub repo: Repo,
    /// The workflow given with `--workflow`, if any.
    pub workflow_flag: Option<String>,
    pub platform: Platform,
    pub groups: Vec<ArtifactGroup>,
    /// `--require-artifact` patterns, as written and compiled.
    pub required: Vec<(String, Regex)>,
    pub single_run: bool,
    pub successful_run: bool,
}

impl Query {
    /// The workflow to query for `repo`: the flag, else the repository's default.
    pub fn workflow_for(&self, repo: &Repo) -> String {
        self.workflow_flag.clone().unwrap_or_else(|| repo.default_workflow().to_string())
    }
}

/// Where `latest` starts, besides `--branch`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LatestFrom {
    /// The branch (`--branch`, else the default branch).
    #[default]
    Branch,
    /// `--ref`: a branch name or a commit SHA.
    Ref(String),
    /// `--run-id`: one run, judged alone.
    Run(u64),
}

/// How a baseline walk goes.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub base_branch: Option<String>,
    pub max_commits: usize,
    pub therock_repo: Repo,
    /// `--therock-workflow`: the TheRock workflow a super-repo's pin is walked in.
    pub therock_workflow: Option<String>,
    /// `--max-age-hours`: runs older than this do not count.
    pub max_age_hours: Option<u64>,
}

/// Which archives, and where to put them.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub pick: Pick,
    pub output_dir: PathBuf,
    pub verify: bool,
    pub dry_run: bool,
    /// `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
    /// Write even into a system directory.
    pub force: bool,
    /// `--clean` / `--merge`: what to do about an earlier fetch of another commit.
    pub mixing: crate::domain::mixing::Mixing,
}

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub deep: bool,
    pub filter: Vec<Regex>,
    /// `--top`: how many changed files a rendering shows.
    pub top: usize,
    /// `--top` as given: it limits every table.
    pub top_given: Option<usize>,
    /// `--all`: unchanged archives are shown too.
    pub all: bool,
    /// Where `--deep` finds (and leaves) archives.
    pub cache_dir: PathBuf,
}

/// Which archives to take and how to lay them out: the one type every command that fetches
/// (`fetch`, `bisect`, `exec`) hands to `fetch::plan`. The groups (and so the targets) are
/// chosen before, by the query that found the runs; a pick narrows the archives of the groups
/// found. A new way to pick archives (a `--stage` selection) is a field here and a rule in
/// `keeps`.
#[derive(Debug, Clone)]
pub struct Pick {
    /// Archive filenames to keep (`--include`; none: every one).
    pub include: Vec<Regex>,
    /// Archive filenames to drop (`--exclude`), after `include`.
    pub exclude: Vec<Regex>,
    pub extract: ExtractMode,
    /// `--components`: the `{artifact}_{component}` pairs to keep (none given: every one).
    pub components: Option<std::collections::BTreeSet<String>>,
    /// Only these archive filenames (a reuse plan's, a stage's); `None`: no such limit.
    pub only: Option<std::collections::BTreeSet<String>>,
    /// `--stage`: resolved into `only` once the commit's topology is read.
    pub stage: Option<Box<StagePick>>,
}

/// Which stage's inbound artifacts (`--stage NAME|all`), narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePick {
    /// `None`: `all`, every artifact of the topology.
    pub stage: Option<String>,
    pub exclude_components: Vec<String>,
    pub exclude_artifacts: Vec<String>,
    /// Where topology files are kept per commit.
    pub cache_dir: PathBuf,
}

impl Pick {
    /// Whether the archive named `filename` is picked.
    pub fn keeps(&self, filename: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(filename)))
            && !self.exclude.iter().any(|r| r.is_match(filename))
            && self.in_components(filename)
            && self.only.as_ref().is_none_or(|o| o.contains(filename))
    }

    fn in_components(&self, filename: &str) -> bool {
        let Some(set) = &self.components else { return true };
        crate::domain::artifacts::ArtifactName::parse(filename).is_some_and(|a| set.contains(&format!("{}_{}", a.name, a.component)))
    }
}

/// `find --release` / `fetch --release`: one release tarball of a group and platform.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    pub wanted: crate::domain::release::Wanted,
    /// A family (`gfx94X-dcgpu`) or `multiarch`, as the tarball names it.
    pub group: String,
    /// `--tests`: the `-tests` sibling too.
    pub tests: bool,
    /// The key prefix (`THEROCK_ARTIFACTS_RELEASE_PREFIX`, default `v4/tarball/`).
    pub prefix: String,
    /// `fetch --release`; `None` for `find`.
    pub fetch: Option<FetchOptions>,
}

/// `bisect`: the range, where each step's tree goes, and the test.
#[derive(Debug, Clone)]
pub struct BisectOptions {
    pub ends: Ends,
    /// `--plan`: print one round of a parallel bisection instead of testing.
    pub plan: Option<PlanOptions>,
    /// `--overlay`: a super-repo commit's archives over its pin's TheRock baseline.
    pub overlay: bool,
    pub branch: Option<String>,
    pub max_commits: usize,
    pub pick: Pick,
    pub workdir: Option<PathBuf>,
    pub keep: bool,
    pub command: Vec<String>,
    pub cache_dir: PathBuf,
}

/// What `bisect` bisects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ends {
    /// `--good` and `--bad` in `--repo`.
    Commits { good: String, bad: String },
    /// `--bump` (the bad TheRock commit; the good one is its first parent) or
    /// `--good-therock` / `--bad-therock`: the super-repo range between the gitlinks.
    Bump { good_therock: Option<String>, bad_therock: String, submodule: Option<String> },
    /// `--plan --state` alone: the ends the state names.
    FromState,
}

/// `bisect --plan`: how many commits a round tests, and what the last round said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    pub ways: usize,
    pub state: Option<PathBuf>,
    /// `--result SHA=good|bad|skip`, as given (a SHA or a prefix of one).
    pub results: Vec<(String, crate::domain::bisect::Verdict)>,
}

/// `exec`: the commit, where its tree goes, and the command.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub subject: Subject,
    /// `--overlay`: a super-repo commit's archives over its pin's TheRock baseline.
    pub overlay: bool,
    pub pick: Pick,
    pub workdir: Option<PathBuf>,
    pub keep: bool,
    pub command: Vec<String>,
    pub cache_dir: PathBuf,
}

/// `contains`: the super-repo commit and the TheRock branch searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainsOptions {
    pub commit: String,
    pub therock_branch: String,
}

/// How `fetch` finds its commit.
#[derive(Debug, Clone)]
pub enum Source {
    Find(Subject),
    Baseline(Subject, WalkOptions),
    /// `fetch --reuse`: the reuse plan's archives from its baseline run.
    Reuse(Box<ReuseOptions>),
}

/// `reuse`: the commit, the walk to its baseline, and the changed inputs when given by hand.
#[derive(Debug, Clone)]
pub struct ReuseOptions {
    pub subject: Subject,
    pub walk: WalkOptions,
    /// `--changed` (repository-relative paths or submodule names); `None`: from git or the API.
    pub changed: Option<Vec<String>>,
    /// Where topology files are kept per commit.
    pub cache_dir: PathBuf,
    /// One plan per platform, then the combined decision (never empty; the first is the
    /// platform the top-level per-platform keys describe).
    pub platforms: Vec<Platform>,
}

/// A command with its options.
#[derive(Debug, Clone)]
pub enum Command {
    Find(Subject),
    Latest {
        branch: Option<String>,
        max_commits: usize,
        from: LatestFrom,
    },
    Baseline(Subject, WalkOptions),
    Fetch(Source, FetchOptions),
    Compare {
        from: Subject,
        to: Subject,
        options: CompareOptions,
    },
    Bisect(Box<BisectOptions>),
    Exec(Box<ExecOptions>),
    Release(Box<ReleaseOptions>),
    Reuse(Box<ReuseOptions>),
    /// `find --stage`.
    FindStage(Subject, Box<StagePick>),
    Contains(ContainsOptions),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Find(_) => "find",
            Command::Latest { .. } => "latest",
            Command::Baseline(..) => "baseline",
            Command::Fetch(..) => "fetch",
            Command::Compare { .. } => "compare",
            Command::Bisect(_) => "bisect",
            Command::Exec(_) => "exec",
            Command::Release(r) if r.fetch.is_some() => "fetch",
            Command::Release(_) => "find",
            Command::Reuse(_) => "reuse",
            Command::FindStage(..) => "find",
            Command::Contains(_) => "contains",
        }
    }
}

/// `cache prune`'s limits, and the cache directory every `cache` command works on.
#[derive(Debug, Clone)]
pub struct CacheCommand {
    pub dir: PathBuf,
    pub max_size: Option<u64>,
    /// Seconds.
    pub max_age: Option<u64>,
    pub dry_run: bool,
}

impl CacheCommand {
    /// Parses `--max-size` and `--max-age` (a prune needs at least one).
    pub fn build(max_size: Option<&str>, max_age: Option<&str>, dry_run: bool, facts: &Facts, prune: bool) -> Result<CacheCommand, ConfigError> {
        use crate::domain::units::{parse_age, parse_size};
        let max_size = max_size
            .map(|s| parse_size(s).ok_or_else(|| ConfigError::new(Field::MaxSize, format!("invalid size '{s}': expected bytes with K, M, G or T, e.g. 50G"))))
            .transpose()?;
        let max_age = max_age
            .map(|s| {
                parse_age(s).ok_or_else(|| ConfigError::new(Field::MaxAge, format!("invalid age '{s}': expected a number of days or hours, e.g. 14d or 36h")))
            })
            .transpose()?;
        if prune && max_size.is_none() && max_age.is_none() {
            return Err(ConfigError::new(Field::MaxSize, "a prune needs --max-size, --max-age or both"));
        }
        Ok(CacheCommand { dir: facts.env.cache_dir.clone(), max_size, max_age, dry_run })
    }
}

/// How a command's answer is printed on stdout, chosen once (`--json`, `--markdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One JSON document (`--json`; it wins over `--markdown`).
    Json,
    Human,
    /// For a pull request comment (`compare --markdown`, `bisect --markdown`).
    Markdown,
}

impl Output {
    pub fn of(json: bool, markdown: bool) -> Output {
        match (json, markdown) {
            (true, _) => Output::Json,
            (false, true) => Output::Markdown,
            (false, false) => Output::Human,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub query: Query,
    pub output: Output,
    pub command: Command,
    pub release: ReleaseType,
    pub checkout: Option<Checkout>,
    pub token: Option<String>,
    pub tunables: Tunables,
    pub server_url: String,
}

impl Config {
    pub fn build(raw: Raw, facts: Facts) -> Result<Config, ConfigError> {
        let everything_allowed = matches!(raw.command, RawCommand::Fetch(_) | RawCommand::Contains(_));
        // A release tarball's group is a name in its key (`multiarch` too), not a GPU family.
        let groups = match raw.release() {
            Some(_) => Vec::new(),
            None => parse::groups(&raw.common.artifact_group, &raw.common.amdgpu_target, everything_allowed)?,
        };
        let repo = parse::repo(&raw, &facts).or_else(|e| if raw.release().is_some() { Repo::parse("ROCm/TheRock").map_err(|_| e) } else { Err(e) });
        // The checkout only speaks for the commit when it is a checkout of that repository
        // (or of a fork: same repository name).
        let checkout = match &repo {
            Ok(r) => facts.checkout.clone().filter(|c| c.origin.as_ref().is_some_and(|o| o.name.eq_ignore_ascii_case(&r.name))),
            Err(_) => None,
        };
        let platform = parse::platform(&raw, &facts)?;
        // Without a checkout the commit's own syntax is judged before a missing repository.
        let command = match raw.release() {
            Some(r) => release::release(&raw, r, &facts),
            None => parse::command(&raw, checkout.as_ref(), &facts.env.cache_dir, platform),
        };
        let (repo, command) = match (repo, command) {
            (Ok(r), Ok(c)) => (r, c),
            (Err(e), _) if facts.checkout.is_some() => return Err(e),
            (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
        };
        let query = parse::query(&raw, groups, repo, platform)?;
        let markdown = match &raw.command {
            RawCommand::Compare(c) => c.markdown,
            RawCommand::Bisect(b) => b.markdown,
            _ => false,
        };
        let output = Output::of(raw.common.json, markdown);
        let release = ReleaseType::parse(facts.env.release_type.as_deref()).map_err(|e| ConfigError::new(Field::ReleaseType, e))?;
        Ok(Config {
            query,
            output,
            command,
            release,
            checkout: checkout.map(|c| c.checkout),
            token: raw.token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            tunables: facts.tunables,
            server_url: facts.env.server_url,
        })
    }
}
