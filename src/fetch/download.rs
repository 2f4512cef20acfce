//! Downloads one object as an ordered byte stream for a blocking consumer: objects larger than
//! one part come as parallel ranged GETs pinned to the listing's ETag; every GET resumes with a
//! Range request from where its connection broke or stalled. Transient failures are invisible
//! to the consumer; a final one is kept, typed, for the caller.

use bytes::Bytes;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::{Broken, DownloadFailure, FetchError};
use super::plan::Planned;
use super::progress::Counters;
use crate::s3::{S3Error, S3};

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

/// How downloads behave (from the tunables; the attempts and waits are the S3 client's).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub part_size: u64,
    pub stall: Duration,
}

/// Bytes a stream may hold unread: a download that starts before its consumer (to hide the
/// request's round trip) fills at most this much, then waits; memory stays bounded however many
/// downloads are in flight.
const STREAM_AHEAD_KIB: u32 = 1024;

type Chunk = io::Result<(Bytes, Option<tokio::sync::OwnedSemaphorePermit>)>;

/// The sending end of a stream: every chunk takes its size from the stream's budget, given back
/// as the reader consumes it.
#[derive(Clone)]
struct Feed {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    budget: Arc<tokio::sync::Semaphore>,
}

impl Feed {
    /// False when the consumer has gone away.
    async fn send(&self, b: Bytes) -> bool {
        let kib = (b.len().div_ceil(1024) as u32).clamp(1, STREAM_AHEAD_KIB);
        let Ok(permit) = self.budget.clone().acquire_many_owned(kib).await else { return false };
        self.tx.send(Ok((b, Some(permit)))).await.is_ok()
    }

    async fn fail(&self, e: io::Error) {
        let _ = self.tx.send(Err(e)).await;
    }

    fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Why a byte range could not be fetched.
enum RangeError {
    /// The object no longer has the listing's ETag.
    Changed(S3Error),
    /// S3 refused for good (denied, gone).
    Fatal(S3Error),
    /// Retries ran out, or the answer cannot be used.
    Failed(DownloadFailure),
}

impl RangeError {
    fn into_fetch(self, archive: &str) -> FetchError {
        match self {
            RangeError::Changed(e) => FetchError::Replaced { archive: archive.into(), change: e },
            RangeError::Fatal(e) => FetchError::S3(e),
            RangeError::Failed(why) => FetchError::Download { archive: archive.into(), why },
        }
    }
}

/// A running download: read its bytes with `reader`; when reading fails, `failure()` says why
/// in type (an object replaced mid-way, a denied request, retries exhausted).
pub struct Download {
    pub reader: ChannelReader,
    failure: Arc<Mutex<Option<FetchError>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Download {
    /// Starts downloading `p` on the async runtime (call from within it). `slot`, if any, is
    /// held until the download ends (it bounds the connections in flight).
    pub fn start(s3: S3, p: Planned, counters: Arc<Counters>, settings: Settings, slot: Option<tokio::sync::OwnedSemaphorePermit>) -> Download {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let feed = Feed { tx, budget: Arc::new(tokio::sync::Semaphore::new(STREAM_AHEAD_KIB as usize)) };
        let failure = Arc::new(Mutex::new(None));
        let kept = failure.clone();
        let task = tokio::spawn(async move {
            let _slot = slot;
            // A signal ends the whole stream wherever it waits (a request, a retry's sleep, a
            // part read ahead); dropping the stream aborts its part tasks.
            let streamed = tokio::select! {
                r = stream(&s3, &p, &feed, &counters, settings) => r,
                _ = crate::interrupt::wait() => Err(FetchError::Download { archive: p.name.filename.clone(), why: DownloadFailure::Interrupted(crate::interrupt::signal_name()) }),
            };
            if let Err(e) = streamed {
                let msg = super::error::chain(&e);
                if let Ok(mut f) = kept.lock() {
                    *f = Some(e);
                }
                feed.fail(io::Error::other(msg)).await;
            }
        });
        Download { reader: ChannelReader { rx, cur: Bytes::new(), permit: None, gate: None }, failure, task }
    }

    /// Splits off the reader, keeping what is needed to learn the outcome later.
    pub fn split(self) -> (ChannelReader, Outcome) {
        (self.reader, Outcome { failure: self.failure, task: self.task })
    }
}

/// The download's side of a finished (or abandoned) stream.
pub struct Outcome {
    failure: Arc<Mutex<Option<FetchError>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Outcome {
    /// The download's own failure, if it failed (taken once), and stops it if still running.
    pub fn failure(&self) -> Option<FetchError> {
        self.task.abort();
        self.failure.lock().ok().and_then(|mut f| f.take())
    }
}

/// A share of the CPU, held by a stream's consumer only while it has bytes to work on: a
/// consumer waiting for the network gives its slot to one that has bytes. So every download in
/// flight streams through its own decoder at once (none waits for a decoder with its connection
/// idle), while no more than the CPU's worth of them decode at any moment.
pub struct CpuGate {
    slots: Arc<tokio::sync::Semaphore>,
    held: Option<tokio::sync::OwnedSemaphorePermit>,
    rt: tokio::runtime::Handle,
}

impl CpuGate {
    /// Call from within the runtime; the gate itself is used on a blocking thread.
    pub fn new(slots: Arc<tokio::sync::Semaphore>) -> CpuGate {
        CpuGate { slots, held: None, rt: tokio::runtime::Handle::current() }
    }

