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
mod output;
pub mod plan;
mod progress;
mod sidecar;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use cache::Cache;
pub use download::Settings;
pub use error::FetchError;
pub use plan::{plan, Filters, Planned};
pub use progress::Counters;

use crate::config::{ExtractMode, FetchOptions};
use crate::s3::S3;
use decode::{Cancellable, Consumed};
use download::Download;
use extract::{ExtractError, Layout};
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

/// Creates the output directory if needed and checks it is writable; returns its real path.
pub fn prepare_output(dir: &Path) -> Result<PathBuf, FetchError> {
    output::prepare(dir)
}

struct Job {
    s3: S3,
    cache: Option<Arc<Cache>>,
    mode: ExtractMode,
    verify: bool,
    staging: PathBuf,
    counters: Arc<Counters>,
    cancel: Arc<AtomicBool>,
    settings: Settings,
}

fn layout_for(mode: ExtractMode) -> Option<Layout> {
    match mode {
        ExtractMode::Flatten => Some(Layout::Flatten),
        ExtractMode::PerArtifact | ExtractMode::Bootstrap => Some(Layout::Full),
        ExtractMode::Archives => None,
    }
}

/// Runs `planned` into `out_dir` (already prepared): every archive in parallel (`jobs` + 1 at a
/// time), then the commit into the output. On any failure the others are cancelled and joined
/// (never aborted: an aborted worker would leave its temporary files behind), and the staging
/// tree is removed.
pub async fn run(planned: Vec<Planned>, s3: &S3, opts: &FetchOptions, out_dir: PathBuf, jobs: usize, settings: Settings) -> Result<FetchReport, FetchError> {
    let started = Instant::now();
    let total: u64 = planned.iter().map(|p| p.size).sum();
    let staging = out_dir.join(format!(".therock-artifacts-staging-{}", std::process::id()));
    let counters = Arc::new(Counters::default());
    let job = Arc::new(Job {
        s3: s3.clone(),
        cache: opts.cache_dir.clone().map(|root| Arc::new(Cache::new(root))),
        mode: opts.extract,
        verify: opts.verify,
        staging: staging.clone(),
        counters: counters.clone(),
        cancel: Arc::new(AtomicBool::new(false)),
        settings,
    });
    let progress = Progress::start(counters.clone(), total, planned.len());
    let results = fetch_all(&job, planned, jobs).await;
    progress.stop().await;
    let committed = match results {
        Err(e) => Err(e),
        Ok(done) => {
            let (out, mode) = (out_dir.clone(), opts.extract);
            tokio::task::spawn_blocking(move || output::commit(&out, mode, &done).map(|_| done)).await.map_err(|e| FetchError::Worker(e.to_string()))?
        }
    };
    let _ = extract::remove_path(&staging);
    let archives = committed?;
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
                    eprintln!("warning: {e}; downloading it once more");
                }
                let expected = self.expected(&p).await?;
                self.attempt(idx, &p, expected.as_deref()).await
            }
            Err(FetchError::Replaced { archive, .. }) => {
                eprintln!("warning: {archive} was replaced on S3 while it was being fetched (a re-run uploading into the same run?); fetching the new version");
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

    /// One attempt: from the cache when it holds the archive, else from S3.
    async fn attempt(&self, idx: usize, p: &Planned, expected: Option<&str>) -> Result<FetchedArchive, FetchError> {
        let staged = layout_for(self.mode).map(|l| (self.staging.join(idx.to_string()), l));
        if let Some((d, _)) = &staged {
            let _ = extract::remove_path(d);
        }
        let cached_blob = self.cache.as_ref().and_then(|c| c.lookup(p, expected));
        let (consumed, tmp) = match &cached_blob {
            Some(blob) => (self.read_cached(blob, p, staged.clone()).await?, None),
            None => self.download(idx, p, staged.clone()).await?,
        };
        // A cached blob is named by its digest, so it is checked even without a sidecar.
        let blob_name = cached_blob.as_ref().and_then(|b| b.file_name()).map(|n| n.to_string_lossy().into_owned());
        if let Some(e) = expected.or(blob_name.as_deref()) {
            if e != consumed.sha {
                if let Some(t) = &tmp {
                    let _ = std::fs::remove_file(t);
                }
                if let Some(b) = &cached_blob {
                    let _ = std::fs::remove_file(b);
                }
                return Err(FetchError::Mismatch {
                    archive: p.name.filename.clone(),
                    expected: e.to_string(),
                    actual: consumed.sha,
                    cached: cached_blob.is_some(),
                });
            }
        }
        // Publish into the cache only now: a file under blobs/ is always complete and verified.
        let mut blob = cached_blob.clone();
        if let (Some(c), Some(t)) = (&self.cache, &tmp) {
            blob = Some(c.publish(t, &consumed.sha, p)?);
        }
        // No cache, archives mode: the verified archive waits in the staging directory and
        // takes its name in the output only when every archive has been verified.
        let staged = match (&self.cache, &tmp) {
            (None, Some(t)) => Some(t.clone()),
            _ => staged.map(|(d, _)| d),
        };
        let Consumed { sha, n, manifest, extracted } = consumed;
        self.counters.archive_done(extracted);
        Ok(FetchedArchive {
            filename: p.name.filename.clone(),
            size: n,
            sha256: sha,
            verified: expected.is_some(),
            cached: cached_blob.is_some(),
            staged,
            manifest,
            blob,
        })
    }

    async fn read_cached(&self, blob: &Path, p: &Planned, staged: Option<(PathBuf, Layout)>) -> Result<Consumed, FetchError> {
        let (blob, name, compression, cancel) = (blob.to_path_buf(), p.name.filename.clone(), p.name.compression, self.cancel.clone());
        let c = tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(&blob).map_err(|e| ExtractError::Read { archive: name.clone(), err: e.to_string() })?;
            let f = Cancellable { inner: std::io::BufReader::with_capacity(1 << 20, f), cancel };
            decode::consume(f, None, compression, staged.as_ref().map(|(d, l)| (d.as_path(), *l)), &name)
        })
        .await
        .map_err(|e| FetchError::Worker(e.to_string()))??;
        self.counters.add_from_cache(c.n);
        Ok(c)
    }

    /// Streams the archive from S3 through the pipeline, copying it into a temporary file (in
    /// the cache, or in staging for `archives` mode without a cache).
    async fn download(&self, idx: usize, p: &Planned, staged: Option<(PathBuf, Layout)>) -> Result<(Consumed, Option<PathBuf>), FetchError> {
        let tmp = match (&self.cache, self.mode) {
            (Some(c), _) => Some(c.tmp()?),
            (None, ExtractMode::Archives) => {
                std::fs::create_dir_all(&self.staging).map_err(|e| FetchError::io(format!("cannot create {}", self.staging.display()), e))?;
                Some(self.staging.join(format!("{idx}.archive")))
            }
            (None, _) => None,
        };
        let sink = match &tmp {
            Some(t) => Some(std::fs::File::create(t).map_err(|e| FetchError::io(format!("cannot write {}", t.display()), e))?),
            None => None,
        };
        let (reader, download) = Download::start(self.s3.clone(), p.clone(), self.counters.clone(), self.settings).split();
        let (name, compression, cancel) = (p.name.filename.clone(), p.name.compression, self.cancel.clone());
        let res = tokio::task::spawn_blocking(move || {
            decode::consume(Cancellable { inner: reader, cancel }, sink, compression, staged.as_ref().map(|(d, l)| (d.as_path(), *l)), &name)
        })
        .await
        .map_err(|e| FetchError::Worker(e.to_string()));
        let failure = download.failure();
        match res.and_then(|r| r.map_err(FetchError::from)) {
            Ok(c) => Ok((c, tmp)),
            Err(e) => {
                if let Some(t) = &tmp {
                    let _ = std::fs::remove_file(t);
                }
                // The download's own failure is the cause; the decoder only saw its symptom.
                Err(failure.unwrap_or(e))
            }
        }
    }
}
