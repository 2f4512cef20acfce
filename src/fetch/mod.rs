//! Fetch: download -> SHA-256 -> decompress -> untar, streamed and overlapped, with a
//! content-addressed cache. Every archive is extracted into a staging tree first; only when
//! all archives are verified are the staged trees moved into the output, in plan order.
//!
//! `plan` (what), `sidecar` (expected digests), `cache`, `download` (S3, ranged, resumable),
//! `decode` + `extract` (bytes to files), `output` (the commit into the output directory),
//! `progress`. This module runs one plan through them.

pub mod cache;
pub mod decode;
pub mod download;
pub mod error;
pub mod extract;
mod lock;
mod output;
pub mod plan;
mod progress;
mod sidecar;
mod tree;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use cache::Cache;
use cache::InUse;
pub use download::Settings;
pub use error::FetchError;
pub use plan::{plan, Filters, Planned};
pub use progress::Counters;

use crate::config::{ExtractMode, FetchOptions};
use crate::s3::S3;
use decode::{Cancellable, Consumed, Sink, Target};
use download::Download;
use extract::Layout;
use lock::{OwnedTemp, STAGING_PREFIX};
use progress::Progress;

/// One archive fetched, verified and staged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchedArchive {
    pub filename: String,
    pub size: u64,
    pub sha256: String,
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
}

/// How a fetch runs (from the tunables).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Archives in flight: this many plus one.
    pub jobs: usize,
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

struct Job {
    s3: S3,
    cache: Option<Arc<Cache>>,
    mode: ExtractMode,
    verify: bool,
    staging: PathBuf,
    counters: Arc<Counters>,
    cancel: Arc<AtomicBool>,
    limits: Limits,
    /// Locks on the cached blobs this fetch uses, so no prune removes them meanwhile.
    in_use: std::sync::Mutex<Vec<InUse>>,
}

fn layout_for(mode: ExtractMode) -> Option<Layout> {
    match mode {
        ExtractMode::Flatten => Some(Layout::Flatten),
        ExtractMode::PerArtifact => Some(Layout::FullWithManifest),
        ExtractMode::Bootstrap => Some(Layout::Full),
        ExtractMode::Archives => None,
    }
}

/// The cache, unless there is none or it cannot be written: then the fetch streams without it,
/// and says so naming the directory.
fn open_cache(dir: &Option<PathBuf>) -> Option<Arc<Cache>> {
    let root = dir.clone()?;
    match Cache::open(root.clone()) {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            crate::say!("warning: the cache directory {} cannot be written ({e}); fetching without the cache", root.display());
            None
        }
    }
}

/// Runs `planned` into `out_dir` (already prepared): every archive in parallel, then the commit
/// into the output. One fetch at a time writes into an output directory. On any failure (or a
/// signal) the others are cancelled and joined (never aborted: an aborted worker would leave its
/// temporary files behind), and the staging tree is removed.
pub async fn run(planned: Vec<Planned>, s3: &S3, opts: &FetchOptions, out_dir: PathBuf, limits: Limits) -> Result<FetchReport, FetchError> {
    let _lock = lock::lock_output(&out_dir).await?;
    let started = Instant::now();
    let total: u64 = planned.iter().map(|p| p.size).sum();
    let staging = out_dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    let counters = Arc::new(Counters::default());
    let job = Arc::new(Job {
        s3: s3.clone(),
        cache: open_cache(&opts.cache_dir),
        mode: opts.extract,
        verify: opts.verify,
        staging: staging.clone(),
        counters: counters.clone(),
        cancel: Arc::new(AtomicBool::new(false)),
        limits,
        in_use: Default::default(),
    });
    let progress = Progress::start(counters.clone(), total, planned.len());
    let results = fetch_all(&job, planned, limits.jobs).await;
    progress.stop().await;
    let committed = match results {
        Err(e) => Err(e),
        Ok(done) => {
            let (out, mode, trash) = (out_dir.clone(), opts.extract, staging.join("replaced"));
            tokio::task::spawn_blocking(move || output::commit(&out, mode, &done, trash).map(|_| done)).await.map_err(|e| FetchError::Worker(e.to_string()))?
        }
    };
    let _ = extract::remove_path(&staging);
    let archives = committed?;
    if let (Some(c), Some(max)) = (&job.cache, limits.cache_max) {
        // The blobs this fetch used are still locked: a prune never takes them.
        let p = c.prune(Some(max), None, false);
        if !p.removed.is_empty() {
            crate::say!(
                "pruned the cache {} to {} (THEROCK_ARTIFACTS_CACHE_MAX): removed {} least recently used archives",
                c.root.display(),
                crate::domain::units::human_bytes(p.size_after),
                p.removed.len()
            );
        }
    }
    Ok(FetchReport {
        output_dir: out_dir,
        extract: opts.extract,
        archives,
        downloaded: counters.downloaded(),
        from_cache: counters.cached(),
        extracted: counters.extracted(),
        total,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        cache: job.cache.as_ref().map(|c| (c.root.clone(), c.size())),
    })
}

