//! One fetch's archives, each through cache or download, verify, decode and extract.
//!
//! Three limits, sized for three different things: archive streams in flight (`connections`, at
//! most `MAX_STREAMS`; sized for the link: S3 answers after a round trip, so many small archives
//! are asked for at once), sidecar GETs in flight (a pool of their own, half as large, so neither
//! waits behind the other), and CPU slots (`jobs` + 1, for the cores). A download starts with
//! its decoder as soon as a stream is free; a decoder holds a CPU slot only while it has bytes to
//! work on, so a slow stream never keeps the link idle while others wait for a decoder. Every
//! sidecar is asked for alongside the downloads (a digest is needed only once its archive has
//! streamed through), and a cached archive already verified against a sidecar with the listed
//! ETag and size needs neither. The largest archives start first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::cache::{Cache, InUse};
use super::decode::{self, Cancellable, Consumed, Sink, Target};
use super::download::{CpuGate, Download};
use super::error::{chain, FetchError};
use super::extract::{self, Layout};
use super::lock::OwnedTemp;
use super::plan::Planned;
use super::progress::Counters;
use super::{sidecar, FetchedArchive, Limits};
use crate::blocking::blocking;
use crate::config::ExtractMode;
use crate::domain::digest::Sha256;
use crate::s3::S3;

/// Archive streams in flight at most, whatever `THEROCK_ARTIFACTS_CONNECTIONS` says: each has a
/// decoder (a few MiB) and a 1 MiB buffer, so this bounds the memory.
pub const MAX_STREAMS: usize = 16;

pub struct Job {
    pub s3: S3,
    pub cache: Option<Arc<Cache>>,
    pub mode: ExtractMode,
    pub verify: bool,
    pub staging: PathBuf,
    pub counters: Arc<Counters>,
    pub cancel: Arc<AtomicBool>,
    pub limits: Limits,
    /// Sidecar GETs in flight: a pool of their own (half as many as the archive connections),
    /// so the first archives start at once instead of queueing behind every sidecar.
    pub sidecars: Arc<Semaphore>,
    /// Decoders at work: held while a decoder has bytes to work on, not while it waits for them.
    pub cpu: Arc<Semaphore>,
    /// Archive streams in flight (`connections`, at most `MAX_STREAMS`): each holds one
    /// connection (a large archive also its ranged parts ahead) and has its own decoder.
    pub streams: Arc<Semaphore>,
    /// Locks on the cached blobs this fetch uses, so no prune removes them meanwhile.
    pub in_use: std::sync::Mutex<Vec<InUse>>,
}

fn layout_for(mode: ExtractMode) -> Option<Layout> {
    match mode {
        ExtractMode::Flatten => Some(Layout::Flatten),
        ExtractMode::PerArtifact => Some(Layout::FullWithManifest),
        ExtractMode::Bootstrap => Some(Layout::Full),
        ExtractMode::Archives => None,
    }
}

/// The digest an archive must have: known, or still being read from its sidecar (every sidecar
/// is asked for at once, before any archive, and the downloads do not wait for the answers: an
/// archive's digest is only needed once its bytes have streamed through).
enum Expected {
    Known(Option<Sha256>),
    Asking(tokio::task::JoinHandle<Result<Option<Sha256>, FetchError>>),
}

impl Expected {
    fn known(&self) -> Option<&Sha256> {
        match self {
            Expected::Known(d) => d.as_ref(),
            Expected::Asking(_) => None,
        }
    }

    async fn get(self) -> Result<Option<Sha256>, FetchError> {
        match self {
            Expected::Known(d) => Ok(d),
            Expected::Asking(h) => h.await?,
        }
    }
}

/// Removes each of `paths` (a staged tree, a damaged blob) off the runtime's threads.
async fn remove(paths: Vec<PathBuf>) {
    let _ = blocking(move || paths.iter().for_each(|p| drop(extract::remove_path(p)))).await;
}

