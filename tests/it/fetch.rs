//! `fetch`: verified, cached, safe download and extraction against a real S3 server.

use crate::common::*;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn llvm() -> Vec<u8> {
    zst(&tar_bytes(
        &["compiler/amd-llvm/stage"],
        &[
            Member::Dir("compiler/amd-llvm/stage/lib/llvm/bin"),
            Member::File("compiler/amd-llvm/stage/lib/llvm/bin/clang", b"#!clang\n", 0o755),
            Member::Symlink("compiler/amd-llvm/stage/lib/llvm/bin/clang++", "clang"),
            Member::Hardlink("compiler/amd-llvm/stage/lib/llvm/bin/clang-20", "compiler/amd-llvm/stage/lib/llvm/bin/clang"),
            Member::File("compiler/amd-llvm/stage/share/overlap.txt", b"from llvm", 0o644),
        ],
    ))
}

fn blas() -> Vec<u8> {
    xz(&tar_bytes(
        &["math-libs/BLAS/rocBLAS/stage"],
        &[
            Member::File("math-libs/BLAS/rocBLAS/stage/lib/librocblas.so.4", b"ELF rocblas", 0o755),
            Member::Symlink("math-libs/BLAS/rocBLAS/stage/lib/librocblas.so", "librocblas.so.4"),
            Member::File("math-libs/BLAS/rocBLAS/stage/share/overlap.txt", b"from blas", 0o644),
        ],
    ))
}

/// A run with a generic LLVM archive (zst) and a gfx942 rocBLAS archive (xz), with sidecars.
async fn setup(bed: &Bed, run: u64, c: &str) {
    mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&RunSpec::ok(run, c, THEROCK, WF))]).await;
    let p = format!("{run}-linux/");
    bed.s3.put_artifact(BUCKET, &p, "amd-llvm_lib_generic.tar.zst", &llvm(), true);
    bed.s3.put_artifact(BUCKET, &p, "rocBLAS_lib_gfx942.tar.xz", &blas(), true);
    bed.s3.put(BUCKET, &format!("{p}index.html"), b"<html/>");
}

