//! `fetch`, rendered: the resolving document (found or baseline) plus what was fetched.

use serde::Serialize;
use serde_json::Value;

use super::format::code;
use super::json::{self, BaselineDoc, FoundDoc, Status};
use super::{human, markdown, Render};
use crate::commands::fetch::{FetchResult, Fetched};
use crate::domain::select::Found;
use crate::domain::units::human_bytes;
use crate::fetch::{FetchReport, FetchedArchive, Planned};
use crate::resolve::Baseline;

#[derive(Serialize)]
#[serde(untagged)]
enum ResolvedDoc<'a> {
    Found(FoundDoc<'a>),
    Baseline(Box<BaselineDoc<'a>>),
}

#[derive(Serialize)]
struct PlannedArchive<'a> {
    filename: &'a str,
    size: u64,
    sha256: Option<&'a str>,
    verified: bool,
    cached: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
enum FetchedDoc<'a> {
    DryRun {
        output_dir: Option<String>,
        extract: &'static str,
        dry_run: bool,
        downloaded_bytes: u64,
        total_bytes: u64,
        /// What a real fetch would download: the archives not in the cache.
        would_download_bytes: u64,
        archives: Vec<PlannedArchive<'a>>,
    },
    Done {
        output_dir: String,
        extract: &'static str,
        downloaded_bytes: u64,
        cached_bytes: u64,
        extracted_bytes: u64,
        total_bytes: u64,
        elapsed_seconds: f64,
        archives: &'a [FetchedArchive],
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_dir: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_size_bytes: Option<u64>,
        /// What was removed of an earlier fetch of another commit (`--clean`, or by mode).
        #[serde(skip_serializing_if = "Option::is_none")]
        removed: Option<&'a crate::fetch::Removed>,
    },
}

#[derive(Serialize)]
struct FetchDoc<'a> {
    #[serde(flatten)]
    resolved: ResolvedDoc<'a>,
    #[serde(flatten)]
    fetched: Option<FetchedDoc<'a>>,
    /// `--reuse`: the stages reused from the baseline run and those left to build.
    #[serde(skip_serializing_if = "Option::is_none")]
    reuse_stages: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rebuild_stages: Option<Vec<String>>,
    /// `--stage`: the stage, its artifacts, and the pairs the run lacks.
    #[serde(flatten)]
    stage: Option<&'a crate::commands::stage::StageSelection>,
}

/// Bytes a real fetch of `planned` would download: those not `cached`.
fn would_download(planned: &[Planned], cached: &[bool]) -> u64 {
    planned.iter().zip(cached).filter(|(_, c)| !**c).map(|(p, _)| p.size).sum()
}

fn dry_run<'a>(output_dir: Option<&std::path::Path>, extract: &'static str, planned: &'a [Planned], cached: &[bool]) -> FetchedDoc<'a> {
    FetchedDoc::DryRun {
        output_dir: output_dir.map(|d| d.display().to_string()),
        extract,
        dry_run: true,
        downloaded_bytes: 0,
        total_bytes: planned.iter().map(|p| p.size).sum(),
        would_download_bytes: would_download(planned, cached),
        archives: planned
            .iter()
            .zip(cached)
            .map(|(p, c)| PlannedArchive { filename: &p.name.filename, size: p.size, sha256: None, verified: false, cached: *c })
            .collect(),
    }
}

fn done(r: &FetchReport) -> FetchedDoc<'_> {
    FetchedDoc::Done {
        output_dir: r.output_dir.display().to_string(),
        extract: r.extract.as_str(),
        downloaded_bytes: r.downloaded,
        cached_bytes: r.from_cache,
        extracted_bytes: r.extracted,
        total_bytes: r.total,
        elapsed_seconds: (r.elapsed_seconds * 1000.0).round() / 1000.0,
        archives: &r.archives,
        cache_dir: r.cache.as_ref().map(|(d, _)| d.display().to_string()),
        cache_size_bytes: r.cache.as_ref().map(|(_, s)| *s),
        removed: r.removed.as_ref(),
    }
}