    fn hold(&mut self) -> io::Result<()> {
        if self.held.is_none() {
            // A closed semaphore means the fetch is being cancelled.
            let p = self.rt.block_on(self.slots.clone().acquire_owned()).map_err(|_| io::Error::other("cancelled: another archive failed"))?;
            self.held = Some(p);
        }
        Ok(())
    }

    fn release(&mut self) {
        self.held = None;
    }
}

/// A `Read` over chunks arriving from the async downloader.
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Chunk>,
    cur: Bytes,
    /// The current chunk's share of the stream's budget, given back when it is consumed.
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    gate: Option<CpuGate>,
}

impl ChannelReader {
    /// Reads under `gate`: the caller's work on the bytes holds a CPU slot, waiting does not.
    pub fn gated(mut self, gate: CpuGate) -> ChannelReader {
        self.gate = Some(gate);
        self
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            self.permit = None;
            let next = match self.rx.try_recv() {
                Ok(c) => Some(c),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    if let Some(g) = &mut self.gate {
                        g.release();
                    }
                    self.rx.blocking_recv()
                }
            };
            match next {
                Some(Ok((b, permit))) => (self.cur, self.permit) = (b, permit),
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        if let Some(g) = &mut self.gate {
            g.hold()?;
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        bytes::Buf::advance(&mut self.cur, n);
        Ok(n)
    }
}

/// Where `fetch_range` puts the bytes: straight to the consumer, or into a part's buffer
/// (allocated once at the part's size).
enum Sink {
    Chan(Feed),
    Buf(bytes::BytesMut),
}

impl Sink {
    /// False when the consumer has gone away.
    async fn put(&mut self, b: Bytes) -> bool {
        match self {
            Sink::Chan(feed) => feed.send(b).await,
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
    handle: tokio::task::JoinHandle<Result<Bytes, RangeError>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for PartTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Streams an object into `tx`, in order.
async fn stream(s3: &S3, p: &Planned, tx: &Feed, counters: &Arc<Counters>, settings: Settings) -> Result<(), FetchError> {
    let archive = p.name.filename.as_str();
    let part = settings.part_size;
    if p.etag.is_none() || p.size <= part {
        return RangeRequest::new(s3, p, (0, p.size), counters, settings).fetch_into(&mut Sink::Chan(tx.clone())).await.map_err(|e| e.into_fetch(archive));
    }
    let budget = ahead_budget();
    let parts: Vec<(u64, u64)> = (0..p.size.div_ceil(part)).map(|k| (k * part, ((k + 1) * part).min(p.size))).collect();
    // `ahead` holds the parts fetched ahead, [i, next), or nothing: part i is then streamed
    // straight to the consumer. Either way it is no longer to be spawned.
    let mut ahead: VecDeque<PartTask> = VecDeque::new();
    let mut next = 0usize;
    for i in 0..parts.len() {
        let buffered = ahead.pop_front();
        next = next.max(i + 1);
        while next < parts.len() && next < i + PARTS_IN_FLIGHT {
            let Ok(permit) = budget.clone().try_acquire_owned() else { break };
            let (start, end) = parts[next];
            next += 1;
            ahead.push_back(PartTask { handle: spawn_part(s3.clone(), p.clone(), start, end, counters.clone(), settings), _permit: permit });
        }
        let res = match buffered {
            Some(mut task) => match (&mut task.handle).await {
                Ok(Ok(data)) => {
                    if !forward(tx, data).await {
                        return Ok(()); // the consumer gave up; dropping `ahead` aborts the rest
                    }
                    Ok(())
                }
                Ok(Err(e)) => Err(e),
                Err(e) => Err(RangeError::Failed(DownloadFailure::Task(e))),
            },
            None => RangeRequest::new(s3, p, parts[i], counters, settings).fetch_into(&mut Sink::Chan(tx.clone())).await,
        };
        res.map_err(|e| e.into_fetch(archive))?;
        if tx.is_closed() {
            return Ok(());
        }
    }
    Ok(())
}

fn spawn_part(s3: S3, p: Planned, start: u64, end: u64, counters: Arc<Counters>, settings: Settings) -> tokio::task::JoinHandle<Result<Bytes, RangeError>> {
    tokio::spawn(async move {
        let mut sink = Sink::Buf(bytes::BytesMut::with_capacity((end - start) as usize));
        RangeRequest::new(&s3, &p, (start, end), &counters, settings).fetch_into(&mut sink).await?;
        Ok(match sink {
            Sink::Buf(v) => v.freeze(),
            Sink::Chan(_) => Bytes::new(),
        })
    })
}

/// Sends a buffered part in slices, each taking its share of the stream's budget.
async fn forward(tx: &Feed, mut data: Bytes) -> bool {
    while !data.is_empty() {
        let chunk = data.split_to(data.len().min(256 << 10));
        if !tx.send(chunk).await {
            return false;
        }
    }
    true
}

/// One byte range `[start, end)` of an object, fetched into a `Sink` by `fetch_into`.
struct RangeRequest<'a> {
    s3: &'a S3,
    p: &'a Planned,
    start: u64,
    end: u64,
    /// The version every GET of the range is pinned to: the listing's, or the first answer's.
    etag: Option<String>,
    counters: &'a Counters,
    stall: Duration,
}

/// How one GET of a range ended.
enum Pass {
    /// Every byte arrived (or the consumer gave up).
    Done,
    /// The body ended early or broke off at `offset`: resume from there.
    Broke(Option<Broken>),
}

impl RangeRequest<'_> {
    fn new<'a>(s3: &'a S3, p: &'a Planned, (start, end): (u64, u64), counters: &'a Counters, settings: Settings) -> RangeRequest<'a> {
        RangeRequest { s3, p, start, end, etag: p.etag.clone(), counters, stall: settings.stall }
    }

