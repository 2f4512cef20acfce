//! Fetch: download -> SHA-256 -> decompress -> untar, streamed and overlapped, with a
//! content-addressed cache. Every archive is extracted into a staging tree first; only when
//! all archives are verified are the staged trees moved into the output, in plan order.
//!
//! `plan` (what), `sidecar` (expected digests), `cache`, `download` (S3, ranged, resumable),
//! `decode` + `extract` (bytes to files), `output` (the commit into the output directory),
//! `progress`. This module runs one plan through them.

pub mod cache;
mod commit;
pub mod decode;
pub mod download;
pub mod error;
pub mod extract;
mod job;
pub mod kept;
mod lock;
mod output;
mod owner;
#[cfg(unix)]
pub use owner::chown_tree;
pub mod plan;
mod progress;
mod record;
mod sidecar;
mod tree;
// Used on Windows only; compiled (and unit tested) everywhere.
#[cfg_attr(not(windows), allow(dead_code))]
mod windows;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

pub use cache::Cache;
pub use download::Settings;
pub use error::FetchError;
pub use plan::{plan, Planned};
pub use progress::Counters;
pub use record::{Origin, Removed};

use crate::blocking::blocking;
use crate::config::ExtractMode;
use crate::domain::digest::Sha256;
pub use crate::domain::mixing::Mixing;
use crate::s3::S3;
use job::Job;
use lock::STAGING_PREFIX;
use progress::Progress;

/// One archive fetched, verified and staged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchedArchive {
    pub filename: String,
    pub size: u64,
    pub sha256: Sha256,
    pub verified: bool,
    pub cached: bool,
    #[serde(skip)]
    staged: Option<PathBuf>,
    #[serde(skip)]
    manifest: Vec<String>,
    #[serde(skip)]
    blob: Option<PathBuf>,
    #[serde(skip)]
    symlinks: Vec<Vec<String>>,
}

/// What a finished fetch did.
#[derive(Debug, Clone)]
pub struct FetchReport {
    pub output_dir: PathBuf,
    pub extract: ExtractMode,
    pub archives: Vec<FetchedArchive>,
    pub downloaded: u64,
    pub from_cache: u64,
    pub extracted: u64,
    pub total: u64,
    pub elapsed_seconds: f64,
    /// The cache directory and the bytes its blobs hold, unless `--no-cache`.
    pub cache: Option<(PathBuf, u64)>,
    /// What this fetch removed of the earlier fetches' files (`--clean`, or replaced by mode).
    pub removed: Option<Removed>,
}

/// What one fetch asks for beyond its plan: the layout, whether to verify, and the cache
/// (`None`: `--no-cache`).
#[derive(Debug, Clone)]
pub struct Request {
    pub mode: ExtractMode,
    pub verify: bool,
    pub cache_dir: Option<PathBuf>,
    /// Where the archives come from, for the output's record of what wrote it.
    pub origin: Origin,
    /// `--clean` / `--merge`: what to do about the files of a fetch of another commit.
    pub mixing: Mixing,
}

/// How a fetch runs (from the tunables).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Decoders at work: this many plus one (sized for the CPU).
    pub jobs: usize,
    /// Connections in flight (sized for the link: S3 answers after a round trip).
    pub connections: usize,
    pub download: Settings,
    /// Bytes one archive may extract to (`THEROCK_ARTIFACTS_MAX_EXTRACT`); by default 100 times
    /// its compressed size, and at least 1 GiB.
    pub max_extract: Option<u64>,
    /// Prune the cache to this size after a fetch (`THEROCK_ARTIFACTS_CACHE_MAX`).
    pub cache_max: Option<u64>,
}

impl Limits {
    fn max_extract_for(&self, compressed: u64) -> u64 {
        self.max_extract.unwrap_or_else(|| compressed.saturating_mul(100).max(1 << 30))
    }
}

/// Creates the output directory if needed and checks it is writable; returns its real path. A
/// system directory is refused unless `force`.
pub fn prepare_output(dir: &Path, force: bool) -> Result<PathBuf, FetchError> {
    output::prepare(dir, force)
}

/// The cache, unless there is none or it cannot be written: then the fetch streams without it,
/// and says so naming the directory.
async fn open_cache(dir: &Option<PathBuf>, out: &Path) -> Result<Option<Arc<Cache>>, FetchError> {
    let Some(root) = dir.clone() else { return Ok(None) };
    if inside(&root, out) {
        crate::say!(
            "warning: the cache directory {} is refused: it lies inside the output directory {}, where an archive's files could replace it; fetching without the cache",
            root.display(),
            out.display()
        );
        return Ok(None);
    }
    let at = root.clone();
    Ok(match blocking(move || Cache::open(at)).await? {
        Ok(c) => Some(Arc::new(c)),
        Err(e) if cache::is_untrusted(&e) => {
            crate::say!("warning: the cache directory {} is refused: {e}; fetching without the cache", root.display());
            None
        }
        Err(e) => {
            crate::say!("warning: the cache directory {} cannot be written ({e}); fetching without the cache", root.display());
            None
        }
    })
}