/// Fetches every archive, `jobs` + 1 at a time; the results in plan order, or the first failure.
async fn fetch_all(job: &Arc<Job>, planned: Vec<Planned>, jobs: usize) -> Result<Vec<FetchedArchive>, FetchError> {
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs + 1));
    let mut tasks = tokio::task::JoinSet::new();
    let n = planned.len();
    for (i, p) in planned.into_iter().enumerate() {
        let (job, sem) = (job.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            if job.cancel.load(Ordering::Relaxed) {
                return (i, Err(FetchError::Cancelled));
            }
            (i, job.fetch_one(i, p).await)
        });
    }
    let mut results: Vec<Option<FetchedArchive>> = vec![None; n];
    let mut first_err: Option<FetchError> = None;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((i, Ok(d))) => results[i] = Some(d),
            // Cancelled workers fail at their next read, clean up, and are joined here.
            Ok((_, Err(e))) => {
                if first_err.is_none() {
                    first_err = Some(e);
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_err.get_or_insert_with(|| FetchError::Worker(e.to_string()));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(results.into_iter().flatten().collect()),
    }
}

impl Job {
    /// Verified fetch of one archive: a mismatch is retried once from S3 (the archive and
    /// its sidecar are separate uploads and may have been caught mid-way), and so is an
    /// archive replaced on S3 since the listing (a re-run job uploading into the same run):
    /// then the new version is fetched whole, with its new ETag, size and sidecar.
    async fn fetch_one(&self, idx: usize, mut p: Planned) -> Result<FetchedArchive, FetchError> {
        let expected = self.expected(&p).await?;
        match self.attempt(idx, &p, expected.as_deref()).await {
            Err(e @ FetchError::Mismatch { .. }) => {
                if !matches!(e, FetchError::Mismatch { cached: true, .. }) {
                    crate::say!("warning: {e}; downloading it once more");
                }
                let expected = self.expected(&p).await?;
                self.attempt(idx, &p, expected.as_deref()).await
            }
            Err(FetchError::Replaced { archive, .. }) => {
                crate::say!(
                    "warning: {archive} was replaced on S3 while it was being fetched (a re-run uploading into the same run?); fetching the new version"
                );
                (p.size, p.etag) = self.s3.head(&p.bucket, &p.key).await?;
                let expected = self.expected(&p).await?;
                self.attempt(idx, &p, expected.as_deref()).await.map_err(|e| match e {
                    FetchError::Replaced { archive, .. } => FetchError::ReplacedTwice { archive },
                    e => e,
                })
            }
            other => other,
        }
    }

