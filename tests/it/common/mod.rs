//! The shared test bed: a real S3-compatible server (s3s-fs, in process, on 127.0.0.1), a
//! GitHub REST stand-in (wiremock) answering with full-shaped objects, real archives, real git
//! repositories, and the real binary run the way users and the runner run it.

mod archives;
mod binary;
mod git;
mod github;
mod os;
mod proxy;
mod s3;
mod superrepo;
mod tls;
mod topology;

pub use archives::*;
pub use binary::*;
pub use git::*;
pub use github::*;
pub use os::*;
pub use proxy::*;
pub use s3::*;
use std::path::Path;
pub use superrepo::*;
pub use tls::*;
pub use topology::*;

pub const TOKEN: &str = "ghs_testtoken_SECRET_0123456789";
pub const THEROCK: &str = "ROCm/TheRock";
pub const WF: &str = "multi_arch_ci.yml";
pub const BUCKET: &str = "therock-ci-artifacts";

/// `cmd --repo R --commit C --artifact-group gfx94X-dcgpu --platform linux`, then `extra`.
pub fn group_args<'a>(cmd: &'a str, repo: &'a str, commit: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd, "--repo", repo, "--commit", commit, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
    v.extend_from_slice(extra);
    v
}

/// `fetch` of commit `c` of TheRock's gfx94X-dcgpu artifacts into `out`, then `extra`.
pub fn fetch_args<'a>(c: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    fetch_args_in(THEROCK, c, out, extra)
}

/// `fetch_args` for another repository.
pub fn fetch_args_in<'a>(repo: &'a str, c: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = group_args("fetch", repo, c, &["--output-dir", out]);
    v.extend_from_slice(extra);
    v
}

/// One run of TheRock for commit `c` holding `archives` (filename, bytes), with sidecars.
pub async fn one_run(bed: &Bed, run: u64, c: &str, archives: &[(&str, Vec<u8>)]) {
    mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&RunSpec::ok(run, c, THEROCK, WF))]).await;
    for (name, data) in archives {
        bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), name, data, true);
    }
}

/// The gfx94X-dcgpu group (a generic and a gfx942 archive) in run `run`.
pub fn put_group(bed: &Bed, run: u64) {
    bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "x"), true);
    bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "x"), true);
}

pub fn no_partials(dir: &Path) {
    for e in walk(dir) {
        let n = e.file_name().unwrap().to_string_lossy().to_string();
        assert!(!n.ends_with(".partial") && !n.contains("staging"), "leftover {}", e.display());
    }
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            // The output's lock where a directory cannot be locked itself (Windows).
            if cfg!(windows) && e.file_name() == ".therock-artifacts.lock" {
                continue;
            }
            out.push(p.clone());
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}