/// Fetches every archive; the results in plan order, or the first failure.
pub async fn fetch_all(job: &Arc<Job>, planned: Vec<Planned>) -> Result<Vec<FetchedArchive>, FetchError> {
    let n = planned.len();
    // Largest first: the long downloads and decodes start at once and overlap the many small
    // ones, instead of trailing at the end. (The commit keeps the plan's order.)
    let mut order: Vec<(usize, Planned)> = planned.into_iter().enumerate().collect();
    order.sort_by(|a, b| b.1.size.cmp(&a.1.size).then(a.0.cmp(&b.0)));
    let mut expected: Vec<Option<Expected>> = order.iter().map(|(_, p)| Some(job.ask_expected(p))).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (k, (i, p)) in order.into_iter().enumerate() {
        let (job, first) = (job.clone(), expected[k].take().unwrap_or(Expected::Known(None)));
        tasks.spawn(async move {
            if job.stopped() {
                return (i, Err(FetchError::Cancelled));
            }
            (i, job.fetch_one(i, p, first).await)
        });
    }
    let mut results: Vec<Option<FetchedArchive>> = vec![None; n];
    let mut first_err: Option<FetchError> = None;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((i, Ok(d))) => results[i] = Some(d),
            // Not abort_all(): an aborted task would leave its blocking extraction running and
            // its temporary files behind. Cancelled workers fail at their next read, clean up,
            // and are joined here.
            Ok((_, Err(e))) => {
                if first_err.is_none() {
                    first_err = Some(e);
                    job.cancel.store(true, Ordering::Relaxed);
                    // Tasks waiting for a connection or a decoder stop at once.
                    job.sidecars.close();
                    job.cpu.close();
                    job.streams.close();
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_err.get_or_insert(FetchError::Worker(e));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(results.into_iter().flatten().collect()),
    }
}

impl Job {
    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || crate::interrupt::cancelled()
    }

    /// The digest `p` must have: `None` without verification; the cache's record when it
    /// verified this very object (bucket, key, ETag, size) before, which costs no request; else
    /// its sidecar, asked for now on a free connection.
    fn ask_expected(&self, p: &Planned) -> Expected {
        if !self.verify {
            return Expected::Known(None);
        }
        if let Some(d) = self.cache.as_ref().and_then(|c| c.verified_digest(p.cache_key())) {
            return Expected::Known(Some(d));
        }
        let (s3, p, pool) = (self.s3.clone(), p.clone(), self.sidecars.clone());
        Expected::Asking(tokio::spawn(async move {
            let _slot = pool.acquire_owned().await.map_err(|_| FetchError::Cancelled)?;
            sidecar::expected(&s3, &p).await
        }))
    }

    /// Verified fetch of one archive: a mismatch is retried once from S3 (the archive and
    /// its sidecar are separate uploads and may have been caught mid-way), and so is an
    /// archive replaced on S3 since the listing (a re-run job uploading into the same run):
    /// then the new version is fetched whole, with its new ETag, size and sidecar.
    async fn fetch_one(&self, idx: usize, mut p: Planned, expected: Expected) -> Result<FetchedArchive, FetchError> {
        match self.attempt(idx, &p, expected).await {
            Err(e @ FetchError::Mismatch { .. }) => {
                crate::say!("warning: {e}; downloading it once more");
                let expected = Expected::Known(self.expected(&p).await?);
                self.attempt(idx, &p, expected).await
            }
            Err(FetchError::Replaced { archive, .. }) => {
                crate::say!(
                    "warning: {archive} was replaced on S3 while it was being fetched (a re-run uploading into the same run?); fetching the new version"
                );
                (p.size, p.etag) = self.s3.head(&p.bucket, &p.key).await?;
                let expected = Expected::Known(self.expected(&p).await?);
                self.attempt(idx, &p, expected).await.map_err(|e| match e {
                    FetchError::Replaced { archive, .. } => FetchError::ReplacedTwice { archive },
                    e => e,
                })
            }
            other => other,
        }
    }

    async fn expected(&self, p: &Planned) -> Result<Option<Sha256>, FetchError> {
        if !self.verify {
            return Ok(None);
        }
        sidecar::expected(&self.s3, p).await
    }

    async fn decoder(&self) -> Result<tokio::sync::OwnedSemaphorePermit, FetchError> {
        self.cpu.clone().acquire_owned().await.map_err(|_| FetchError::Cancelled)
    }

    /// One attempt: from the cache when it holds the archive intact, else from S3.
    async fn attempt(&self, idx: usize, p: &Planned, expected: Expected) -> Result<FetchedArchive, FetchError> {
        let layout = |l| if p.whole { Layout::Whole } else { l };
        let staged = layout_for(self.mode).map(|l| (self.staging.join(idx.to_string()), layout(l)));
        if let Some((d, _)) = &staged {
            remove(vec![d.clone()]).await;
        }
        // A blob gone between the lookup and the lock (a prune) is simply not cached.
        let held =
            self.cache.as_ref().and_then(|c| c.lookup(p.cache_key(), expected.known())).and_then(|(blob, d)| InUse::take(&blob).map(|(g, f)| (blob, d, g, f)));
        if let Some((blob, digest, guard, reader)) = held {
            let damage = match self.read_cached(reader, p, &staged).await {
                // A cached blob is named by its digest, so it is checked even without a sidecar.
                Ok(c) if c.sha == digest => {
                    // Found by the object's reference: its sidecar may still disagree.
                    let want = expected.get().await?;
                    if let Some(e) = want.as_ref().filter(|e| **e != c.sha) {
                        return Err(FetchError::Mismatch { archive: p.name.filename.clone(), expected: e.clone(), actual: c.sha, cached: true });
                    }
                    self.hold(guard);
                    return Ok(self.done(p, c, want.is_some(), true, Some(blob), staged));
                }
                Ok(c) => format!("it hashes to {} instead", c.sha),
                Err(e) if self.stopped() => return Err(e),
                Err(e) => {
                    // Re-hashing a blob reads all of it: not on a runtime thread.
                    let b = blob.clone();
                    if blocking(move || Cache::blob_intact(&b)).await? {
                        return Err(e);
                    }
                    chain(&e)
                }
            };
            crate::say!("warning: the cached copy of {} ({}) is damaged ({damage}); removed it, fetching the archive again", p.name.filename, blob.display());
            remove(std::iter::once(blob).chain(staged.as_ref().map(|(d, _)| d.clone())).collect()).await;
        }
        let (consumed, tmp) = self.download(idx, p, &staged).await?;
        let expected = expected.get().await?;
        let expected = expected.as_ref();
        if let Some(e) = expected.filter(|e| **e != consumed.sha) {
            return Err(FetchError::Mismatch { archive: p.name.filename.clone(), expected: e.clone(), actual: consumed.sha, cached: false });
        }
        // Publish into the cache only now: a file under blobs/ is always complete and verified.
        let (mut blob, mut staged_archive) = (None, None);
        match (&self.cache, tmp) {
            (Some(c), Some(t)) => {
                let published = c.publish(&t.path, &consumed.sha, p.cache_key(), expected.is_some())?;
                self.hold(InUse::keep(t.into_lock(), &published));
                blob = Some(published);
            }
            // No cache, archives mode: the verified archive waits in the staging directory and
            // takes its name in the output only when every archive has been verified.
            (None, Some(t)) => staged_archive = Some(t.keep()),
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
        let _decoder = self.decoder().await?;
        let c = self.consume_blocking(std::io::BufReader::with_capacity(1 << 20, blob), None, p, staged).await?;
        self.counters.add_from_cache(c.n);
        Ok(c)
    }

    /// Verifies and decodes `reader` on a blocking thread (cancellable): into `sink`'s copy, if
    /// any, and into the staged tree when extracting.
    async fn consume_blocking<R: std::io::Read + Send + 'static>(
        &self,
        reader: R,
        sink: Option<Sink>,
        p: &Planned,
        staged: &Option<(PathBuf, Layout)>,
    ) -> Result<Consumed, FetchError> {
        let (name, compression, cancel) = (p.name.filename.clone(), p.name.compression, self.cancel.clone());
        let (staged, max_bytes) = (staged.clone(), self.limits.max_extract_for(p.size));
        let consumed = blocking(move || {
            let target = staged.as_ref().map(|(root, layout)| Target { root, layout: *layout, max_bytes });
            decode::consume(Cancellable { inner: reader, cancel }, sink, compression, target, &name)
        });
        Ok(consumed.await??)
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

    /// Streams the archive from S3 through the pipeline, copying it into a temporary file. The
    /// download starts on a free connection with its decoder; the decoder takes a CPU slot only
    /// while it has bytes to work on.
    async fn download(&self, idx: usize, p: &Planned, staged: &Option<(PathBuf, Layout)>) -> Result<(Consumed, Option<OwnedTemp>), FetchError> {
        let slot = self.streams.clone().acquire_owned().await.map_err(|_| FetchError::Cancelled)?;
        let (tmp, sink) = self.copy_for(idx)?.unzip();
        let (reader, download) = Download::start(self.s3.clone(), p.clone(), self.counters.clone(), self.limits.download, Some(slot)).split();
        let reader = reader.gated(CpuGate::new(self.cpu.clone()));
        let res = (self.consume_blocking(reader, sink, p, staged).await, tmp);
        let failure = download.failure();
        match res {
            (Ok(c), tmp) => {
                let Some(e) = &c.sink_failed else { return Ok((c, tmp)) };
                if let Some(t) = &tmp {
                    let dir = t.path.parent().and_then(Path::parent).unwrap_or(&t.path);
                    crate::say!("warning: cannot write {} into the cache directory {} ({e}); it was fetched without the cache", p.name.filename, dir.display());
                }
                Ok((c, None)) // dropping the temporary file removes it
            }
            (Err(e), _) => {
                // The download's own failure is the cause; the decoder only saw its symptom.
                Err(failure.unwrap_or(e))
            }
        }
    }
}
