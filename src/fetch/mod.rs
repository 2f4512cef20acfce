//! Fetch: download -> SHA-256 -> decompress -> untar, streamed and overlapped, with a
//! content-addressed cache. Every archive is extracted into a staging tree first; only when
//! all archives are verified are the staged trees merged into the output, in order.

pub mod extract;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{ExtractMode, FetchOptions};
use crate::domain::artifacts::{ArtifactName, Compression};
use crate::resolve::{Ctx, Found};
use crate::s3::{S3Error, S3};
use crate::Outcome;
use extract::{ExtractError, Layout};

/// One archive to fetch.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: ArtifactName,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub sidecar_key: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Done {
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

#[derive(Default)]
pub struct Counters {
    pub downloaded: AtomicU64,
    pub from_cache: AtomicU64,
    pub archives_done: AtomicU64,
    pub extracted: AtomicU64,
}

/// Opens an archive as a blocking byte stream: the cached copy when the cache has it (found
/// through the object's ETag), else a resumable S3 download.
pub fn open_stream(s3: &S3, p: &Planned, cache: Option<&Cache>, counters: Arc<Counters>) -> Box<dyn Read + Send> {
    if let Some(c) = cache {
        let blob = c.reference(p).and_then(|r| std::fs::read_to_string(r).ok()).map(|s| c.blob(s.trim()));
        if let Some(f) = blob.and_then(|b| std::fs::File::open(b).ok()) {
            return Box::new(io::BufReader::with_capacity(1 << 20, f));
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel(32);
    tokio::spawn(download(s3.clone(), p.clone(), tx, counters, Arc::default()));
    Box::new(ChannelReader { rx, cur: bytes::Bytes::new() })
}

/// Archives of the found groups, deduplicated by filename, filtered by include/exclude.
pub fn plan(found: &Found, opts: &FetchOptions) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    for slot in &found.slots {
        let Some(hit) = &slot.hit else { continue };
        for (a, size) in &hit.archives {
            if out.iter().any(|p| p.name.filename == a.filename) {
                continue;
            }
            if !opts.include.is_empty() && !opts.include.iter().any(|r| r.is_match(&a.filename)) {
                continue;
            }
            if opts.exclude.iter().any(|r| r.is_match(&a.filename)) {
                continue;
            }
            let prefix = hit.location.prefix();
            out.push(Planned {
                name: a.clone(),
                bucket: hit.location.bucket.clone(),
                key: format!("{prefix}{}", a.filename),
                size: *size,
                etag: hit.listing.etags.get(&a.filename).cloned(),
                sidecar_key: hit.listing.sidecars.contains_key(&a.filename).then(|| format!("{prefix}{}.sha256sum", a.filename)),
            });
        }
    }
    // Target-neutral archives first, so target-specific files win when flattening overlaps.
    out.sort_by(|a, b| (!a.name.is_generic(), &a.name.filename).cmp(&(!b.name.is_generic(), &b.name.filename)));
    out
}

/// The first token of a sidecar: lowercase hex SHA-256 (CRLF and `digest  filename` tolerated).
pub fn parse_sidecar(text: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(text);
    let tok = s.split_whitespace().next()?.trim_start_matches('\u{feff}').to_ascii_lowercase();
    (tok.len() == 64 && tok.chars().all(|c| c.is_ascii_hexdigit())).then_some(tok)
}

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Self {
        Cache { root }
    }
    pub fn blob(&self, sha: &str) -> PathBuf {
        self.root.join("blobs").join("sha256").join(sha)
    }
    pub fn reference(&self, p: &Planned) -> Option<PathBuf> {
        let etag = p.etag.as_deref()?;
        let mut h = Sha256::new();
        h.update(format!("{}/{}@{}:{}", p.bucket, p.key, etag, p.size));
        Some(self.root.join("refs").join(hex::encode(h.finalize())))
    }
    fn tmp(&self) -> Result<PathBuf> {
        let d = self.root.join("tmp");
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create the cache directory {}", d.display()))?;
        Ok(d.join(format!("{}-{}.partial", std::process::id(), fastrand::u64(..))))
    }
    fn size(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| match e.file_type() {
                            Ok(t) if t.is_dir() => walk(&e.path()),
                            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.root.join("blobs"))
    }
}

