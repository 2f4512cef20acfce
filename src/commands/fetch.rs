//! `fetch`: find (or `--baseline`) a commit's artifacts, then download, verify and extract them.

use anyhow::Result;
use std::path::PathBuf;

use super::reuse::Reused;
use super::stage::StageSelection;
use super::App;
use super::Conclusion as _;
use crate::config::{ExtractMode, FetchOptions, Source};
use crate::domain::select::Found;
use crate::domain::units::human_bytes;
use crate::fetch::{self, FetchReport, Planned};
use crate::resolve::{self, Baseline};

/// How a fetch found its commit.
#[derive(Debug, Clone)]
pub enum Resolved {
    Found(Found),
    Baseline(Box<Baseline>),
}

impl Resolved {
    pub fn found(&self) -> &Found {
        match self {
            Resolved::Found(f) => f,
            Resolved::Baseline(b) => &b.found,
        }
    }
    pub fn baseline(&self) -> Option<&Baseline> {
        match self {
            Resolved::Baseline(b) => Some(b),
            Resolved::Found(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum FetchResult {
    /// The commit has no artifacts for every group.
    NotFound,
    /// `--include` / `--exclude` left nothing.
    NothingSelected,
    DryRun {
        /// `None`: no `--output-dir` given (a dry run needs none).
        output_dir: Option<PathBuf>,
        extract: ExtractMode,
        planned: Vec<Planned>,
        /// Per planned archive: is it in the cache already (a real fetch would not download it)?
        cached: Vec<bool>,
    },
    Done(FetchReport),
}

/// What `fetch` concluded: where the commit came from, and what was fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub resolved: Resolved,
    pub result: FetchResult,
    /// `--reuse`: the plan whose archives were fetched.
    pub reuse: Option<Box<Reused>>,
    /// `--stage`: what the stage picked.
    pub stage: Option<StageSelection>,
}

pub async fn run(app: &App, source: &Source, opts: &FetchOptions) -> Result<Fetched> {
    let r = app.resolver();
    let mut pick = opts.pick.clone();
    let mut reuse = None;
    let spinner = super::asking_github(app);
    let resolved = match source {
        Source::Find(subject) => Resolved::Found(resolve::find(&r, subject).await?),
        Source::Baseline(subject, walk) => Resolved::Baseline(Box::new(resolve::baseline(&r, subject, walk).await?)),
        Source::Reuse(o) => {
            let plan = super::reuse::run(app, o).await?;
            pick.only = Some(plan.artifact_names().into_iter().collect());
            let b = plan.baseline().clone();
            crate::say!("{}", super::reuse::summary_line(&plan));
            reuse = Some(Box::new(plan));
            Resolved::Baseline(Box::new(b))
        }
    };
    drop(spinner);
    let found = resolved.found();
    if !found.found() || reuse.as_ref().is_some_and(|r| !r.found()) {
        return Ok(Fetched { resolved, result: FetchResult::NotFound, reuse, stage: None });
    }
    let stage = match &opts.pick.stage {
        Some(sp) => Some(super::stage::select(app, found, sp).await?),
        None => None,
    };
    if let Some(s) = &stage {
        crate::say!("{}", s.summary().trim_end());
        let only: std::collections::BTreeSet<String> = s.archives.iter().cloned().collect();
        pick.only = Some(match pick.only.take() {
            Some(o) => o.intersection(&only).cloned().collect(),
            None => only,
        });
    }
    let planned = fetch::plan(found, &pick);
    if let (Some(b), false) = (resolved.baseline(), planned.is_empty()) {
        // Said before the download: the archives about to arrive are another commit's.
        crate::say!("{}", (app.explain)(b).trim_end());
    }
    let result = if planned.is_empty() {
        FetchResult::NothingSelected
    } else if opts.dry_run {
        let cache = opts.cache_dir.clone().map(fetch::cache::Cache::new);
        let cached = planned.iter().map(|p| cache.as_ref().is_some_and(|c| c.lookup(p.cache_key(), None).is_some())).collect();
        let output_dir = (!opts.output_dir.as_os_str().is_empty()).then(|| opts.output_dir.clone());
        FetchResult::DryRun { output_dir, extract: pick.extract, planned, cached }
    } else {
        let out_dir = fetch::prepare_output(&opts.output_dir, opts.force)?;
        let req = fetch::Request { mode: pick.extract, verify: opts.verify, cache_dir: opts.cache_dir.clone(), origin: origin_of(found), mixing: opts.mixing };
        crate::say!("{}", opening_line(&planned, &req.origin, resolved.baseline().map(|b| b.commit.as_str())));
        let report = fetch::run(planned, app.s3(), &req, out_dir, app.limits()).await?;
        crate::say!("{}", closing_line(&report, filtered_out(found, report.archives.len())));
        FetchResult::Done(report)
    };
    Ok(Fetched { resolved, result, reuse, stage })
}

/// Where `found`'s archives come from, for the output's record: its commit, repository and runs.
pub fn origin_of(found: &Found) -> fetch::Origin {
    let mut runs: Vec<u64> = found.results().map(|h| h.run.id).collect();
    runs.sort_unstable();
    runs.dedup();
    fetch::Origin { commit: found.commit.clone(), release: None, repository: found.repo.to_string(), runs }
}

/// The line a fetch starts with on stderr, before the first byte: what is fetched, from where,
/// and for whom (`fetching 44 archives, 150.9 KiB, from run 1234 of bfe7bc8, the baseline of
/// b5fe8a6`).
fn opening_line(planned: &[Planned], origin: &fetch::Origin, baseline_of: Option<&str>) -> String {
    let total: u64 = planned.iter().map(|p| p.size).sum();
    let runs = origin.runs.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let runs = if origin.runs.len() == 1 { format!("run {runs}") } else { format!("runs {runs}") };
    let short = |c: &str| c.chars().take(7).collect::<String>();
    let of = origin.commit.as_deref().map(|c| format!(" of {}", short(c))).unwrap_or_default();
    let for_whom = match (baseline_of, origin.commit.as_deref()) {
        (Some(b), Some(c)) if !c.starts_with(b) && !b.starts_with(c) => format!(", the baseline of {}", short(b)),
        _ => String::new(),
    };
    let n = planned.len();
    format!("fetching {n} archive{}, {}, from {runs}{of}{for_whom}", if n == 1 { "" } else { "s" }, human_bytes(total))
}

/// How many of the found groups' archives `--include` / `--exclude` left out.
fn filtered_out(found: &Found, fetched: usize) -> usize {
    let mut names: Vec<&str> = found.slots.iter().filter_map(|s| s.hit.as_ref()).flat_map(|h| h.archives.iter().map(|(a, _)| a.filename.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    names.len().saturating_sub(fetched)
}

/// The line a finished fetch ends with on stderr: one count (fetched, and filtered out).
fn closing_line(r: &FetchReport, filtered_out: usize) -> String {
    let left_out = if filtered_out > 0 { format!(" ({filtered_out} filtered out)") } else { String::new() };
    format!(
        "fetched {} archives{left_out} into {}: {} downloaded, {} from cache, {} extracted, in {:.1} s",
        r.archives.len(),
        r.output_dir.display(),
        human_bytes(r.downloaded),
        human_bytes(r.from_cache),
        human_bytes(r.extracted),
        r.elapsed_seconds
    )
}

impl super::Conclusion for Fetched {
    fn found(&self) -> bool {
        matches!(self.result, FetchResult::DryRun { .. } | FetchResult::Done(_))
    }
    fn resolved(&self) -> Option<&Found> {
        Some(self.resolved.found())
    }
    fn baseline(&self) -> Option<&Baseline> {
        self.resolved.baseline()
    }
    fn artifact_names(&self) -> Vec<String> {
        match &self.result {
            FetchResult::Done(r) => r.archives.iter().map(|a| a.filename.clone()).collect(),
            FetchResult::DryRun { planned, .. } => planned.iter().map(|p| p.name.filename.clone()).collect(),
            FetchResult::NotFound | FetchResult::NothingSelected => super::archive_names(&self.results()),
        }
    }
    fn output_dir(&self) -> Option<&std::path::Path> {
        match &self.result {
            FetchResult::Done(r) => Some(&r.output_dir),
            FetchResult::DryRun { output_dir, .. } => output_dir.as_deref(),
            FetchResult::NotFound | FetchResult::NothingSelected => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::artifacts::ArtifactName;

    fn planned(name: &str, size: u64) -> Planned {
        let name = ArtifactName::parse(name).unwrap();
        Planned { key: format!("1-linux/{}", name.filename), name, bucket: "b".into(), size, etag: None, sidecar_key: None, whole: false }
    }

    #[test]
    fn the_opening_line_says_what_from_where_and_for_whom() {
        let two = [planned("blas_lib_gfx942.tar.zst", 100_000), planned("amd-llvm_lib_generic.tar.xz", 54_563)];
        let origin = |runs: Vec<u64>| fetch::Origin { commit: Some("bfe7bc8aaaa".into()), release: None, repository: "ROCm/TheRock".into(), runs };
        assert_eq!(
            opening_line(&two, &origin(vec![26]), Some("b5fe8a6bbbb")),
            "fetching 2 archives, 150.9 KiB, from run 26 of bfe7bc8, the baseline of b5fe8a6"
        );
        assert_eq!(opening_line(&two[..1], &origin(vec![26, 27]), None), "fetching 1 archive, 97.7 KiB, from runs 26, 27 of bfe7bc8");
        assert_eq!(opening_line(&two[..1], &origin(vec![26]), Some("bfe7bc8")), "fetching 1 archive, 97.7 KiB, from run 26 of bfe7bc8", "its own baseline");
    }
}