    async fn expected(&self, p: &Planned) -> Result<Option<String>, FetchError> {
        if !self.verify {
            return Ok(None);
        }
        sidecar::expected(&self.s3, p).await
    }

    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || crate::interrupt::cancelled()
    }

    /// One attempt: from the cache when it holds the archive intact, else from S3.
    async fn attempt(&self, idx: usize, p: &Planned, expected: Option<&str>) -> Result<FetchedArchive, FetchError> {
        let staged = layout_for(self.mode).map(|l| (self.staging.join(idx.to_string()), l));
        if let Some((d, _)) = &staged {
            let _ = extract::remove_path(d);
        }
        // A blob gone between the lookup and the lock (a prune) is simply not cached.
        let held = self.cache.as_ref().and_then(|c| c.lookup(p, expected)).and_then(|blob| InUse::take(&blob).map(|(g, f)| (blob, g, f)));
        if let Some((blob, guard, reader)) = held {
            let digest = blob.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let damage = match self.read_cached(reader, p, &staged).await {
                // A cached blob is named by its digest, so it is checked even without a sidecar.
                Ok(c) if c.sha == digest => {
                    self.hold(guard);
                    return Ok(self.done(p, c, expected.is_some(), true, Some(blob), staged));
                }
                Ok(c) => format!("it hashes to {} instead", c.sha),
                Err(e) if self.stopped() || Cache::blob_intact(&blob) => return Err(e),
                Err(e) => format!("{e}"),
            };
            crate::say!("warning: the cached copy of {} ({}) is damaged ({damage}); removed it, fetching the archive again", p.name.filename, blob.display());
            let _ = std::fs::remove_file(&blob);
            if let Some((d, _)) = &staged {
                let _ = extract::remove_path(d);
            }
        }
        let (consumed, tmp) = self.download(idx, p, &staged).await?;
        if let Some(e) = expected.filter(|e| *e != consumed.sha) {
            if let Some(t) = &tmp {
                let _ = std::fs::remove_file(&t.path);
            }
            return Err(FetchError::Mismatch { archive: p.name.filename.clone(), expected: e.to_string(), actual: consumed.sha, cached: false });
        }
        // Publish into the cache only now: a file under blobs/ is always complete and verified.
        let (mut blob, mut staged_archive) = (None, None);
        match (&self.cache, tmp) {
            (Some(c), Some(t)) => {
                let published = c.publish(&t.path, &consumed.sha, p)?;
                self.hold(InUse::keep(t.into_lock(), &published));
                blob = Some(published);
            }
            // No cache, archives mode: the verified archive waits in the staging directory and
            // takes its name in the output only when every archive has been verified.
            (None, Some(t)) => staged_archive = Some(t.path.clone()),
            (_, None) => {}
        }
        let staged = staged_archive.map(|a| (a, Layout::Full)).or(staged);
        Ok(self.done(p, consumed, expected.is_some(), false, blob, staged))
    }

    fn done(&self, p: &Planned, c: Consumed, verified: bool, cached: bool, blob: Option<PathBuf>, staged: Option<(PathBuf, Layout)>) -> FetchedArchive {
        let Consumed { sha, n, manifest, extracted, symlinks, .. } = c;
        self.counters.archive_done(extracted);
        FetchedArchive { filename: p.name.filename.clone(), size: n, sha256: sha, verified, cached, staged: staged.map(|(d, _)| d), manifest, blob, symlinks }
    }

    /// Keeps a blob this fetch uses from being pruned until the fetch ends.
    fn hold(&self, guard: InUse) {
        if let Ok(mut held) = self.in_use.lock() {
            held.push(guard);
        }
    }

    async fn read_cached(&self, blob: std::fs::File, p: &Planned, staged: &Option<(PathBuf, Layout)>) -> Result<Consumed, FetchError> {
        let (name, compression, cancel) = (p.name.filename.clone(), p.name.compression, self.cancel.clone());
        let (staged, max_bytes) = (staged.clone(), self.limits.max_extract_for(p.size));
        let c = tokio::task::spawn_blocking(move || {
            let f = Cancellable { inner: std::io::BufReader::with_capacity(1 << 20, blob), cancel };
            let target = staged.as_ref().map(|(root, layout)| Target { root, layout: *layout, max_bytes });
            decode::consume(f, None, compression, target, &name)
        })
        .await
        .map_err(|e| FetchError::Worker(e.to_string()))??;
        self.counters.add_from_cache(c.n);
        Ok(c)
    }

    /// Where the archive's own copy goes while it streams: the cache (a copy the fetch can do
    /// without, unless the copy is the output in `archives` mode), or for `archives` mode without
    /// a cache the staging directory.
    fn copy_for(&self, idx: usize) -> Result<Option<(OwnedTemp, Sink)>, FetchError> {
        let archives = self.mode == ExtractMode::Archives;
        let (tmp, file) = match &self.cache {
            Some(c) => c.tmp()?,
            None if archives => {
                std::fs::create_dir_all(&self.staging).map_err(|e| FetchError::io(format!("cannot create {}", self.staging.display()), e))?;
                let p = self.staging.join(format!("{idx}.archive"));
                OwnedTemp::create(p.clone()).map_err(|e| FetchError::io(format!("cannot write {}", p.display()), e))?
            }
            None => return Ok(None),
        };
        let sink = Sink { file, path: tmp.path.clone(), optional: !archives };
        Ok(Some((tmp, sink)))
    }

    /// Streams the archive from S3 through the pipeline, copying it into a temporary file.
    async fn download(&self, idx: usize, p: &Planned, staged: &Option<(PathBuf, Layout)>) -> Result<(Consumed, Option<OwnedTemp>), FetchError> {
        let (tmp, sink) = self.copy_for(idx)?.unzip();
        let (reader, download) = Download::start(self.s3.clone(), p.clone(), self.counters.clone(), self.limits.download).split();
        let (name, compression, cancel) = (p.name.filename.clone(), p.name.compression, self.cancel.clone());
        let (staged2, max_bytes) = (staged.clone(), self.limits.max_extract_for(p.size));
        let res = tokio::task::spawn_blocking(move || {
            let target = staged2.as_ref().map(|(root, layout)| Target { root, layout: *layout, max_bytes });
            decode::consume(Cancellable { inner: reader, cancel }, sink, compression, target, &name)
        })
        .await
        .map_err(|e| FetchError::Worker(e.to_string()));
        let failure = download.failure();
        match res.and_then(|r| r.map_err(FetchError::from)) {
            Ok(c) => {
                let Some(e) = &c.sink_failed else { return Ok((c, tmp)) };
                if let Some(t) = &tmp {
                    let dir = t.path.parent().and_then(Path::parent).unwrap_or(&t.path);
                    crate::say!("warning: cannot write {} into the cache directory {} ({e}); it was fetched without the cache", p.name.filename, dir.display());
                    let _ = std::fs::remove_file(&t.path);
                }
                Ok((c, None))
            }
            Err(e) => {
                if let Some(t) = &tmp {
                    let _ = std::fs::remove_file(&t.path);
                }
                // The download's own failure is the cause; the decoder only saw its symptom.
                Err(failure.unwrap_or(e))
            }
        }
    }
}
