//! The test topology (tests/fixtures/BUILD_TOPOLOGY.toml, written for these tests in the schema
//! of TheRock's) and a baseline run holding every stage's archives.

use super::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

pub const TOPOLOGY: &str = include_str!("../../fixtures/BUILD_TOPOLOGY.toml");

/// Generic archives of every target-neutral artifact of the test topology, and gfx942 (and
/// gfx942:xnack+) archives of the target-specific ones, in run `run`'s prefix.
pub fn put_stage_archives(bed: &Bed, run: u64) {
    put_stage_archives_on(bed, run, "linux", &[]);
}

/// `put_stage_archives` in the run's `platform` prefix, without the archives named in
/// `without` (a windows prefix also holds hipinfo-win, a windows-only artifact).
pub fn put_stage_archives_on(bed: &Bed, run: u64, platform: &str, without: &[&str]) {
    let prefix = format!("{run}-{platform}/");
    let windows: &[&str] = if platform == "windows" { &["hipinfo-win"] } else { &[] };
    let put = |name: &str, a: &str, t: &str| {
        if !without.contains(&name) {
            bed.s3.put_artifact(BUCKET, &prefix, name, &simple_artifact(a, t, "x"), true);
        }
    };
    for a in windows.iter().copied().chain([
        "sysdeps",
        "base",
        "amd-llvm",
        "core-runtime",
        "core-hip",
        "rocprofiler-sdk",
        "prim",
        "rocdecode",
        "rocgdb",
        "rocgdb-tests",
        "mesa",
        "rocprofiler-compute",
        "fmt",
    ]) {
        put(&format!("{a}_lib_generic.tar.zst"), a, "generic");
    }
    for a in ["blas", "fft", "miopen"] {
        put(&format!("{a}_lib_gfx942.tar.zst"), a, "gfx942");
    }
    put("blas_lib_gfx942:xnack+.tar.zst", "blas", "gfx942-xnack");
}

/// The compare API's answer listing `files` as changed from `base` to `head`.
pub async fn mount_changed_files(gh: &MockServer, repo: &str, base: &str, head: &str, files: &[&str]) {
    let files: Vec<serde_json::Value> = files.iter().map(|f| serde_json::json!({"filename": f, "status": "modified"})).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/compare/{base}...{head}")))
        .respond_with(ok_json(serde_json::json!({"status": "ahead", "files": files, "commits": []})))
        .mount(gh)
        .await;
}

/// Points submodule `path`'s gitlink at `target` (a commit of the submodule, which need not exist here), and commits.
pub fn bump_gitlink(dir: &std::path::Path, path: &str, target: &str) -> String {
    git(dir, &["update-index", "--add", "--cacheinfo", &format!("160000,{target},{path}")]);
    git(dir, &["commit", "-q", "-m", &format!("Bump {path} to {}", &target[..7])]);
    git(dir, &["rev-parse", "HEAD"])
}