/// A `Read` over chunks arriving from the async downloader.
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    cur: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        bytes::Buf::advance(&mut self.cur, n);
        Ok(n)
    }
}

/// A reader that fails once the fetch is cancelled (another archive failed), so every worker
/// stops promptly and cleans up after itself before the staging tree is removed.
struct Cancellable<R> {
    inner: R,
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled: another archive failed"));
        }
        self.inner.read(buf)
    }
}

/// Hashes everything read, and copies it to `sink` (the cache's temporary file) if any.
struct Tee<R> {
    inner: R,
    hasher: Sha256,
    sink: Option<io::BufWriter<std::fs::File>>,
    n: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some(s) = &mut self.sink {
            s.write_all(&buf[..n])?;
        }
        self.n += n as u64;
        Ok(n)
    }
}

fn drain<R: Read>(mut r: R) -> io::Result<R> {
    io::copy(&mut r, &mut io::sink())?;
    Ok(r)
}

/// Runs one archive stream through hash, optional copy, decoder and tar, on a blocking thread.
fn consume<R: Read>(
    reader: R,
    sink: Option<std::fs::File>,
    compression: Compression,
    staged: Option<(&Path, Layout)>,
    archive: &str,
) -> Result<Consumed, ExtractError> {
    let rd = |e: io::Error| ExtractError::Read { archive: archive.into(), err: e.to_string() };
    let tee = Tee { inner: reader, hasher: Sha256::new(), sink: sink.map(|f| io::BufWriter::with_capacity(1 << 20, f)), n: 0 };
    let mut manifest = Vec::new();
    let mut extracted = 0;
    let tee = match staged {
        None => drain(tee).map_err(rd)?,
        Some((root, layout)) => match compression {
            Compression::Zst => {
                let mut dec = zstd::stream::read::Decoder::new(tee).map_err(rd)?;
                let x = extract::extract(&mut dec, root, layout, archive)?;
                (manifest, extracted) = (x.manifest, x.bytes);
                let dec = drain(dec).map_err(|e| ExtractError::Read { archive: archive.into(), err: format!("corrupt zstd stream: {e}") })?;
                drain(dec.finish()).map_err(rd)?.into_inner()
            }
            Compression::Xz => {
                let mut dec = liblzma::read::XzDecoder::new_multi_decoder(tee);
                let x = extract::extract(&mut dec, root, layout, archive)?;
                (manifest, extracted) = (x.manifest, x.bytes);
                let dec = drain(dec).map_err(|e| ExtractError::Read { archive: archive.into(), err: format!("corrupt xz stream: {e}") })?;
                dec.into_inner()
            }
        },
    };
    let Tee { hasher, sink, n, .. } = tee;
    // No fsync: forcing the cache file to disk also forces ext4 to write back every extracted
    // file of the same transaction (it tripled the cold fetch time in the benchmark). A blob
    // torn by a power loss is caught anyway: cached blobs are re-hashed against their name.
    if let Some(mut s) = sink {
        s.flush().map_err(rd)?;
    }
    Ok(Consumed { sha: hex::encode(hasher.finalize()), n, manifest, extracted })
}

struct Consumed {
    sha: String,
    /// Archive bytes read.
    n: u64,
    manifest: Vec<String>,
    /// Bytes of regular files written by the extraction.
    extracted: u64,
}

/// Objects larger than this are fetched as parallel ranged GETs of this size.
fn part_size() -> u64 {
    std::env::var("THEROCK_ARTIFACTS_PART_SIZE").ok().and_then(|v| v.parse().ok()).filter(|n: &u64| *n > 0).unwrap_or(8 << 20)
}

/// Parts of one object in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// Parts fetched ahead of the one being consumed, across every archive of the process: with
/// 8 MiB parts, 32 MiB. The part being consumed streams straight through; only parts ahead are
/// buffered, and only with this budget, so memory stays bounded whatever the number of cores,
/// archives or their sizes.
fn ahead_budget() -> Arc<tokio::sync::Semaphore> {
    static BUDGET: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    BUDGET.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(4))).clone()
}

type Chunks = tokio::sync::mpsc::Sender<io::Result<bytes::Bytes>>;

/// Where `fetch_range` puts the bytes: straight to the consumer, or into a part's buffer
/// (allocated once at the part's size).
enum Sink {
    Chan(Chunks),
    Buf(bytes::BytesMut),
}

