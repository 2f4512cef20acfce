//! One module per command: each has `run(&App, &its options) -> Result<its own outcome>`, and
//! its outcome implements `Conclusion` (what the action's outputs and the exit status read)
//! here and `report::Render` (JSON, text, Markdown) in `report/`.

pub mod baseline;
pub mod bisect;
pub mod bump;
pub mod cache;
pub mod compare;
pub mod contains;
pub mod exec;
pub mod fetch;
pub mod find;
pub mod latest;
pub mod overlay;
pub mod plan;
pub mod release;
pub mod reuse;
mod runner;
pub mod stage;

use anyhow::{Context, Result};
use std::path::Path;

use crate::config::{Config, Pick};
use crate::domain::buckets::Platform;
use crate::domain::select::{Found, Hit};
use crate::exit::ExitStatus;
use crate::fetch::{Limits, Settings};
use crate::resolve::{Baseline, Resolver};
use crate::retry::RetryPolicy;
use crate::s3::S3;
use crate::sources::github::{self, GitHub, Patience};
use crate::sources::listing::Locator;

/// What every command works with: the configuration and the clients, built once.
pub struct App {
    pub cfg: Config,
    gh: GitHub,
    loc: Locator,
    /// A command's own stdout goes to stderr (stdout holds one JSON document, or the action's text).
    quiet_stdout: bool,
    /// Words a baseline's substitution (report's, handed in by the app): `fetch --baseline`
    /// says it before downloading.
    pub explain: fn(&Baseline) -> String,
}

impl App {
    pub async fn new(cfg: Config, quiet_stdout: bool) -> Result<App> {
        let token = github::discover_token(cfg.token.clone()).await;
        if token.as_deref().is_some_and(|t| t.contains(['\n', '\r'])) {
            anyhow::bail!("the GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`) holds a line break; pass the token alone");
        }
        // A release tarball asks GitHub nothing: no warning about a token it does not need.
        if token.is_none() && !matches!(cfg.command, crate::config::Command::Release(_)) {
            crate::say!("warning: no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`); anonymous requests are limited to 60 an hour");
        }
        let t = &cfg.tunables;
        let patience = Patience { retry: RetryPolicy::new(t.retries, t.backoff), max_wait: t.max_rate_wait, timeout: t.http_timeout };
        let gh = GitHub::new(github::api_base_from_env(), token, patience)?;
        let s3 = S3::from_env(RetryPolicy::s3(t.backoff)).await.context("could not set up the S3 client")?;
        let loc = Locator::new(s3, cfg.query.platform, cfg.release.clone());
        Ok(App { cfg, gh, loc, quiet_stdout, explain: |_| String::new() })
    }

    pub fn resolver(&self) -> Resolver<'_> {
        self.resolver_for(&self.cfg.query)
    }

    /// A resolver over another query (another repository: a bump's super-repo).
    pub fn resolver_for<'a>(&'a self, q: &'a crate::config::Query) -> Resolver<'a> {
        Resolver { runs: &self.gh, listings: &self.loc, q, checkout: self.cfg.checkout.as_ref() }
    }

    /// A resolver over `q` whose listings come from `listings` (another platform's prefixes).
    pub fn resolver_with<'a>(&'a self, q: &'a crate::config::Query, listings: &'a Locator) -> Resolver<'a> {
        Resolver { runs: &self.gh, listings, q, checkout: self.cfg.checkout.as_ref() }
    }

    /// Listings of another platform's run prefixes (`reuse --platforms`).
    pub fn locator_on(&self, platform: Platform) -> Locator {
        Locator::new(self.loc.s3.clone(), platform, self.loc.release.clone())
    }

    pub fn s3(&self) -> &S3 {
        &self.loc.s3
    }

    pub fn platform(&self) -> Platform {
        self.cfg.query.platform
    }

    pub fn settings(&self) -> Settings {
        let t = &self.cfg.tunables;
        Settings { part_size: t.part_size, stall: t.stall }
    }

    pub fn limits(&self) -> Limits {
        let t = &self.cfg.tunables;
        Limits { jobs: t.jobs, connections: t.connections, download: self.settings(), max_extract: t.max_extract, cache_max: t.cache_max }
    }

    fn runner<'a>(&'a self, pick: &'a Pick, cache_dir: &Path, command: &'a [String]) -> runner::Runner<'a> {
        let families = self.cfg.query.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(",");
        runner::Runner { s3: self.s3(), pick, cache_dir: cache_dir.to_path_buf(), limits: self.limits(), command, quiet_stdout: self.quiet_stdout, families }
    }

    /// Counts S3 listings made outside the run listings (release tarballs).
    pub fn count_listings(&self, n: u64) {
        self.loc.count_listings(n);
    }

    /// With `THEROCK_ARTIFACTS_DEBUG_REQUESTS`: how many requests the command made.
    pub fn say_requests(&self) {
        if self.cfg.tunables.debug_requests {
            crate::say!("github requests: {}, s3 listings: {}", self.gh.requests_made(), self.loc.listings_made());
        }
    }
}

/// A spinner on a terminal while GitHub is asked (nothing elsewhere); cleared when dropped.
pub fn asking_github(app: &App) -> crate::log::Spinner {
    crate::log::Spinner::start(format!("asking GitHub about {}", app.cfg.query.repo))
}

/// What a command concluded, as the exit status and the action's outputs read it. Only
/// `found` is required; a command that resolves a commit says so with `resolved`.
pub trait Conclusion {
    /// An answer (exit 0), or a valid "nothing" (exit 1).
    fn found(&self) -> bool;

    fn exit_status(&self) -> ExitStatus {
        ExitStatus::of_found(self.found())
    }

    /// The answer's `Found`, when the command resolved one.
    fn resolved(&self) -> Option<&Found> {
        None
    }

    fn baseline(&self) -> Option<&Baseline> {
        None
    }

    /// The result records, in order (hits and partial hits; both sides for a comparison).
    fn results(&self) -> Vec<&Hit> {
        self.resolved().map(|f| f.results().collect()).unwrap_or_default()
    }

    /// The commit whose artifacts were used: the baseline commit, else the first result's.
    fn commit(&self) -> Option<String> {
        if !self.found() {
            return None;
        }
        if let Some(b) = self.baseline() {
            return b.found.commit.clone();
        }
        self.results().first().map(|h| h.run.head_sha.clone())
    }

    /// Archive filenames: those fetched (or planned), else those of every result, each once.
    fn artifact_names(&self) -> Vec<String> {
        archive_names(&self.results())
    }

    /// Where the artifacts went (fetch).
    fn output_dir(&self) -> Option<&Path> {
        None
    }
}

/// The archive filenames of `hits`, each once, in order.
pub fn archive_names(hits: &[&Hit]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for h in hits {
        for (a, _) in &h.archives {
            if !names.contains(&a.filename) {
                names.push(a.filename.clone());
            }
        }
    }
    names
}
