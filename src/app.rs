//! The app: builds the clients once and runs a command as resolve -> locate -> fetch | compare,
//! returning a typed outcome. Nothing here renders.

use anyhow::{Context, Result};

use crate::bisect;
use crate::compare;
use crate::config::{BisectOptions, Command, CompareOptions, Config, ExecOptions, FetchOptions, Pick, Source, Subject};
use crate::domain::run::short_sha;
use crate::fetch::{self, Filters, Limits, Settings};
use crate::outcome::{Compared, FetchResult, Outcome, Resolved};
use crate::resolve::{self, Resolver};
use crate::s3::S3;
use crate::sources::github::{self, GitHub, RetryPolicy};
use crate::sources::listing::Locator;

pub struct App {
    cfg: Config,
    gh: GitHub,
    loc: Locator,
    /// `--json`: a command's own stdout goes to stderr.
    json: bool,
}

impl App {
    pub async fn new(cfg: Config, json: bool) -> Result<App> {
        let token = github::discover_token(cfg.token.clone()).await;
        if token.as_deref().is_some_and(|t| t.contains(['\n', '\r'])) {
            anyhow::bail!("the GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`) holds a line break; pass the token alone");
        }
        if token.is_none() {
            crate::say!("warning: no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`); anonymous requests are limited to 60 an hour");
        }
        let t = &cfg.tunables;
        let retry = RetryPolicy { attempts: t.retries, backoff: t.backoff, max_wait: t.max_rate_wait, timeout: t.http_timeout };
        let gh = GitHub::new(github::api_base_from_env(), token, retry)?;
        let s3 = S3::from_env(t.backoff).await.context("could not set up the S3 client")?;
        let loc = Locator::new(s3, cfg.query.platform, cfg.release.clone());
        Ok(App { cfg, gh, loc, json })
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver { runs: &self.gh, listings: &self.loc, q: &self.cfg.query, checkout: self.cfg.checkout.as_ref() }
    }

    fn settings(&self) -> Settings {
        let t = &self.cfg.tunables;
        Settings { part_size: t.part_size, stall: t.stall, backoff: t.backoff }
    }

    pub async fn run(&self) -> Result<Outcome> {
        let r = self.resolver();
        let out = match &self.cfg.command {
            Command::Find(subject) => Outcome::Found(resolve::find(&r, subject).await?),
            Command::Latest { branch, max_commits } => Outcome::Found(resolve::latest(&r, branch.as_deref(), *max_commits).await?),
            Command::Baseline(subject, walk) => Outcome::Baseline(resolve::baseline(&r, subject, walk).await?),
            Command::Fetch(source, opts) => self.fetch(source, opts).await?,
            Command::Compare { from, to, options } => self.compare(from, to, options).await?,
            Command::Bisect(opts) => self.bisect(opts).await?,
            Command::Exec(opts) => self.exec(opts).await?,
        };
        if self.cfg.tunables.debug_requests {
            crate::say!("github requests: {}, s3 listings: {}", self.gh.requests_made(), self.loc.listings_made());
        }
        Ok(out)
    }

    async fn compare(&self, from: &Subject, to: &Subject, options: &CompareOptions) -> Result<Outcome> {
        let r = self.resolver();
        let (from_found, to_found) = (resolve::find(&r, from).await?, resolve::find(&r, to).await?);
        for (side, found, subject) in [("from", &from_found, from), ("to", &to_found, to)] {
            if !found.found() {
                return Ok(Outcome::Compared(Compared::MissingSide { side, subject: subject.clone(), found: found.clone() }));
            }
        }
        let c = compare::compare(from_found, to_found, &self.loc.s3, options, self.cfg.query.platform, self.settings()).await?;
        Ok(Outcome::Compared(Compared::Done(Box::new(c))))
    }

    fn limits(&self) -> Limits {
        Limits {
            jobs: self.cfg.tunables.jobs,
            connections: self.cfg.tunables.connections,
            download: self.settings(),
            max_extract: self.cfg.tunables.max_extract,
            cache_max: self.cfg.tunables.cache_max,
        }
    }

    fn runner<'a>(&'a self, pick: &'a Pick, cache_dir: &std::path::Path, command: &'a [String]) -> bisect::Runner<'a> {
        bisect::Runner { s3: &self.loc.s3, pick, cache_dir: cache_dir.to_path_buf(), limits: self.limits(), command, quiet_stdout: self.json }
    }

    async fn bisect(&self, o: &BisectOptions) -> Result<Outcome> {
        let range = match resolve::range(&self.resolver(), &o.good, &o.bad, o.branch.as_deref(), o.max_commits).await? {
            Ok(r) => r,
            Err(why) => return Ok(Outcome::Bisected(Box::new(bisect::BisectReport::none(&o.good, &o.bad, why.to_string(), o.markdown)))),
        };
        let work = bisect::Workdir::new(o.workdir.as_deref(), o.keep)?;
        let runner = self.runner(&o.pick, &o.cache_dir, &o.command);
        let report = bisect::bisect(&o.good, &o.bad, range, &runner, &work, o.markdown).await?;
        Ok(Outcome::Bisected(Box::new(report)))
    }

    async fn exec(&self, o: &ExecOptions) -> Result<Outcome> {
        let r = self.resolver();
        let (sha, judged) = resolve::judge_subject(&r, &o.subject).await?;
        let found = match judged {
            Ok(f) => f,
            Err(why) => {
                let note = format!("commit {} has no artifacts ({why}); exit 125, so `git bisect run` skips it", short_sha(&sha));
                return Ok(Outcome::Executed(bisect::ExecReport { commit: sha, run_id: None, code: 125, note: Some(note) }));
            }
        };
        let work = bisect::Workdir::new(o.workdir.as_deref(), o.keep)?;
        let runner = self.runner(&o.pick, &o.cache_dir, &o.command);
        let tree = work.root.join(format!("exec-{}", short_sha(&sha)));
        runner.fetch(&found, &tree).await?;
        let run_id = bisect::first_run_id(&found);
        let code = runner.run(&tree, &sha, run_id).await?;
        work.drop_tree(&tree);
        if work.keep {
            crate::say!("exec: the tree stays in {}", tree.display());
        }
        Ok(Outcome::Executed(bisect::ExecReport { commit: sha, run_id, code: bisect::exit_of(code), note: None }))
    }

    async fn fetch(&self, source: &Source, opts: &FetchOptions) -> Result<Outcome> {
        let r = self.resolver();
        let resolved = match source {
            Source::Find(subject) => Resolved::Found(resolve::find(&r, subject).await?),
            Source::Baseline(subject, walk) => Resolved::Baseline(Box::new(resolve::baseline(&r, subject, walk).await?)),
        };
        let found = resolved.found();
        if !found.found() {
            return Ok(Outcome::Fetched { resolved, result: FetchResult::NotFound });
        }
        let planned = fetch::plan(found, &Filters { include: opts.include.clone(), exclude: opts.exclude.clone() });
        let result = if planned.is_empty() {
            FetchResult::NothingSelected
        } else if opts.dry_run {
            FetchResult::DryRun { output_dir: opts.output_dir.clone(), extract: opts.extract, planned }
        } else {
            let out_dir = fetch::prepare_output(&opts.output_dir, opts.force)?;
            let report = fetch::run(planned, &self.loc.s3, opts, out_dir, self.limits()).await?;
            crate::say!("{}", crate::report::closing_line(&report));
            FetchResult::Done(report)
        };
        Ok(Outcome::Fetched { resolved, result })
    }
}