impl Sink {
    /// False when the consumer has gone away.
    async fn put(&mut self, b: bytes::Bytes) -> bool {
        match self {
            Sink::Chan(tx) => tx.send(Ok(b)).await.is_ok(),
            Sink::Buf(v) => {
                v.extend_from_slice(&b);
                true
            }
        }
    }
}

/// A spawned part, aborted when the download that spawned it is dropped; its share of the
/// read-ahead budget is returned when it is dropped after being forwarded.
struct PartTask {
    handle: tokio::task::JoinHandle<Result<bytes::Bytes, String>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for PartTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Streams an object into `tx`, in order. Objects larger than one part are fetched as parallel
/// ranged GETs, pinned to the listing's ETag; every GET resumes with a Range request from where
/// its connection broke instead of starting over. `changed` is set when the object no longer
/// has the listing's ETag (replaced on S3 since it was listed, or while being fetched).
pub async fn download(s3: S3, p: Planned, tx: Chunks, counters: Arc<Counters>, changed: Arc<AtomicBool>) {
    let part = part_size();
    if p.etag.is_none() || p.size <= part {
        let mut etag = p.etag.clone();
        let mut sink = Sink::Chan(tx.clone());
        if let Err(e) = fetch_range(&s3, &p, 0, p.size, &mut etag, &counters, &changed, &mut sink).await {
            let _ = tx.send(Err(io::Error::other(e))).await;
        }
        return;
    }
    let budget = ahead_budget();
    let parts: Vec<(u64, u64)> = (0..p.size.div_ceil(part)).map(|k| (k * part, ((k + 1) * part).min(p.size))).collect();
    // `ahead` holds the parts fetched ahead, [i, next), or nothing: part i is then streamed
    // straight to the consumer. Either way it is no longer to be spawned.
    let mut ahead: std::collections::VecDeque<PartTask> = std::collections::VecDeque::new();
    let mut next = 0usize;
    for i in 0..parts.len() {
        let buffered = ahead.pop_front();
        next = next.max(i + 1);
        while next < parts.len() && next < i + PARTS_IN_FLIGHT {
            let Ok(permit) = budget.clone().try_acquire_owned() else { break };
            let (start, end) = parts[next];
            next += 1;
            let (s3, p, counters, changed) = (s3.clone(), p.clone(), counters.clone(), changed.clone());
            let handle = tokio::spawn(async move {
                let mut etag = p.etag.clone();
                let mut sink = Sink::Buf(bytes::BytesMut::with_capacity((end - start) as usize));
                fetch_range(&s3, &p, start, end, &mut etag, &counters, &changed, &mut sink).await?;
                Ok(match sink {
                    Sink::Buf(v) => v.freeze(),
                    Sink::Chan(_) => bytes::Bytes::new(),
                })
            });
            ahead.push_back(PartTask { handle, _permit: permit });
        }
        let res = match buffered {
            Some(mut task) => match (&mut task.handle).await {
                Ok(Ok(mut data)) => {
                    // In slices, so the channel's 32 slots hold at most a few MiB.
                    while !data.is_empty() {
                        let chunk = data.split_to(data.len().min(256 << 10));
                        if tx.send(Ok(chunk)).await.is_err() {
                            return; // the consumer gave up; dropping `ahead` aborts the rest
                        }
                    }
                    Ok(())
                }
                Ok(Err(e)) => Err(e),
                Err(e) => Err(format!("a download task failed: {e}")),
            },
            None => {
                let (start, end) = parts[i];
                let mut etag = p.etag.clone();
                fetch_range(&s3, &p, start, end, &mut etag, &counters, &changed, &mut Sink::Chan(tx.clone())).await
            }
        };
        if let Err(e) = res {
            let _ = tx.send(Err(io::Error::other(e))).await;
            return;
        }
        if tx.is_closed() {
            return;
        }
    }
}

/// Fetches bytes `[start, end)` of an object into `sink`, resuming with a Range request when the
/// connection breaks or stalls. `Err` after repeated failures or on a fatal S3 error.
#[allow(clippy::too_many_arguments)]
async fn fetch_range(
    s3: &S3,
    p: &Planned,
    start: u64,
    end: u64,
    etag: &mut Option<String>,
    counters: &Counters,
    changed: &AtomicBool,
    sink: &mut Sink,
) -> Result<(), String> {
    let mut offset = start;
    let mut failures = 0u32;
    let max_failures = 6;
    let stall = Duration::from_secs(std::env::var("THEROCK_ARTIFACTS_STALL_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60));
    loop {
        // The whole object: a plain GET; anything else: a Range request.
        let range_end = (start > 0 || offset > 0 || end < p.size).then_some(end);
        let body = match s3.get_range(&p.bucket, &p.key, offset, range_end, etag.as_deref()).await {
            Ok((body, e)) => {
                if etag.is_none() {
                    *etag = e;
                }
                body
            }
            Err(e @ S3Error::Changed { .. }) => {
                changed.store(true, Ordering::SeqCst);
                return Err(e.to_string());
            }
            Err(e @ (S3Error::AccessDenied { .. } | S3Error::NoSuchKey { .. } | S3Error::NoSuchBucket(_))) => return Err(e.to_string()),
            Err(e) => {
                failures += 1;
                if failures >= max_failures {
                    return Err(format!("download failed after {failures} attempts: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(failures))).await;
                continue;
            }
        };
        let mut body = body;
        let broke = loop {
            match tokio::time::timeout(stall, body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    offset += chunk.len() as u64;
                    counters.downloaded.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if offset > end {
                        return Err(format!(
                            "the server sent more than bytes {start}-{end} of {} (it ignored the Range request, or the object changed)",
                            p.name.filename
                        ));
                    }
                    if !sink.put(chunk).await {
                        return Ok(()); // the consumer gave up
                    }
                }
                Ok(None) => break None,
                Ok(Some(Err(e))) => break Some(e.to_string()),
                Err(_) => break Some(format!("no data for {} s", stall.as_secs())),
            }
        };
        match broke {
            None if offset >= end || p.size == 0 => return Ok(()),
            None => {
                failures += 1;
                if failures >= max_failures {
                    return Err(format!("the object ended early at byte {offset} of {}", p.size));
                }
            }
            Some(why) => {
                failures += 1;
                if failures >= max_failures {
                    return Err(format!("download broke {failures} times, last: {why}"));
                }
                eprintln!("connection for {} broke at byte {offset} ({why}); resuming", p.name.filename);
            }
        }
        tokio::time::sleep(Duration::from_millis(100 * u64::from(failures))).await;
    }
}

struct Job {
    s3: S3,
    cache: Option<Arc<Cache>>,
    mode: ExtractMode,
    verify: bool,
    staging: PathBuf,
    counters: Arc<Counters>,
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

fn layout_for(mode: ExtractMode) -> Option<Layout> {
    match mode {
        ExtractMode::Flatten => Some(Layout::Flatten),
        ExtractMode::PerArtifact | ExtractMode::Bootstrap => Some(Layout::Full),
        ExtractMode::Archives => None,
    }
}

impl Job {
    async fn expected_sha(&self, p: &Planned) -> Result<Option<String>> {
        if !self.verify {
            return Ok(None);
        }
        let Some(k) = &p.sidecar_key else {
            eprintln!("warning: {} has no .sha256sum sidecar; it cannot be verified", p.name.filename);
            return Ok(None);
        };
        let body = self.s3.get_small(&p.bucket, k).await?;
        match body {
            None => {
                eprintln!("warning: the sidecar of {} disappeared; it cannot be verified", p.name.filename);
                Ok(None)
            }
            Some(b) => parse_sidecar(&b)
                .map(Some)
                .ok_or_else(|| anyhow!("the checksum sidecar of archive {} is malformed (expected a SHA-256 hex digest)", p.name.filename)),
        }
    }

    /// One attempt: from the cache when it holds the archive, else from S3.
    async fn attempt(&self, idx: usize, p: &Planned, expected: Option<&str>) -> Result<Done> {
        let staged = layout_for(self.mode).map(|l| (self.staging.join(idx.to_string()), l));
        if let Some((d, _)) = &staged {
            let _ = extract::remove_path(d);
        }
        // Cache lookup: by the expected digest, or by the object's ETag when there is none.
        let mut cached_blob: Option<PathBuf> = None;
        if let Some(c) = &self.cache {
            let from_digest = expected.map(|e| c.blob(e));
            let from_ref = || c.reference(p).and_then(|r| std::fs::read_to_string(r).ok()).map(|s| c.blob(s.trim()));
            cached_blob = from_digest.or_else(from_ref).filter(|b| b.is_file());
        }
        let name = p.name.filename.clone();
        let compression = p.name.compression;
        let (consumed, cached, tmp) = if let Some(blob) = cached_blob.clone() {
            let st = staged.clone();
            let name2 = name.clone();
            let cancel = self.cancel.clone();
            let c = tokio::task::spawn_blocking(move || {
                let f = std::fs::File::open(&blob).map_err(|e| ExtractError::Read { archive: name2.clone(), err: e.to_string() })?;
                let f = Cancellable { inner: io::BufReader::with_capacity(1 << 20, f), cancel };
                consume(f, None, compression, st.as_ref().map(|(d, l)| (d.as_path(), *l)), &name2)
            })
            .await??;
            self.counters.from_cache.fetch_add(c.n, Ordering::Relaxed);
            (c, true, None)
        } else {
            // Archive mode without a cache writes the archive itself into the output.
            let tmp = match (&self.cache, self.mode) {
                (Some(c), _) => Some(c.tmp()?),
                (None, ExtractMode::Archives) => {
                    std::fs::create_dir_all(&self.staging).with_context(|| format!("cannot create {}", self.staging.display()))?;
                    Some(self.staging.join(format!("{idx}.archive")))
                }
                (None, _) => None,
            };
            let sink = match &tmp {
                Some(t) => Some(std::fs::File::create(t).with_context(|| format!("cannot write {}", t.display()))?),
                None => None,
            };
            let (tx, rx) = tokio::sync::mpsc::channel(32);
            let changed = Arc::new(AtomicBool::new(false));
            let dl = tokio::spawn(download(self.s3.clone(), p.clone(), tx, self.counters.clone(), changed.clone()));
            let st = staged.clone();
            let name2 = name.clone();
            let cancel = self.cancel.clone();
            let res = tokio::task::spawn_blocking(move || {
                consume(
                    Cancellable { inner: ChannelReader { rx, cur: bytes::Bytes::new() }, cancel },
                    sink,
                    compression,
                    st.as_ref().map(|(d, l)| (d.as_path(), *l)),
                    &name2,
                )
            })
            .await?;
            dl.abort();
            match res {
                Ok(c) => (c, false, tmp),
                Err(e) => {
                    if let Some(t) = &tmp {
                        let _ = std::fs::remove_file(t);
                    }
                    if changed.load(Ordering::SeqCst) {
                        return Err(Replaced { archive: name, detail: e.to_string() }.into());
                    }
                    return Err(e.into());
                }
            }
        };
        let Consumed { sha, n, manifest, extracted } = consumed;
        // A cached blob is named by its digest, so it is checked even without a sidecar.
        let blob_name = cached_blob.as_ref().filter(|_| cached).and_then(|b| b.file_name()).map(|n| n.to_string_lossy().into_owned());
        if let Some(e) = expected.or(blob_name.as_deref()) {
            if e != sha {
                if let Some(t) = &tmp {
                    let _ = std::fs::remove_file(t);
                }
                if cached {
                    if let Some(b) = &cached_blob {
                        let _ = std::fs::remove_file(b);
                    }
                }
                return Err(Mismatch { archive: name, expected: e.to_string(), actual: sha, cached }.into());
            }
        }
        // Publish into the cache only now: a file under blobs/ is always complete and verified.
        let mut blob = cached_blob;
        if let (Some(c), Some(t)) = (&self.cache, &tmp) {
            let b = c.blob(&sha);
            std::fs::create_dir_all(b.parent().unwrap_or(&c.root)).context("cannot create the cache directory")?;
            std::fs::rename(t, &b).with_context(|| format!("cannot move {} into the cache", name))?;
            if let Some(r) = c.reference(p) {
                if let Some(parent) = r.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let rt = r.with_extension(format!("{}.tmp", fastrand::u64(..)));
                if std::fs::write(&rt, &sha).is_ok() {
                    let _ = std::fs::rename(&rt, &r);
                }
            }
            blob = Some(b);
        }
        // No cache, archives mode: the verified archive waits in the staging directory and
        // takes its name in the output only when every archive has been verified.
        let staged = match (&self.cache, &tmp) {
            (None, Some(t)) => Some(t.clone()),
            _ => staged.map(|(d, _)| d),
        };
        self.counters.archives_done.fetch_add(1, Ordering::Relaxed);
        self.counters.extracted.fetch_add(extracted, Ordering::Relaxed);
        Ok(Done { filename: name, size: n, sha256: sha, verified: expected.is_some(), cached, staged, manifest, blob })
    }

    /// Verified fetch of one archive: a mismatch is retried once from S3 (the archive and
    /// its sidecar are separate uploads and may have been caught mid-way), and so is an
    /// archive replaced on S3 since the listing (a re-run job uploading into the same run):
    /// then the new version is fetched whole, with its new ETag, size and sidecar.
    async fn fetch_one(&self, idx: usize, mut p: Planned) -> Result<Done> {
        let expected = self.expected_sha(&p).await?;
        match self.attempt(idx, &p, expected.as_deref()).await {
            Ok(d) => Ok(d),
            Err(e) if e.downcast_ref::<Mismatch>().is_some() => {
                let m = e.downcast_ref::<Mismatch>().cloned();
                if !m.as_ref().is_some_and(|m| m.cached) {
                    eprintln!("warning: {}; downloading it once more", e);
                }
                let expected = self.expected_sha(&p).await?;
                self.attempt(idx, &p, expected.as_deref()).await
            }
            Err(e) if e.downcast_ref::<Replaced>().is_some() => {
                eprintln!(
                    "warning: {} was replaced on S3 while it was being fetched (a re-run uploading into the same run?); fetching the new version",
                    p.name.filename
                );
                let (size, etag) = self.s3.head(&p.bucket, &p.key).await?;
                (p.size, p.etag) = (size, etag);
                let expected = self.expected_sha(&p).await?;
                self.attempt(idx, &p, expected.as_deref()).await.map_err(|e| match e.downcast::<Replaced>() {
                    Ok(r) => anyhow!(
                        "archive {} changed on S3 twice while it was being fetched; run the command again when the run's uploads have finished",
                        r.archive
                    ),
                    Err(e) => e,
                })
            }
            Err(e) => Err(e),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("checksum mismatch for archive {archive}: the .sha256sum sidecar says {expected}, the {} has {actual}", if *cached { "cached copy" } else { "download" })]
pub struct Mismatch {
    archive: String,
    expected: String,
    actual: String,
    cached: bool,
}

/// The object no longer had the listing's ETag during the download.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct Replaced {
    archive: String,
    detail: String,
}

fn jobs() -> usize {
    std::env::var("THEROCK_ARTIFACTS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
}

fn prepare_output(dir: &Path) -> Result<PathBuf> {
    if let Ok(m) = std::fs::metadata(dir) {
        if !m.is_dir() {
            bail!("the output directory {} is a file", dir.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    let probe = dir.join(format!(".therock-artifacts-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("the output directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// Commits staged trees into the output in plan order.
fn commit(out: &Path, mode: ExtractMode, done: &[Done]) -> Result<()> {
    let mut cleared = std::collections::HashSet::new();
    for d in done {
        match mode {
            ExtractMode::Archives => {
                let dst = out.join(&d.filename);
                if let Some(s) = &d.staged {
                    let _ = extract::remove_path(&dst);
                    std::fs::rename(s, &dst).with_context(|| format!("cannot move {} into {}", d.filename, out.display()))?;
                } else if let Some(blob) = &d.blob {
                    let _ = extract::remove_path(&dst);
                    if std::fs::hard_link(blob, &dst).is_err() {
                        std::fs::copy(blob, &dst).with_context(|| format!("cannot copy {} into {}", d.filename, out.display()))?;
                    }
                }
            }
            ExtractMode::Flatten => {
                if let Some(s) = &d.staged {
                    extract::merge_into(s, out).with_context(|| format!("cannot move the files of {} into {}", d.filename, out.display()))?;
                }
            }
            ExtractMode::PerArtifact => {
                if let Some(s) = &d.staged {
                    let stem = d.filename.split('.').next().unwrap_or(&d.filename);
                    extract::merge_into(s, &out.join(stem)).with_context(|| format!("cannot move the files of {} into {}", d.filename, out.display()))?;
                }
            }
            ExtractMode::Bootstrap => {
                for line in &d.manifest {
                    if cleared.insert(line.clone()) {
                        real_parents(out, line).with_context(|| format!("cannot prepare {}", out.join(line).display()))?;
                        let dir = out.join(line);
                        extract::remove_path(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
                        let marker = out.join(format!("{line}.prebuilt"));
                        if let Some(p) = marker.parent() {
                            std::fs::create_dir_all(p)?;
                        }
                        std::fs::write(&marker, b"").with_context(|| format!("cannot write {}", marker.display()))?;
                    }
                }
                if let Some(s) = &d.staged {
                    extract::merge_into(s, out).with_context(|| format!("cannot move the files of {} into {}", d.filename, out.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Makes every directory above `out/line` a real directory: a pre-existing symlink on the way
/// is replaced, never followed (clearing through it would delete files outside `out`).
fn real_parents(out: &Path, line: &str) -> io::Result<()> {
    let mut p = out.to_path_buf();
    let comps: Vec<&str> = line.split('/').collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                std::fs::remove_file(&p)?;
                std::fs::create_dir(&p)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir(&p)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn progress_task(counters: Arc<Counters>, total: u64, count: usize) -> (tokio::task::JoinHandle<()>, Arc<tokio::sync::Notify>) {
    let stop = Arc::new(tokio::sync::Notify::new());
    let stop2 = stop.clone();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let h = tokio::spawn(async move {
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        let every = if tty { Duration::from_millis(200) } else { Duration::from_secs(10) };
        loop {
            tokio::select! {
                _ = stop2.notified() => break,
                _ = tokio::time::sleep(every) => {}
            }
            let dl = counters.downloaded.load(Ordering::Relaxed);
            let cached = counters.from_cache.load(Ordering::Relaxed);
            let done = counters.archives_done.load(Ordering::Relaxed);
            match &bar {
                Some(b) => {
                    b.set_position((dl + cached).min(total));
                    b.set_message(format!("{done}/{count} archives"));
                }
                None => eprintln!(
                    "progress: {done}/{count} archives, {} downloaded, {} from cache",
                    crate::report::human_bytes(dl),
                    crate::report::human_bytes(cached)
                ),
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    });
    (h, stop)
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let opts = ctx.cfg.fetch.clone().ok_or_else(|| anyhow!("fetch options missing"))?;
    let (found, mut doc, baseline) = if ctx.cfg.baseline {
        let b = ctx.baseline().await?;
        (b.found.clone(), crate::report::baseline_doc(&b), Some(b))
    } else {
        let f = ctx.find().await?;
        let d = crate::report::found_doc(&f);
        (f, d, None)
    };
    if !found.found() {
        let message = crate::not_found_message(&found);
        return Ok(Outcome { found: false, human: String::new(), summary: crate::action::summary_found(&found, baseline.as_ref()), doc, message });
    }
    let planned = plan(&found, &opts);
    let total: u64 = planned.iter().map(|p| p.size).sum();
    if planned.is_empty() {
        doc.insert("status".into(), json!("not_found"));
        return Ok(Outcome {
            found: false,
            human: String::new(),
            summary: String::new(),
            doc,
            message: Some("the --include/--exclude filters selected no archive".into()),
        });
    }
    let out_dir = if opts.dry_run { opts.output_dir.clone() } else { prepare_output(&opts.output_dir)? };
    doc.insert("output_dir".into(), json!(out_dir.display().to_string()));
    doc.insert("extract".into(), json!(format!("{:?}", opts.extract).to_lowercase()));
    if opts.dry_run {
        let mut human = String::from("Would fetch:\n");
        for p in &planned {
            human.push_str(&format!("  {:>10}  {}\n", crate::report::human_bytes(p.size), p.name.filename));
        }
        human.push_str(&format!("  {:>10}  total, {} archives\n", crate::report::human_bytes(total), planned.len()));
        doc.insert("dry_run".into(), json!(true));
        doc.insert("downloaded_bytes".into(), json!(0));
        doc.insert("total_bytes".into(), json!(total));
        doc.insert(
            "archives".into(),
            json!(planned
                .iter()
                .map(|p| json!({"filename": p.name.filename, "size": p.size, "sha256": null, "verified": false, "cached": false}))
                .collect::<Vec<_>>()),
        );
        return Ok(Outcome { found: true, human, summary: crate::action::summary_found(&found, baseline.as_ref()), doc, message: None });
    }

    let started = Instant::now();
    let staging = out_dir.join(format!(".therock-artifacts-staging-{}", std::process::id()));
    let counters = Arc::new(Counters::default());
    let job = Arc::new(Job {
        s3: ctx.loc.s3.clone(),
        cache: opts.cache_dir.clone().map(|root| Arc::new(Cache { root })),
        mode: opts.extract,
        verify: opts.verify,
        staging: staging.clone(),
        counters: counters.clone(),
        cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    });
    let (progress, stop) = progress_task(counters.clone(), total, planned.len());
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs() + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in planned.iter().cloned().enumerate() {
        let job = job.clone();
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            if job.cancel.load(Ordering::Relaxed) {
                return (i, Err(anyhow!("cancelled")));
            }
            (i, job.fetch_one(i, p).await)
        });
    }
    let mut results: Vec<Option<Done>> = vec![None; planned.len()];
    let mut first_err: Option<anyhow::Error> = None;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((i, Ok(d))) => results[i] = Some(d),
            Ok((_, Err(e))) => {
                // Not abort_all(): an aborted task would leave its blocking extraction running
                // and its temporary files behind. Cancelled workers fail at their next read,
                // clean up, and are joined here before the staging tree is removed.
                if first_err.is_none() {
                    first_err = Some(e);
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_err.get_or_insert_with(|| anyhow!("a download task failed: {e}"));
            }
        }
    }
    stop.notify_one();
    let _ = progress.await;
    let committed = match first_err {
        Some(e) => Err(e),
        None => {
            let done: Vec<Done> = results.into_iter().flatten().collect();
            let out2 = out_dir.clone();
            let mode = opts.extract;
            tokio::task::spawn_blocking(move || commit(&out2, mode, &done).map(|_| done)).await?
        }
    };
    let _ = extract::remove_path(&staging);
    let done = committed?;

    let downloaded = counters.downloaded.load(Ordering::Relaxed);
    let from_cache = counters.from_cache.load(Ordering::Relaxed);
    let extracted = counters.extracted.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "fetched {} archives into {}: {} downloaded, {} from cache, {} extracted, in {:.1} s",
        done.len(),
        out_dir.display(),
        crate::report::human_bytes(downloaded),
        crate::report::human_bytes(from_cache),
        crate::report::human_bytes(extracted),
        elapsed
    );
    doc.insert("downloaded_bytes".into(), json!(downloaded));
    doc.insert("cached_bytes".into(), json!(from_cache));
    doc.insert("extracted_bytes".into(), json!(extracted));
    doc.insert("total_bytes".into(), json!(total));
    doc.insert("elapsed_seconds".into(), json!((elapsed * 1000.0).round() / 1000.0));
    doc.insert("archives".into(), json!(done));
    if let Some(c) = &job.cache {
        doc.insert("cache_dir".into(), json!(c.root.display().to_string()));
        doc.insert("cache_size_bytes".into(), json!(c.size()));
    }
    let mut human = crate::report::human_found(&found);
    human.push_str(&format!("Fetched {} archives into {}\n", done.len(), out_dir.display()));
    let summary = crate::action::summary_fetch(&found, baseline.as_ref(), &done, downloaded, elapsed);
    Ok(Outcome { found: true, human, summary, doc, message: None })
}

impl Done {
    pub fn row(&self) -> (String, u64, bool, bool) {
        (self.filename.clone(), self.size, self.verified, self.cached)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars() {
        let h = "a".repeat(64);
        assert_eq!(parse_sidecar(format!("{h}\n").as_bytes()).unwrap(), h);
        assert_eq!(parse_sidecar(format!("{}\r\n", h.to_uppercase()).as_bytes()).unwrap(), h);
        assert_eq!(parse_sidecar(format!("{h}  blas_lib_gfx942.tar.zst\n").as_bytes()).unwrap(), h);
        assert!(parse_sidecar(b"nonsense\n").is_none());
        assert!(parse_sidecar(b"").is_none());
    }
}