/// `fetch_args` with `--json`.
fn fetch_json_args<'a>(c: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = fetch_args(c, out, &["--json"]);
    v.extend_from_slice(extra);
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flatten_then_cached_rerun() {
    let bed = Bed::new().await;
    let c = sha(1);
    setup(&bed, 101, &c).await;
    let out = bed.home.path().join("out");
    let outs = out.to_str().unwrap();
    let o = bed.run(&fetch_json_args(&c, outs, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "found");
    assert!(d["downloaded_bytes"].as_u64().unwrap() > 0);
    let archives = d["archives"].as_array().unwrap();
    assert_eq!(archives.len(), 2);
    for a in archives {
        assert_eq!(a["verified"], true);
        assert_eq!(a["cached"], false);
        assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(std::fs::read(out.join("lib/llvm/bin/clang")).unwrap(), b"#!clang\n");
    // clang, 2x overlap.txt, librocblas.so.4 (clang-20 is a hard link: no bytes written).
    // On Windows the symlinks are copies of their targets: their bytes are written too.
    assert_eq!(d["extracted_bytes"], 8 + 9 + 9 + 11 + if cfg!(windows) { 8 + 11 } else { 0 });
    assert!(stderr(&o).contains("extracted, in"), "closing line: {}", stderr(&o));
    if cfg!(unix) {
        assert_eq!(mode(&out.join("lib/llvm/bin/clang")), 0o755);
        assert_eq!(std::fs::read_link(out.join("lib/llvm/bin/clang++")).unwrap(), Path::new("clang"));
    } else {
        assert_eq!(std::fs::read(out.join("lib/llvm/bin/clang++")).unwrap(), b"#!clang\n", "a copy of its target");
    }
    assert_eq!(std::fs::read(out.join("lib/llvm/bin/clang-20")).unwrap(), b"#!clang\n");
    assert_eq!(std::fs::read(out.join("lib/librocblas.so.4")).unwrap(), b"ELF rocblas");
    assert!(cfg!(windows) || mode(&out.join("share/overlap.txt")) == 0o644);
    assert_eq!(std::fs::read_to_string(out.join("share/overlap.txt")).unwrap(), "from blas", "later (target-specific) archives overwrite earlier ones");
    no_partials(&out);
    no_partials(&bed.cache_dir());

    // A repeated fetch downloads nothing.
    bed.s3.clear_log();
    let out2 = bed.home.path().join("out2");
    let o = bed.run(&fetch_json_args(&c, out2.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["downloaded_bytes"], 0);
    assert!(d["archives"].as_array().unwrap().iter().all(|a| a["cached"] == true && a["verified"] == true));
    assert!(d["cache_size_bytes"].as_u64().unwrap() > 0);
    assert!(!bed.s3.requests().iter().any(|r| r.starts_with("GET") && r.contains(".tar.") && !r.contains("sha256sum")), "{:?}", bed.s3.requests());
    assert_eq!(std::fs::read(out2.join("lib/librocblas.so.4")).unwrap(), b"ELF rocblas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_artifact_archives_and_bootstrap_modes() {
    let bed = Bed::new().await;
    let c = sha(2);
    setup(&bed, 201, &c).await;
    let pa = bed.home.path().join("pa");
    let o = bed.run(&fetch_json_args(&c, pa.to_str().unwrap(), &["--extract", "per-artifact"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["extract"], "per-artifact", "the mode as users write it");
    assert!(pa.join("amd-llvm_lib_generic/compiler/amd-llvm/stage/lib/llvm/bin/clang").is_file());
    let so = pa.join("rocBLAS_lib_gfx942/math-libs/BLAS/rocBLAS/stage/lib/librocblas.so");
    if cfg!(windows) {
        assert_eq!(std::fs::read(&so).unwrap(), b"ELF rocblas", "a copy of its target");
    } else {
        assert_eq!(std::fs::read_link(&so).unwrap(), Path::new("librocblas.so.4"));
    }

    let ar = bed.home.path().join("ar");
    let o = bed.run(&fetch_json_args(&c, ar.to_str().unwrap(), &["--extract", "archives"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(ar.join("amd-llvm_lib_generic.tar.zst")).unwrap(), llvm());
    assert_eq!(std::fs::read(ar.join("rocBLAS_lib_gfx942.tar.xz")).unwrap(), blas());

    let ar2 = bed.home.path().join("ar2");
    let o = bed.run(&fetch_json_args(&c, ar2.to_str().unwrap(), &["--extract", "archives", "--no-cache"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(ar2.join("rocBLAS_lib_gfx942.tar.xz")).unwrap(), blas());
    no_partials(&ar2);

    // Bootstrap: a TheRock build dir; stale files in a prebuilt subproject are cleared.
    let b = bed.home.path().join("build");
    std::fs::create_dir_all(b.join("compiler/amd-llvm/stage/stale")).unwrap();
    std::fs::write(b.join("compiler/amd-llvm/stage/stale/old.txt"), "old").unwrap();
    std::fs::create_dir_all(b.join("other/keep")).unwrap();
    let o = bed.run(&fetch_json_args(&c, b.to_str().unwrap(), &["--extract", "bootstrap", "--include", "^amd-llvm_"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(b.join("compiler/amd-llvm/stage/lib/llvm/bin/clang").is_file());
    assert!(b.join("compiler/amd-llvm/stage.prebuilt").is_file());
    assert_eq!(std::fs::read(b.join("compiler/amd-llvm/stage.prebuilt")).unwrap(), b"");
    assert!(!b.join("compiler/amd-llvm/stage/stale").exists(), "the prebuilt stage dir is cleared first");
    assert!(b.join("other/keep").is_dir());
    assert!(!b.join("math-libs").exists(), "--include kept only amd-llvm");

    // A symlink in the build dir pointing elsewhere is replaced, never followed.
    let outside = bed.home.path().join("outside");
    std::fs::create_dir_all(outside.join("amd-llvm/stage")).unwrap();
    std::fs::write(outside.join("amd-llvm/stage/precious.txt"), "keep").unwrap();
    let b2 = bed.home.path().join("build2");
    std::fs::create_dir_all(&b2).unwrap();
    symlink(&outside, b2.join("compiler")).unwrap();
    let o = bed.run(&fetch_json_args(&c, b2.to_str().unwrap(), &["--extract", "bootstrap", "--include", "^amd-llvm_"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(outside.join("amd-llvm/stage/precious.txt")).unwrap(), "keep");
    assert!(!std::fs::symlink_metadata(b2.join("compiler")).unwrap().file_type().is_symlink());
    assert!(b2.join("compiler/amd-llvm/stage/lib/llvm/bin/clang").is_file());
    assert!(!outside.join("amd-llvm/stage/lib").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_exclude_dry_run_and_empty_selection() {
    let bed = Bed::new().await;
    let c = sha(3);
    setup(&bed, 301, &c).await;
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &["--exclude", "^amd-llvm_", "--dry-run"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["dry_run"], true);
    assert_eq!(d["downloaded_bytes"], 0);
    let names: Vec<_> = d["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["rocBLAS_lib_gfx942.tar.xz"]);
    assert_eq!(d["total_bytes"], blas().len());
    assert!(!out.exists(), "a dry run writes nothing");

    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &["--include", "^nothing-matches_"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("selected no archive"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_sidecar_fails_and_leaves_nothing() {
    let bed = Bed::new().await;
    let c = sha(4);
    setup(&bed, 401, &c).await;
    bed.s3.put(BUCKET, "401-linux/rocBLAS_lib_gfx942.tar.xz.sha256sum", format!("{}\r\n", "0".repeat(64)).as_bytes());
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("checksum mismatch") && e.contains("rocBLAS_lib_gfx942.tar.xz"), "{e}");
    let gets = bed
        .s3
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET") && r.contains("rocBLAS_lib_gfx942.tar.xz?") || r.ends_with("rocBLAS_lib_gfx942.tar.xz"))
        .count();
    assert_eq!(gets, 2, "downloaded once more before failing: {:?}", bed.s3.requests());
    assert!(walk(&out).is_empty(), "nothing half-written in the output: {:?}", walk(&out));
    assert!(!bed.cache_dir().join("blobs/sha256").join("0".repeat(64)).exists());
    no_partials(&bed.cache_dir());

    // Without a cache, archives mode keeps even the verified archives out of the output.
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &["--extract", "archives", "--no-cache"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(walk(&out).is_empty(), "nothing in the output when one archive fails: {:?}", walk(&out));

    // --no-verify takes it anyway.
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &["--no-verify"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout_json(&o)["archives"].as_array().unwrap().iter().all(|a| a["verified"] == false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_sidecar_is_a_warning() {
    let bed = Bed::new().await;
    let c = sha(5);
    setup(&bed, 501, &c).await;
    std::fs::remove_file(bed.s3.root.path().join(BUCKET).join("501-linux/amd-llvm_lib_generic.tar.zst.sha256sum")).unwrap();
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no .sha256sum sidecar"), "{}", stderr(&o));
    let d = stdout_json(&o);
    let llvm = d["archives"].as_array().unwrap().iter().find(|a| a["filename"] == "amd-llvm_lib_generic.tar.zst").unwrap().clone();
    assert_eq!(llvm["verified"], false);

    // No sidecar, but the cache names blobs by digest: a corrupted cached copy is caught and
    // fetched again.
    let blob = bed.cache_dir().join("blobs/sha256").join(llvm["sha256"].as_str().unwrap());
    let other = zst(&tar_bytes(&["compiler/amd-llvm/stage"], &[Member::File("compiler/amd-llvm/stage/lib/llvm/bin/clang", b"#!other\n", 0o755)]));
    std::fs::write(&blob, &other).unwrap();
    bed.s3.clear_log();
    let out2 = bed.home.path().join("o2");
    let o = bed.run(&fetch_json_args(&c, out2.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(out2.join("lib/llvm/bin/clang")).unwrap(), b"#!clang\n");
    assert!(
        bed.s3.requests().iter().any(|r| r.starts_with("GET") && r.contains("amd-llvm_lib_generic.tar.zst") && !r.contains("sha256sum")),
        "{:?}",
        bed.s3.requests()
    );
    assert_eq!(std::fs::read(&blob).unwrap(), self::llvm());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_hostile_archives_are_refused() {
    let bed = Bed::new().await;
    let evil: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", {
            let a = llvm();
            a[..a.len() / 2].to_vec()
        }),
        ("not-zstd", b"this is not a zstd stream at all".to_vec()),
        ("absolute", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("/tmp/evil-abs", b'0', "x", "")]))),
        ("dotdot", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("x/stage/../../../evil", b'0', "x", "")]))),
        ("symlink-out", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("x/stage/link", b'2', "", "../../../../etc")]))),
        ("symlink-abs", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("x/stage/link", b'2', "", "/etc")]))),
        ("through-link", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("x/stage/d", b'2', "", "sub"), ("x/stage/d/f", b'0', "x", "")]))),
        ("hardlink-out", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("x/stage/h", b'1', "", "/etc/passwd")]))),
        ("outside-manifest", zst(&raw_tar(&[("artifact_manifest.txt", b'0', "x/stage\n", ""), ("y/other", b'0', "x", "")]))),
        ("no-manifest", zst(&raw_tar(&[("x/stage/f", b'0', "x", "")]))),
    ];
    for (i, (kind, data)) in evil.into_iter().enumerate() {
        let c = sha(600 + i as u32);
        let run = 6000 + i as u64;
        mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(run, &c, THEROCK, WF))]).await;
        bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "evil_lib_gfx942.tar.zst", &data, true);
        let out = bed.home.path().join(format!("o-{kind}"));
        let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
        assert_eq!(code(&o), 2, "{kind}: {}", stderr(&o));
        assert!(stderr(&o).contains("evil_lib_gfx942.tar.zst"), "{kind}: {}", stderr(&o));
        assert!(walk(&out).is_empty(), "{kind}: wrote {:?}", walk(&out));
    }
    assert!(!Path::new("/tmp/evil-abs").exists());
    assert!(!bed.home.path().join("evil").exists());
    no_partials(&bed.cache_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_output_dirs() {
    let bed = Bed::new().await;
    let c = sha(7);
    setup(&bed, 701, &c).await;
    let file = bed.home.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = bed.run(&fetch_json_args(&c, file.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    let ro = bed.home.path().join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    let probe = ro.join("probe");
    if std::fs::write(&probe, "x").is_err() {
        // Only meaningful when not running as root.
        let o = bed.run(&fetch_json_args(&c, ro.join("sub").to_str().unwrap(), &[])).await;
        assert_eq!(code(&o), 2);
        assert!(stderr(&o).contains("output directory"), "{}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_fetches_share_one_cache() {
    let bed = Bed::new().await;
    let c = sha(8);
    setup(&bed, 801, &c).await;
    let (a, b) = (bed.home.path().join("a"), bed.home.path().join("b"));
    let (ca, cb) = (bed.cmd(), bed.cmd());
    let mut ca = ca;
    let mut cb = cb;
    ca.args(fetch_json_args(&c, a.to_str().unwrap(), &[]));
    cb.args(fetch_json_args(&c, b.to_str().unwrap(), &[]));
    let (oa, ob) = tokio::join!(run_cmd(ca), run_cmd(cb));
    assert_eq!(code(&oa), 0, "{}", stderr(&oa));
    assert_eq!(code(&ob), 0, "{}", stderr(&ob));
    for d in [&a, &b] {
        assert_eq!(std::fs::read(d.join("lib/librocblas.so.4")).unwrap(), b"ELF rocblas");
    }
    no_partials(&bed.cache_dir());
    let blobs = std::fs::read_dir(bed.cache_dir().join("blobs/sha256")).unwrap().count();
    assert_eq!(blobs, 2);
}

/// A TCP proxy to the S3 server that cuts the first connection after `cut_after` bytes of
/// response have passed.
async fn cutting_proxy(upstream: String, cut_after: usize) -> (String, Arc<AtomicBool>) {
    cutting_proxy_with(upstream, cut_after, 1, Arc::new(|| {})).await
}

/// Like `cutting_proxy`, cutting the first `times` connections that get that far, and running
/// `on_cut` right after each cut, before any resume can arrive.
async fn cutting_proxy_with(upstream: String, cut_after: usize, times: usize, on_cut: Arc<dyn Fn() + Send + Sync>) -> (String, Arc<AtomicBool>) {
    use std::sync::atomic::AtomicUsize;
    struct Cutter {
        passed: AtomicUsize,
        cut_after: usize,
        times: usize,
        cuts: Arc<AtomicUsize>,
        cut: Arc<AtomicBool>,
        on_cut: Arc<dyn Fn() + Send + Sync>,
    }
    #[async_trait::async_trait]
    impl Tap for Cutter {
        async fn down(&self, chunk: &[u8]) -> Pass {
            let n = chunk.len();
            let total = self.passed.fetch_add(n, Ordering::SeqCst) + n;
            if total > self.cut_after && self.cuts.fetch_add(1, Ordering::SeqCst) < self.times {
                self.cut.store(true, Ordering::SeqCst);
                (self.on_cut)(); // before the client has the bytes, so before any resume
                return Pass::ThenClose(n - (total - self.cut_after)); // drop the connection mid-body
            }
            Pass::All
        }
    }
    let (cut, cuts) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let shared = cut.clone();
    let addr =
        tcp_proxy(&upstream, move || Cutter { passed: AtomicUsize::new(0), cut_after, times, cuts: cuts.clone(), cut: shared.clone(), on_cut: on_cut.clone() })
            .await;
    (addr, cut)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_are_fetched_as_parallel_ranged_gets() {
    let bed = Bed::new().await;
    let c = sha(10);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(1001, &c, THEROCK, WF))]).await;
    let noise = noise(2 << 20);
    let big = zst(&tar_bytes(&["big/stage"], &[Member::File("big/stage/blob.bin", &noise, 0o644)]));
    bed.s3.put_artifact(BUCKET, "1001-linux/", "big_lib_gfx942.tar.zst", &big, true);
    let part = 300_000usize;
    // The first connection is cut too: a part resumes from where it broke.
    let (proxy, cut) = cutting_proxy(bed.s3.endpoint.clone(), 200_000).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("AWS_ENDPOINT_URL", &proxy).env("THEROCK_ARTIFACTS_PART_SIZE", part.to_string()).args(fetch_json_args(&c, out.to_str().unwrap(), &["--no-cache"]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(cut.load(Ordering::SeqCst), "the proxy never cut a connection");
    assert_eq!(std::fs::read(out.join("blob.bin")).unwrap(), noise);
    assert_eq!(stdout_json(&o)["archives"][0]["verified"], true);
    let gets: Vec<String> = bed.s3.requests().into_iter().filter(|r| r.contains("big_lib_gfx942.tar.zst?")).collect();
    let parts = big.len().div_ceil(part);
    for i in 0..parts {
        let (s, e) = (i * part, ((i + 1) * part).min(big.len()) - 1);
        assert!(gets.iter().any(|r| r.ends_with(&format!("range=bytes={s}-{e}"))), "part {i} ({s}-{e}) missing: {gets:?}");
    }
    assert!(gets.iter().all(|r| r.contains("range=bytes=")), "every GET is ranged: {gets:?}");
    // The cut part resumed from where it broke: a range starting inside a part.
    let starts: Vec<usize> = gets.iter().filter_map(|r| r.split("range=bytes=").nth(1)?.split('-').next()?.parse().ok()).collect();
    assert!(starts.iter().any(|s| s % part != 0), "a part resumed mid-way: {gets:?}");
}

/// Sets up a run with one 2 MiB archive and a proxy that cuts the first `times` downloads at
/// 600 kB; at each cut a new upload replaces the archive and its sidecar (version 2, 3, ...).
async fn replaced_on_cut(bed: &Bed, run: u64, c: &str, times: usize) -> (String, Arc<AtomicBool>) {
    mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&RunSpec::ok(run, c, THEROCK, WF))]).await;
    bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "big_lib_gfx942.tar.zst", &version(1), true);
    let file = bed.s3.root.path().join(BUCKET).join(format!("{run}-linux/big_lib_gfx942.tar.zst"));
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    cutting_proxy_with(
        bed.s3.endpoint.clone(),
        600_000,
        times,
        Arc::new(move || {
            let v = version(n.fetch_add(1, Ordering::SeqCst) + 1);
            std::fs::write(&file, &v).unwrap();
            std::fs::write(file.with_extension("zst.sha256sum"), format!("{}\n", sha256_hex(&v))).unwrap();
        }),
    )
    .await
}

/// Version `v` of the replaced archive: one member of (v + 1) MiB of noise.
fn version(v: usize) -> Vec<u8> {
    zst(&tar_bytes(&["big/stage"], &[Member::File("big/stage/blob.bin", &noise((v + 1) << 20), 0o644)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_replaced_mid_download_is_fetched_again_whole_not_mixed() {
    let bed = Bed::new().await;
    let c = sha(11);
    // When the connection breaks, a new upload replaces the object: the resumed GET must not
    // splice the new version's tail onto the old one's head; the new version is fetched whole.
    let (proxy, cut) = replaced_on_cut(&bed, 1101, &c, 1).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("AWS_ENDPOINT_URL", &proxy).args(fetch_json_args(&c, out.to_str().unwrap(), &[]));
    let o = run_cmd(cmd).await;
    assert!(cut.load(Ordering::SeqCst));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("was replaced on S3 while it was being fetched"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("blob.bin")).unwrap(), noise(3 << 20), "the new version, whole");
    let d = stdout_json(&o);
    assert_eq!(d["archives"][0]["verified"], true);
    assert_eq!(d["archives"][0]["sha256"], sha256_hex(&version(2)));
    no_partials(&bed.cache_dir());
    // The cache holds the new version only, and a second fetch is served from it.
    let blobs: Vec<_> = std::fs::read_dir(bed.cache_dir().join("blobs/sha256")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(blobs, vec![std::ffi::OsString::from(sha256_hex(&version(2)))]);
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["downloaded_bytes"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_replaced_twice_mid_download_is_an_error_not_a_mix() {
    let bed = Bed::new().await;
    let c = sha(12);
    let (proxy, cut) = replaced_on_cut(&bed, 1201, &c, 2).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("AWS_ENDPOINT_URL", &proxy).args(fetch_json_args(&c, out.to_str().unwrap(), &["--no-verify"]));
    let o = run_cmd(cmd).await;
    assert!(cut.load(Ordering::SeqCst));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("changed on S3 twice while it was being fetched"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("attempts"), "a changed object is not retried as a network error: {}", stderr(&o));
    assert!(walk(&out).is_empty(), "{:?}", walk(&out));
    no_partials(&bed.cache_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_resumes_with_a_range_request() {
    let bed = Bed::new().await;
    let c = sha(9);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(901, &c, THEROCK, WF))]).await;
    // ~2 MB of incompressible content, so the archive is big enough to be cut mid-body.
    let noise = noise(2 << 20);
    let big = zst(&tar_bytes(&["big/stage"], &[Member::File("big/stage/blob.bin", &noise, 0o644)]));
    bed.s3.put_artifact(BUCKET, "901-linux/", "big_lib_gfx942.tar.zst", &big, true);
    let (proxy, cut) = cutting_proxy(bed.s3.endpoint.clone(), 600_000).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("AWS_ENDPOINT_URL", &proxy).args(fetch_json_args(&c, out.to_str().unwrap(), &[]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(cut.load(Ordering::SeqCst), "the proxy never cut a connection");
    assert!(stderr(&o).contains("resuming"), "{}", stderr(&o));
    let ranged: Vec<String> = bed.s3.requests().into_iter().filter(|r| r.contains("big_lib_gfx942.tar.zst") && r.contains("range=bytes=")).collect();
    assert_eq!(ranged.len(), 1, "{:?}", bed.s3.requests());
    let d = stdout_json(&o);
    assert_eq!(d["archives"][0]["verified"], true);
    assert_eq!(std::fs::read(out.join("blob.bin")).unwrap(), noise);
    let dl = d["downloaded_bytes"].as_u64().unwrap();
    assert!(dl >= big.len() as u64 && dl < big.len() as u64 + 700_000, "resumed, not restarted: {dl} of {}", big.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_baseline_of_a_super_repo_pin() {
    let bed = Bed::new().await;
    let lib = "ROCm/rocm-libraries";
    let c = sha(10);
    let pin = sha(11);
    let yml = format!("outputs:\n  therock-ref:\n    value: \"{pin}\" # pin\n");
    use base64::Engine;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!("/repos/{lib}/contents/.github/actions/ci-env/action.yml")))
        .respond_with(ok_json(json!({"encoding": "base64", "content": base64::engine::general_purpose::STANDARD.encode(yml)})))
        .mount(&bed.gh)
        .await;
    setup(&bed, 1001, &pin).await;
    let out = bed.home.path().join("o");
    let o = bed
        .run(&[
            "fetch",
            "--repo",
            lib,
            "--commit",
            &c,
            "--baseline",
            "--artifact-group",
            "gfx94X-dcgpu",
            "--platform",
            "linux",
            "--output-dir",
            out.to_str().unwrap(),
            "--json",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["reason"], "therock-pin");
    assert_eq!(d["output_dir"], canonical(&out).to_str().unwrap());
    assert!(out.join("lib/llvm/bin/clang").is_file());
    // The substitution is said before the download (issue 24 item 3), as `baseline` says it.
    let err = stderr(&o);
    let said = err.find(&format!("Baseline for {}: ROCm/TheRock {pin} (reason: therock-pin, distance: 0)", &c[..12]));
    let pinned = err.find(&format!("{} pins ROCm/TheRock {pin}", &c[..12]));
    let fetched = err.find("fetched 2 archives");
    assert!(said.is_some() && pinned.is_some() && said < fetched, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_already_in_the_output_is_replaced_not_followed() {
    let bed = Bed::new().await;
    let c = sha(12);
    setup(&bed, 1201, &c).await;
    let outside = bed.home.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("librocblas.so.4"), "precious").unwrap();
    let out = bed.home.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    // `lib` (a directory in the archives) and `share/overlap.txt` (a file) are symlinks leading out.
    symlink(&outside, out.join("lib")).unwrap();
    std::fs::create_dir_all(out.join("share")).unwrap();
    symlink(outside.join("librocblas.so.4"), out.join("share/overlap.txt")).unwrap();
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(outside.join("librocblas.so.4")).unwrap(), "precious");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "nothing written outside");
    assert!(!std::fs::symlink_metadata(out.join("lib")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(out.join("lib/librocblas.so.4")).unwrap(), b"ELF rocblas");
    assert!(!std::fs::symlink_metadata(out.join("share/overlap.txt")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(out.join("share/overlap.txt")).unwrap(), "from blas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidecars_are_asked_for_at_once_and_a_warm_fetch_asks_s3_for_the_listing_only() {
    let bed = Bed::new().await;
    let c = sha(20);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(2001, &c, THEROCK, WF))]).await;
    for i in 0..12 {
        bed.s3.put_artifact(
            BUCKET,
            "2001-linux/",
            &format!("lib{i:02}_lib_gfx942.tar.zst"),
            &simple_artifact(&format!("lib{i:02}"), "gfx942", &"x".repeat(i + 1)),
            true,
        );
    }
    // Each answer 100 ms late, as from a distant S3: requests asked for at once are all waiting
    // together, requests asked for one after another are not.
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let proxy = latency_proxy(bed.s3.endpoint.clone(), std::time::Duration::from_millis(100), most.clone()).await;
    let mut cmd = bed.cmd();
    cmd.env("THEROCK_ARTIFACTS_JOBS", "1").env("AWS_ENDPOINT_URL", &proxy).args(fetch_json_args(&c, bed.home.path().join("cold").to_str().unwrap(), &[]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let log = bed.s3.requests();
    // With one CPU, the twelve archives and their sidecars are still asked for together (the
    // downloads in flight are sized for the link, and sidecars do not wait for archives or
    // decoders), and nothing is asked for twice.
    let most = most.load(Ordering::SeqCst);
    assert!(most >= 16, "at most {most} requests were waiting at once: {log:#?}");
    assert_eq!(log.iter().filter(|r| r.contains(".sha256sum")).count(), 12, "{log:#?}");
    assert_eq!(log.iter().filter(|r| r.contains(".tar.zst?")).count(), 12, "{log:#?}");

    // Warm: the listing, and nothing else.
    bed.s3.clear_log();
    let o = bed.run(&fetch_json_args(&c, bed.home.path().join("warm").to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert!(d["archives"].as_array().unwrap().iter().all(|a| a["cached"] == true && a["verified"] == true), "{d}");
    let log = bed.s3.requests();
    assert_eq!(log.len(), 1, "one request per run prefix: {log:#?}");
    assert!(log[0].contains("list-type=2"), "{log:?}");

    // A new ETag (a re-run replaced the archive): sidecar and archive are asked for again.
    bed.s3.put_artifact(BUCKET, "2001-linux/", "lib03_lib_gfx942.tar.zst", &simple_artifact("lib03", "gfx942", "replaced"), true);
    bed.s3.clear_log();
    let out = bed.home.path().join("changed");
    let o = bed.run(&fetch_json_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let log = bed.s3.requests();
    assert!(log.iter().any(|r| r.contains("lib03_lib_gfx942.tar.zst.sha256sum")) && log.iter().any(|r| r.contains("lib03_lib_gfx942.tar.zst?")), "{log:#?}");
    assert_eq!(log.len(), 3, "the listing, one sidecar, one archive: {log:#?}");
    assert_eq!(std::fs::read_to_string(out.join("share/lib03/gfx942.txt")).unwrap(), "replaced");
}

/// A TCP proxy to `upstream` that passes the first 64 KiB of every answer to a GET of an archive
/// whose name contains "slow", then holds the rest back until `release` is set. Returns its
/// `http://` address.
async fn hold_back_proxy(upstream: String, release: Arc<tokio::sync::Notify>) -> String {
    use std::sync::atomic::AtomicUsize;
    struct HoldBack {
        /// Whether the request now being answered on this connection is held back.
        slow: AtomicBool,
        passed: AtomicUsize,
        release: Arc<tokio::sync::Notify>,
        released: Arc<AtomicBool>,
    }
    #[async_trait::async_trait]
    impl Tap for HoldBack {
        async fn up(&self, chunk: &[u8]) {
            let head = String::from_utf8_lossy(&chunk[..chunk.len().min(512)]).to_string();
            if head.starts_with("GET ") {
                let path = head.split_whitespace().nth(1).unwrap_or("");
                self.slow.store(path.contains("slow") && !path.contains(".sha256sum"), Ordering::SeqCst);
            }
        }
        async fn down(&self, chunk: &[u8]) -> Pass {
            let passed = self.passed.fetch_add(chunk.len(), Ordering::SeqCst) + chunk.len();
            if self.slow.load(Ordering::SeqCst) && passed > 64 * 1024 && !self.released.load(Ordering::SeqCst) {
                self.release.notified().await;
                self.released.store(true, Ordering::SeqCst);
            }
            Pass::All
        }
    }
    let released = Arc::new(AtomicBool::new(false));
    tcp_proxy(&upstream, move || HoldBack { slow: AtomicBool::new(false), passed: AtomicUsize::new(0), release: release.clone(), released: released.clone() })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_waiting_for_the_network_do_not_keep_others_from_a_decoder() {
    // One CPU slot and its spare, both taken by two archives whose bytes stop coming: a third
    // archive, larger than what a stream may buffer, must still stream through its decoder (the
    // old design gave each stream a decoder for its whole life, and waited here for good).
    let bed = Bed::new().await;
    let c = sha(21);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(2101, &c, THEROCK, WF))]).await;
    let member = |name: &str, n: usize, seed: u8| {
        let mut data = noise(n);
        data[0] = seed;
        zst(&tar_bytes(&[&format!("{name}/stage")], &[Member::File(&format!("{name}/stage/lib/{name}.bin"), &data, 0o644)]))
    };
    let (slow1, slow2, fast) = (member("slow1", 5 << 20, 1), member("slow2", 5 << 20, 2), member("fast", 4 << 20, 3));
    for (f, data) in [("slow1_lib_gfx942.tar.zst", &slow1), ("slow2_lib_gfx942.tar.zst", &slow2), ("fast_lib_gfx942.tar.zst", &fast)] {
        bed.s3.put_artifact(BUCKET, "2101-linux/", f, data, true);
    }
    let release = Arc::new(tokio::sync::Notify::new());
    let proxy = hold_back_proxy(bed.s3.endpoint.clone(), release.clone()).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("AWS_ENDPOINT_URL", &proxy).env("THEROCK_ARTIFACTS_JOBS", "1").env("THEROCK_ARTIFACTS_STALL_SECS", "600").args(fetch_json_args(
        &c,
        out.to_str().unwrap(),
        &["--no-cache"],
    ));
    let run = tokio::spawn(run_cmd(cmd));
    // The slow archives are released once the fast one is extracted.
    let fast_file = out.join("lib/fast.bin");
    let t0 = std::time::Instant::now();
    while !fast_file.exists() && !walk(&out).iter().any(|p| p.ends_with("lib/fast.bin")) {
        assert!(t0.elapsed() < std::time::Duration::from_secs(60), "the fast archive never got a decoder while two streams waited for bytes");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    release.notify_waiters();
    // Later holds (a connection reaching its limit after the release) pass at once.
    let keep = tokio::spawn({
        let release = release.clone();
        async move {
            loop {
                release.notify_waiters();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    });
    let o = run.await.unwrap();
    keep.abort();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("lib/slow1.bin")).unwrap().len(), 5 << 20);
    assert_eq!(std::fs::read(out.join("lib/fast.bin")).unwrap().len(), 4 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "makes a git checkout and a fake git script: no git under Wine")]
async fn a_fetch_by_run_id_in_a_named_repository_runs_no_git() {
    // Inside a checkout, git would be asked about HEAD, its remote branches and its origin: none
    // of it matters to a run id (and `git branch -r --contains` is slow on a large clone).
    let bed = Bed::new().await;
    let c = sha(22);
    setup(&bed, 2201, &c).await;
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(2201, &c, THEROCK, WF))).await;
    let work = bed.home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git_repo(&work, "https://github.com/ROCm/TheRock.git", 2);
    let fake = bed.home.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let marker = bed.home.path().join("git-was-run");
    let script = fake.join("git");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("PATH", format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()));
    cmd.args([
        "fetch",
        "--repo",
        THEROCK,
        "--run-id",
        "2201",
        "--artifact-group",
        "gfx94X-dcgpu",
        "--platform",
        "linux",
        "--output-dir",
        out.to_str().unwrap(),
        "--json",
    ]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("lib/librocblas.so.4").exists(), "{}", stderr(&o));
    assert!(!marker.exists(), "git was run: {}", std::fs::read_to_string(&marker).unwrap_or_default());
}

/// A TCP proxy to `upstream` holding every request back by `delay` before it goes on; counts in
/// `most` the most requests that were waiting for their answer at once. Returns its address.
async fn latency_proxy(upstream: String, delay: std::time::Duration, most: Arc<std::sync::atomic::AtomicUsize>) -> String {
    use std::sync::atomic::AtomicUsize;
    struct Latency {
        /// Set while this connection's request waits for the first byte of its answer.
        asked: AtomicBool,
        waiting: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
        delay: std::time::Duration,
    }
    #[async_trait::async_trait]
    impl Tap for Latency {
        async fn up(&self, chunk: &[u8]) {
            if chunk[0].is_ascii_uppercase() && !self.asked.swap(true, Ordering::SeqCst) {
                let now = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
            }
        }
        async fn down(&self, _chunk: &[u8]) -> Pass {
            if self.asked.swap(false, Ordering::SeqCst) {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
            }
            Pass::All
        }
    }
    impl Drop for Latency {
        fn drop(&mut self) {
            if self.asked.load(Ordering::SeqCst) {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
    let waiting = Arc::new(AtomicUsize::new(0));
    tcp_proxy(&upstream, move || Latency { asked: AtomicBool::new(false), waiting: waiting.clone(), most: most.clone(), delay }).await
}
