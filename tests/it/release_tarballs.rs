//! `find --release` / `fetch --release` (ROCm release tarballs) and `fetch --components`.

use crate::common::*;
use std::io::Write;

const NIGHTLY: &str = "therock-nightly-tarball";
const DEV: &str = "therock-dev-tarball";
const DEV_SHA: &str = "8f6cdfc0d95845f4ca5a46de59d58894972a29a9";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A whole-install tarball as upstream's release jobs write it: the install tree, no manifest.
fn dist(marker: &str) -> Vec<u8> {
    gz(&raw_tar(&[
        ("bin/", b'5', "", ""),
        ("bin/hipcc", b'0', "#!/bin/sh\n", ""),
        ("lib/libamdhip64.so.7", b'0', marker, ""),
        ("lib/libamdhip64.so", b'2', "", "libamdhip64.so.7"),
        ("share/version.txt", b'0', marker, ""),
    ]))
}

fn key(name: &str) -> String {
    format!("v4/tarball/{name}")
}

fn put(bed: &Bed, bucket: &str, name: &str, data: &[u8], sidecar: bool) {
    bed.s3.put_artifact(bucket, "v4/tarball/", name, data, sidecar);
}

/// The nightly bucket: several versions of gfx94X-dcgpu (a newer `-tests` sibling among them),
/// another family, another platform, and names outside the pattern.
fn nightlies(bed: &Bed) {
    for (v, marker) in [("7.11.0a20251124", "old"), ("7.12.0a20251201", "newest"), ("7.10.0rc20251130", "rc")] {
        put(bed, NIGHTLY, &format!("therock-dist-linux-gfx94X-dcgpu-{v}.tar.gz"), &dist(marker), true);
    }
    put(bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-tests-7.12.0a20251201.tar.gz", &dist("tests"), true);
    put(bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-tests-7.12.0a20251205.tar.gz", &dist("tests-only"), true);
    put(bed, NIGHTLY, "therock-dist-linux-gfx110X-all-7.12.0a20251210.tar.gz", &dist("other family"), true);
    put(bed, NIGHTLY, "therock-dist-windows-gfx94X-dcgpu-7.12.0a20251211.tar.gz", &dist("windows"), true);
    put(bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-nightly.tar.gz", &dist("unparsable"), false);
    put(bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-7.13.0a20251299.tar.gz", &dist("bad date"), false);
}

fn s3_listings(bed: &Bed, bucket: &str) -> usize {
    bed.s3.requests().iter().filter(|r| r.starts_with(&format!("GET /{bucket}/?")) && r.contains("list-type=2")).count()
}

fn release_args<'a>(cmd: &'a str, release: &'a str, group: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd, "--release", release, "--artifact-group", group, "--platform", "linux"];
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn latest_is_the_newest_nightly_of_the_group_from_one_listing_and_no_github_request() {
    let bed = Bed::new().await;
    nightlies(&bed);
    bed.s3.clear_log();
    let o = bed.run(&release_args("find", "latest", "gfx94X-dcgpu", &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!(j["status"], "found");
    let r = &j["release"];
    assert_eq!(r["version"], "7.12.0a20251201", "not the newer -tests sibling, the other family or platform, or a name outside the pattern");
    assert_eq!(r["channel"], "nightly");
    assert_eq!(r["bucket"], NIGHTLY);
    assert_eq!(r["key"], key("therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz"));
    assert_eq!(r["s3_uri"], format!("s3://{NIGHTLY}/v4/tarball/therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz"));
    assert_eq!(r["size"], dist("newest").len() as u64);
    assert_eq!((r["artifact_group"].as_str(), r["platform"].as_str()), (Some("gfx94X-dcgpu"), Some("linux")));
    assert_eq!(s3_listings(&bed, NIGHTLY), 1, "one S3 listing for fewer than 1,000 keys: {:?}", bed.s3.requests());
    assert_eq!(request_count(&bed.gh).await, 0, "no GitHub request");
}

#[tokio::test]
async fn latest_pages_through_the_listing_one_request_per_1000_keys() {
    let bed = Bed::new().await;
    // 1,200 nights of another family, then the one asked for: two pages.
    for i in 0..1200u32 {
        bed.s3.put(NIGHTLY, &key(&format!("therock-dist-linux-gfx110X-all-7.0.{i}a20250101.tar.gz")), b"x");
    }
    put(&bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz", &dist("x"), true);
    bed.s3.clear_log();
    let o = bed.run(&release_args("find", "latest", "gfx94X-dcgpu", &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["release"]["version"], "7.12.0a20251201");
    assert_eq!(s3_listings(&bed, NIGHTLY), 2, "1,202 keys: two listings");
}

#[tokio::test]
async fn a_version_names_its_bucket_nightly_or_dev() {
    let bed = Bed::new().await;
    nightlies(&bed);
    for sha in [DEV_SHA, "0123456789abcdef0123456789abcdef01234567"] {
        put(&bed, DEV, &format!("therock-dist-linux-gfx94X-dcgpu-7.12.0.dev0+{sha}.tar.gz"), &dist(sha), true);
    }
    let dev = format!("7.12.0.dev0+{DEV_SHA}");
    let o = bed.run(&release_args("find", &dev, "gfx94X-dcgpu", &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!((j["release"]["channel"].as_str(), j["release"]["bucket"].as_str()), (Some("dev"), Some(DEV)));
    assert_eq!(j["release"]["version"], dev.as_str());
    let o = bed.run(&release_args("find", "7.11.0a20251124", "gfx94X-dcgpu", &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["release"]["key"], key("therock-dist-linux-gfx94X-dcgpu-7.11.0a20251124.tar.gz"));
}

#[tokio::test]
async fn nothing_matching_is_exit_1_naming_what_is_there() {
    let bed = Bed::new().await;
    nightlies(&bed);
    let o = bed.run(&release_args("find", "latest", "gfx120X-all", &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!(j["status"], "not_found");
    assert!(j["release"].is_null());
    let m = j["message"].as_str().unwrap();
    assert!(m.contains("gfx120X-all has no nightlies for linux; groups with nightlies: gfx110X-all, gfx94X-dcgpu"), "{m}");
    let o = bed.run(&release_args("find", "7.12.0a20251102", "gfx94X-dcgpu", &[])).await;
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("gfx94X-dcgpu has nightlies up to 7.12.0a20251201"), "{}", stderr(&o));
    let o = bed.run(&release_args("find", "7.11.0a20251124", "gfx94X-dcgpu", &["--tests", "--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout_json(&o)["message"].as_str().unwrap().contains("7.11.0a20251124.tar.gz has no -tests tarball beside it"), "{}", stderr(&o));
}

#[tokio::test]
async fn a_malformed_version_is_exit_2_naming_the_accepted_shapes() {
    let bed = Bed::new().await;
    let o = bed.run(&release_args("find", "7.12-nightly", "gfx94X-dcgpu", &[])).await;
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("--release") && e.contains("'7.12-nightly'") && e.contains("X.Y.ZaYYYYMMDD") && e.contains("X.Y.Z.dev0+<hex sha>"), "{e}");
    let o = bed.run(&release_args("fetch", "latest", "gfx94X-dcgpu", &["--output-dir", "out", "--extract", "bootstrap"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("artifact_manifest.txt"), "{}", stderr(&o));
}

#[tokio::test]
async fn fetch_latest_with_tests_extracts_both_verified_and_a_repeat_downloads_nothing() {
    let bed = Bed::new().await;
    nightlies(&bed);
    let out = bed.home.path().join("rocm");
    let o = bed.run(&release_args("fetch", "latest", "gfx94X-dcgpu", &["--tests", "--output-dir", out.to_str().unwrap(), "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!(j["release"]["tests"]["key"], key("therock-dist-linux-gfx94X-dcgpu-tests-7.12.0a20251201.tar.gz"));
    let archives = j["archives"].as_array().unwrap();
    assert_eq!(archives.len(), 2);
    assert!(archives.iter().all(|a| a["verification"] == "sidecar" && a["verified"] == true), "{archives:?}");
    assert!(j["downloaded_bytes"].as_u64().unwrap() > 0);
    // The tarball's tree is the output's: the tests tarball came last, so its files win.
    assert_eq!(std::fs::read_to_string(out.join("share/version.txt")).unwrap(), "tests");
    assert_eq!(std::fs::read_link(out.join("lib/libamdhip64.so")).unwrap(), std::path::PathBuf::from("libamdhip64.so.7"));
    assert!(stderr(&o).contains("verified against its .sha256sum sidecar"), "{}", stderr(&o));
    no_partials(&out);
    let dry = bed.home.path().join("dry");
    let o = bed.run(&release_args("fetch", "latest", "gfx94X-dcgpu", &["--output-dir", dry.to_str().unwrap(), "--dry-run", "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!((j["dry_run"].as_bool(), j["archives"][0]["verification"].as_str()), (Some(true), Some("sidecar")));
    assert!(!dry.join("bin").exists(), "a dry run writes nothing");
    let again = bed.run(&release_args("fetch", "latest", "gfx94X-dcgpu", &["--tests", "--output-dir", out.to_str().unwrap(), "--json"])).await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let j = stdout_json(&again);
    assert_eq!(j["downloaded_bytes"], 0, "a repeated fetch downloads nothing");
    assert!(j["archives"].as_array().unwrap().iter().all(|a| a["cached"] == true));
}

#[tokio::test]
async fn without_a_sidecar_the_answer_says_size_and_etag_only() {
    let bed = Bed::new().await;
    put(&bed, NIGHTLY, "therock-dist-linux-multiarch-7.12.0a20251201.tar.gz", &dist("multi"), false);
    let out = bed.home.path().join("rocm");
    let o = bed.run(&release_args("fetch", "7.12.0a20251201", "multiarch", &["--output-dir", out.to_str().unwrap(), "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j = stdout_json(&o);
    assert_eq!(j["release"]["sidecar"], false);
    assert_eq!(j["archives"][0]["verification"], "size+etag");
    assert_eq!(std::fs::read_to_string(out.join("share/version.txt")).unwrap(), "multi");
}

/// A failed fetch leaves the output as it was: nothing of the tarball in it.
fn assert_untouched(out: &std::path::Path) {
    assert!(!out.join("bin").exists() && !out.join("lib").exists(), "{:?}", walk(out));
    no_partials(out);
}

#[tokio::test]
async fn a_corrupted_or_truncated_tarball_is_refused_and_the_output_left_alone() {
    let bed = Bed::new().await;
    let good = dist("real");
    // The sidecar names the real bytes; S3 holds others.
    let name = "therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz";
    put(&bed, NIGHTLY, name, &good, true);
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    bed.s3.put(NIGHTLY, &key(name), &bad);
    let out = bed.home.path().join("rocm");
    let o = bed.run(&release_args("fetch", "latest", "gfx94X-dcgpu", &["--output-dir", out.to_str().unwrap()])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(name), "{}", stderr(&o));
    assert_untouched(&out);
    // Without a sidecar the gzip stream itself is found corrupt, or cut short.
    let (corrupt, truncated) = ("therock-dist-linux-gfx110X-all-7.12.0a20251201.tar.gz", "therock-dist-linux-gfx1151-7.12.0a20251201.tar.gz");
    put(&bed, NIGHTLY, corrupt, &bad, false);
    put(&bed, NIGHTLY, truncated, &good[..good.len() * 2 / 3], false);
    for (group, name) in [("gfx110X-all", corrupt), ("gfx1151", truncated)] {
        let o = bed.run(&release_args("fetch", "latest", group, &["--output-dir", out.to_str().unwrap(), "--no-cache"])).await;
        assert_eq!(code(&o), 2, "{group}: {}", stderr(&o));
        assert!(stderr(&o).contains(name), "{}", stderr(&o));
        assert_untouched(&out);
    }
}

#[tokio::test]
async fn a_tarball_whose_members_escape_the_output_is_refused() {
    let bed = Bed::new().await;
    let cases: [(&str, Vec<u8>); 3] = [
        ("gfx94X-dcgpu", gz(&raw_tar(&[("bin/hipcc", b'0', "x", ""), ("../escaped", b'0', "x", "")]))),
        ("gfx110X-all", gz(&raw_tar(&[("lib/etc", b'2', "", "/etc"), ("lib/etc/passwd", b'0', "x", "")]))),
        ("gfx1151", gz(&raw_tar(&[("lib/up", b'2', "", "../../.."), ("bin/hipcc", b'0', "x", "")]))),
    ];
    let out = bed.home.path().join("work").join("rocm");
    for (group, data) in &cases {
        put(&bed, NIGHTLY, &format!("therock-dist-linux-{group}-7.12.0a20251201.tar.gz"), data, true);
        let o = bed.run(&release_args("fetch", "latest", group, &["--output-dir", out.to_str().unwrap()])).await;
        assert_eq!(code(&o), 2, "{group}: {}", stderr(&o));
        assert!(stderr(&o).contains("unsafe"), "{group}: {}", stderr(&o));
        assert!(!bed.home.path().join("work").join("escaped").exists());
        assert_untouched(&out);
    }
}

#[tokio::test]
async fn the_prefix_layout_is_configurable() {
    let bed = Bed::new().await;
    bed.s3.put(NIGHTLY, "v5/rocm/core/tarball/therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz", &dist("v5"));
    let mut c = bed.cmd();
    c.env("THEROCK_ARTIFACTS_RELEASE_PREFIX", "v5/rocm/core/tarball").args(release_args("find", "latest", "gfx94X-dcgpu", &["--json"]));
    let o = run_cmd(c).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["release"]["key"], "v5/rocm/core/tarball/therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz");
}

#[tokio::test]
async fn components_pick_the_named_sets_of_a_ci_run() {
    let bed = Bed::new().await;
    let c = sha(7);
    let names = ["base_lib_generic", "core-hip_dev_generic", "blas_lib_gfx942", "blas_test_gfx942", "fft_lib_gfx942", "miopen_lib_gfx942", "base_test_generic"];
    let archives: Vec<(String, Vec<u8>)> = names.iter().map(|n| (format!("{n}.tar.zst"), simple_artifact(n, n.rsplit('_').next().unwrap(), n))).collect();
    let refs: Vec<(&str, Vec<u8>)> = archives.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    one_run(&bed, 300, &c, &refs).await;
    let planned = |o: &std::process::Output| -> Vec<String> {
        let j = stdout_json(o);
        let mut v: Vec<String> = j["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let o = bed.run(&fetch_args(&c, "out", &["--components", "base,blas", "--dry-run", "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(planned(&o), vec!["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst", "core-hip_dev_generic.tar.zst"]);
    let o = bed.run(&fetch_args(&c, "out", &["--components", "blas", "--tests", "--dry-run", "--json"])).await;
    assert_eq!(planned(&o), vec!["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst", "blas_test_gfx942.tar.zst", "core-hip_dev_generic.tar.zst"]);
    let o = bed.run(&fetch_args(&c, "out", &["--components", "base", "--components", "fft", "--dry-run", "--json"])).await;
    assert!(planned(&o).contains(&"fft_lib_gfx942.tar.zst".to_string()));
    let o = bed.run(&fetch_args(&c, "out", &["--components", "blas,lapack"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--components") && stderr(&o).contains("'lapack'") && stderr(&o).contains("base, aqlprofile, blas"), "{}", stderr(&o));
}

#[tokio::test]
async fn a_gzip_bomb_is_stopped_by_the_extraction_limit() {
    let bed = Bed::new().await;
    let big = vec![0u8; 8 << 20];
    let data = gz(&raw_tar(&[("lib/zeros", b'0', std::str::from_utf8(&big).unwrap(), "")]));
    assert!(data.len() < 64 << 10, "8 MiB of zeros deflate to a few KiB");
    put(&bed, NIGHTLY, "therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz", &data, true);
    let out = bed.home.path().join("rocm");
    let mut c = bed.cmd();
    c.env("THEROCK_ARTIFACTS_MAX_EXTRACT", "1M").args(release_args("fetch", "latest", "gfx94X-dcgpu", &["--output-dir", out.to_str().unwrap()]));
    let o = run_cmd(c).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("decompression bomb"), "{}", stderr(&o));
    assert_untouched(&out);
}