/// Whether `dir` is `out` or lies inside it (by their real paths, as far as `dir` exists).
fn inside(dir: &Path, out: &Path) -> bool {
    let mut probe = dir.to_path_buf();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&probe).is_err() {
        match (probe.file_name().map(|n| n.to_os_string()), probe.parent().map(Path::to_path_buf)) {
            (Some(n), Some(p)) => {
                rest.push(n);
                probe = p;
            }
            _ => break,
        }
    }
    let real = std::fs::canonicalize(&probe).unwrap_or(probe);
    let full = rest.iter().rev().fold(real, |acc, n| acc.join(n));
    full.starts_with(out)
}

/// Runs `planned` into `out_dir` (already prepared): every archive in parallel, then the commit
/// into the output. One fetch at a time writes into an output directory. On any failure (or a
/// signal) the others are cancelled and joined (never aborted: an aborted worker would leave its
/// temporary files behind), and the staging tree is removed.
pub async fn run(planned: Vec<Planned>, s3: &S3, req: &Request, out_dir: PathBuf, limits: Limits) -> Result<FetchReport, FetchError> {
    // The key that signs commit journals lives outside the output, in the user's cache directory.
    let key_dir = req.cache_dir.clone().unwrap_or_else(crate::config::env_cache_dir);
    let key = if inside(&key_dir, &out_dir) { Err(std::io::Error::other("it lies inside the output directory")) } else { commit::Key::load(&key_dir) };
    if let Err(e) = &key {
        crate::say!(
            "warning: no key to sign the commit journal with in {} ({e}); a fetch killed during this commit cannot be undone by the next one",
            key_dir.display()
        );
    }
    let _lock = lock::lock_output(&out_dir, key.as_ref()).await?;
    let prior = record::prior(&out_dir, key.as_ref().ok(), &req.origin, req.mode, req.mixing)?;
    let this = record::Fetch {
        origin: req.origin.clone(),
        extract: req.mode.as_str().to_string(),
        archives: planned.iter().map(|p| p.name.filename.clone()).collect(),
    };
    let started = Instant::now();
    let total: u64 = planned.iter().map(|p| p.size).sum();
    let staging = out_dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    let counters = Arc::new(Counters::default());
    let job = Arc::new(Job {
        s3: s3.clone(),
        cache: open_cache(&req.cache_dir, &out_dir).await?,
        mode: req.mode,
        verify: req.verify,
        staging: staging.clone(),
        counters: counters.clone(),
        cancel: Arc::new(AtomicBool::new(false)),
        limits,
        sidecars: Arc::new(tokio::sync::Semaphore::new((limits.connections / 2).clamp(1, job::MAX_STREAMS))),
        cpu: Arc::new(tokio::sync::Semaphore::new(limits.jobs + 1)),
        streams: Arc::new(tokio::sync::Semaphore::new(limits.connections.clamp(1, job::MAX_STREAMS))),
        in_use: Default::default(),
    });
    let progress = Progress::start(counters.clone(), total, planned.len());
    let results = job::fetch_all(&job, planned).await;
    progress.stop().await;
    let committed = match results {
        Err(e) => Err(e),
        Ok(done) => {
            let (out, mode, staging, key) = (out_dir.clone(), req.mode, staging.clone(), key.ok());
            let stamp = output::Stamp { prior, this };
            blocking(move || output::commit(&out, mode, &done, &staging, key, stamp).map(|removed| (done, removed))).await?
        }
    };
    let gone = staging.clone();
    let _ = blocking(move || extract::remove_path(&gone)).await;
    let (archives, removed) = committed?;
    if let Some(r) = &removed {
        crate::say!("removed {} files of the earlier fetch of {} from {}", r.files, r.of.join(" and "), out_dir.display());
    }
    let cache = match (job.cache.clone(), limits.cache_max) {
        (Some(c), max) => {
            if let Some(max) = max {
                prune_after(c.clone(), max).await?;
            }
            Some(blocking(move || (c.root.clone(), c.size())).await?)
        }
        (None, _) => None,
    };
    Ok(FetchReport {
        output_dir: out_dir,
        extract: req.mode,
        archives,
        downloaded: counters.downloaded(),
        from_cache: counters.cached(),
        extracted: counters.extracted(),
        total,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        cache,
        removed,
    })
}

/// Prunes the cache to `max` bytes after a fetch (`THEROCK_ARTIFACTS_CACHE_MAX`). The blobs this
/// fetch used are still locked: a prune never takes them.
async fn prune_after(c: Arc<Cache>, max: u64) -> Result<(), FetchError> {
    let (root, p) = blocking(move || (c.root.clone(), c.prune(Some(max), None, false))).await?;
    if !p.removed.is_empty() {
        crate::say!(
            "pruned the cache {} to {} (THEROCK_ARTIFACTS_CACHE_MAX): removed {} least recently used archives",
            root.display(),
            crate::domain::units::human_bytes(p.size_after),
            p.removed.len()
        );
    }
    Ok(())
}