    /// Fetches the range into `sink`, resuming with a Range request from where a connection
    /// broke or stalled. A failed request and a broken body count alike against the one S3
    /// budget (`S3::retry`), with its waits between attempts.
    async fn fetch_into(&mut self, sink: &mut Sink) -> Result<(), RangeError> {
        let (retry, p) = (self.s3.retry(), self.p);
        let mut offset = self.start;
        let mut failures = 0u32;
        loop {
            // The whole object: a plain GET; anything else: a Range request.
            let range_end = (self.start > 0 || offset > 0 || self.end < p.size).then_some(self.end);
            let failure = match self.s3.get_range(&p.bucket, &p.key, offset, range_end, self.etag.as_deref()).await {
                Ok((body, e)) => {
                    if self.etag.is_none() {
                        self.etag = e;
                    }
                    match self.read_body(body, &mut offset, sink).await? {
                        Pass::Done => return Ok(()),
                        Pass::Broke(why) => {
                            failures += 1;
                            if !retry.retries_after(failures) {
                                return Err(RangeError::Failed(match why {
                                    None => DownloadFailure::EndedEarly { at: offset, size: p.size },
                                    Some(last) => DownloadFailure::Broke { attempts: failures, last },
                                }));
                            }
                            if let Some(why) = why {
                                crate::say!("connection for {} broke at byte {offset} ({why}); resuming", p.name.filename);
                            }
                            failures
                        }
                    }
                }
                Err(e @ S3Error::Changed { .. }) => return Err(RangeError::Changed(e)),
                Err(e) if !e.is_transient() => return Err(RangeError::Fatal(e)),
                Err(e) => {
                    failures += 1;
                    if !retry.retries_after(failures) {
                        return Err(RangeError::Failed(DownloadFailure::Exhausted { attempts: failures, last: e }));
                    }
                    failures
                }
            };
            tokio::time::sleep(retry.delay(failure)).await;
        }
    }

    /// Streams one answer's body into `sink` from `offset` on, until it ends, breaks or stalls.
    async fn read_body(&self, mut body: aws_sdk_s3::primitives::ByteStream, offset: &mut u64, sink: &mut Sink) -> Result<Pass, RangeError> {
        let p = self.p;
        let broke = loop {
            match tokio::time::timeout(self.stall, body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    *offset += chunk.len() as u64;
                    self.counters.add_downloaded(chunk.len() as u64);
                    if *offset > self.end {
                        return Err(RangeError::Failed(DownloadFailure::Overlong { start: self.start, end: self.end, archive: p.name.filename.clone() }));
                    }
                    if !sink.put(chunk).await {
                        return Ok(Pass::Done); // the consumer gave up
                    }
                }
                Ok(None) => break None,
                Ok(Some(Err(e))) => break Some(Broken::Body(e)),
                Err(_) => break Some(Broken::Stalled(self.stall)),
            }
        };
        Ok(match broke {
            None if *offset >= self.end || p.size == 0 => Pass::Done,
            why => Pass::Broke(why),
        })
    }
}