fn human_fetched(f: &Found, result: &FetchResult) -> String {
    match result {
        FetchResult::NotFound | FetchResult::NothingSelected => String::new(),
        FetchResult::DryRun { planned, cached, .. } => {
            let total: u64 = planned.iter().map(|p| p.size).sum();
            let mut out = String::from("Would fetch:\n");
            for (p, c) in planned.iter().zip(cached) {
                out.push_str(&format!("  {:>10}  {}{}\n", human_bytes(p.size), p.name.filename, if *c { "  (cached)" } else { "" }));
            }
            out.push_str(&format!("  {:>10}  total, {} archives\n", human_bytes(total), planned.len()));
            let n_cached = cached.iter().filter(|c| **c).count();
            out.push_str(&format!("would download {} ({n_cached} of {} archives are cached)\n", human_bytes(would_download(planned, cached)), planned.len()));
            out
        }
        FetchResult::Done(r) => {
            let mut out = human::found(f);
            out.push_str(&format!("Fetched {} archives into {}\n", r.archives.len(), r.output_dir.display()));
            out
        }
    }
}

fn markdown_fetched(f: &Found, b: Option<&Baseline>, r: &FetchReport) -> String {
    let mut md = markdown::head(f, b);
    md.push_str(&format!(
        "\nFetched {} archives in {:.1} s ({} downloaded).\n\n| archive | size | verified | cached |\n|---|---:|:-:|:-:|\n",
        r.archives.len(),
        r.elapsed_seconds,
        human_bytes(r.downloaded)
    ));
    let yes = |b: bool| if b { "yes" } else { "no" };
    for d in r.archives.iter().take(2000) {
        md.push_str(&format!("| {} | {} | {} | {} |\n", code(&d.filename), human_bytes(d.size), yes(d.verified), yes(d.cached)));
    }
    md.push('\n');
    md
}

impl Render for Fetched {
    fn json(&self, server_url: &str) -> Value {
        let mut resolved = match self.resolved.baseline() {
            Some(b) => ResolvedDoc::Baseline(Box::new(BaselineDoc::new(b, server_url))),
            None => ResolvedDoc::Found(FoundDoc::new(self.resolved.found(), server_url)),
        };
        let fetched = match &self.result {
            FetchResult::NotFound => None,
            FetchResult::NothingSelected => {
                match &mut resolved {
                    ResolvedDoc::Found(f) => f.status = Status::NotFound,
                    ResolvedDoc::Baseline(b) => b.found.status = Status::NotFound,
                }
                None
            }
            FetchResult::DryRun { output_dir, extract, planned, cached } => Some(dry_run(output_dir.as_deref(), extract.as_str(), planned, cached)),
            FetchResult::Done(r) => Some(done(r)),
        };
        let reuse_stages = self.reuse.as_ref().map(|r| r.reuse_stages());
        let rebuild_stages = self.reuse.as_ref().map(|r| r.rebuild_stages());
        json::value(&FetchDoc { resolved, fetched, reuse_stages, rebuild_stages, stage: self.stage.as_ref() })
    }

    fn human(&self) -> String {
        let mut s = human_fetched(self.resolved.found(), &self.result);
        if let Some(r) = &self.reuse {
            s += &format!("reused stages: {}\nleft to build: {}\n", r.reuse_stages().join(", "), r.rebuild_stages().join(", "));
        }
        s
    }

    fn markdown(&self) -> String {
        let (f, b) = (self.resolved.found(), self.resolved.baseline());
        match &self.result {
            FetchResult::NotFound | FetchResult::DryRun { .. } => markdown::found(f, b),
            FetchResult::NothingSelected => String::new(),
            FetchResult::Done(r) => markdown_fetched(f, b, r),
        }
    }

    fn message(&self) -> Option<String> {
        match self.result {
            FetchResult::NothingSelected => Some("the --include/--exclude filters selected no archive".into()),
            FetchResult::NotFound => match &self.reuse {
                Some(r) => r.message(),
                None => Some(super::not_found(self.resolved.found())),
            },
            FetchResult::DryRun { .. } | FetchResult::Done(_) => None,
        }
    }
}
