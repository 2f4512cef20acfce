//! Issue 24 item 1: a second fetch into one output never mixes two commits unasked. The output
//! records what wrote it (`.therock-artifacts.json`); a fetch of another commit replaces that
//! fetch's files (bootstrap, per-artifact) or is refused naming both commits and `--clean` /
//! `--merge` (flatten, archives); files the tool never wrote are kept. Through the binary.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

const RECORD: &str = ".therock-artifacts.json";

/// Commit A (run 2401: `blas` at gfx942, an `only-a` file) and commit B (run 2402: `blas` with
/// other contents and `fft`, no `only-a`).
async fn two_commits(bed: &Bed) -> (String, String) {
    let (a, b) = (sha(2401), sha(2402));
    let blas = |v: &str, own: bool| {
        let mut members = vec![("blas/stage/share/blas/gfx942.txt".to_string(), v.to_string())];
        if own {
            members.push(("blas/stage/lib/only-a.so".to_string(), "a".to_string()));
        }
        let m: Vec<Member> = members.iter().map(|(p, c)| Member::File(p, c.as_bytes(), 0o644)).collect();
        zst(&tar_bytes(&["blas/stage"], &m))
    };
    one_run(bed, 2401, &a, &[("blas_lib_gfx942.tar.zst", blas("A", true))]).await;
    one_run(bed, 2402, &b, &[("blas_lib_gfx942.tar.zst", blas("B", false)), ("fft_lib_gfx942.tar.zst", simple_artifact("fft", "gfx942", "B"))]).await;
    (a, b)
}

async fn fetch(bed: &Bed, c: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    bed.run(&fetch_args(c, out.to_str().unwrap(), extra)).await
}

fn record(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join(RECORD)).unwrap()).unwrap()
}

fn commits(out: &Path) -> Vec<String> {
    record(out)["fetches"].as_array().unwrap().iter().map(|f| f["commit"].as_str().unwrap().to_string()).collect()
}

/// A file of the user's own at the top of the output, and one inside a directory the fetch made.
fn plant_users_files(out: &Path) {
    std::fs::write(out.join("mine.txt"), "mine").unwrap();
    std::fs::write(out.join("share/blas/notes.txt"), "mine too").unwrap();
}

fn users_files_kept(out: &Path) {
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(out.join("share/blas/notes.txt")).unwrap(), "mine too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_records_the_fetch_that_wrote_it() {
    let bed = Bed::new().await;
    let (a, _) = two_commits(&bed).await;
    let out = bed.home.path().join("out");
    let o = fetch(&bed, &a, &out, &[]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = record(&out);
    let f = &r["fetches"][0];
    assert_eq!((f["commit"].as_str(), f["repository"].as_str(), f["extract"].as_str()), (Some(a.as_str()), Some(THEROCK), Some("flatten")));
    assert_eq!(f["runs"], serde_json::json!([2401]));
    assert_eq!(f["archives"], serde_json::json!(["blas_lib_gfx942.tar.zst"]));
    let files: Vec<&str> = r["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(files, ["lib/only-a.so", "share/blas/gfx942.txt"]);
    assert!(r["signature"].as_str().is_some_and(|s| s.len() == 64), "{r}");
    // A re-fetch of the same commit stays as it was: no refusal, the same record.
    let before = std::fs::read(out.join(RECORD)).unwrap();
    let o = fetch(&bed, &a, &out, &[]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join(RECORD)).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flatten_and_archives_refuse_another_commit_naming_both_and_the_flags() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    for mode in ["flatten", "archives"] {
        let out = bed.home.path().join(format!("out-{mode}"));
        assert_eq!(code(&fetch(&bed, &a, &out, &["--extract", mode]).await), 0);
        let (before, blobs) = (walk(&out), walk(&bed.cache_dir().join("blobs")).len());
        let o = fetch(&bed, &b, &out, &["--extract", mode]).await;
        assert_eq!(code(&o), 2, "{mode}: {}", stderr(&o));
        let err = stderr(&o);
        for part in [a.as_str(), b.as_str(), "--clean", "--merge"] {
            assert!(err.contains(part), "{mode}: {part} missing: {err}");
        }
        assert_eq!(walk(&out), before, "{mode}: nothing written");
        assert_eq!(walk(&bed.cache_dir().join("blobs")).len(), blobs, "{mode}: refused before any download");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_what_the_earlier_fetch_placed_and_keeps_the_users_files() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    let out = bed.home.path().join("out");
    assert_eq!(code(&fetch(&bed, &a, &out, &[]).await), 0);
    plant_users_files(&out);
    let o = bed.run(&fetch_args(&b, out.to_str().unwrap(), &["--clean", "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!out.join("lib/only-a.so").exists() && !out.join("lib").exists(), "A's file, and the directory it made, are gone");
    assert_eq!(std::fs::read_to_string(out.join("share/blas/gfx942.txt")).unwrap(), "B");
    assert_eq!(std::fs::read_to_string(out.join("share/fft/gfx942.txt")).unwrap(), "B");
    users_files_kept(&out);
    assert_eq!(commits(&out), std::slice::from_ref(&b));
    assert_eq!(stdout_json(&o)["removed"]["of"], serde_json::json!([format!("commit {a}")]));
    // Archives mode: A's archive goes, the user's file stays.
    let ar = bed.home.path().join("ar");
    assert_eq!(code(&fetch(&bed, &a, &ar, &["--extract", "archives"]).await), 0);
    std::fs::write(ar.join("mine.txt"), "mine").unwrap();
    let o = fetch(&bed, &b, &ar, &["--extract", "archives", "--clean", "--include", "^fft_"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!ar.join("blas_lib_gfx942.tar.zst").exists() && ar.join("fft_lib_gfx942.tar.zst").is_file());
    assert_eq!(std::fs::read_to_string(ar.join("mine.txt")).unwrap(), "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_layers_on_purpose_and_clean_then_removes_both() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    let out = bed.home.path().join("out");
    assert_eq!(code(&fetch(&bed, &a, &out, &[]).await), 0);
    let o = fetch(&bed, &b, &out, &["--merge"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("lib/only-a.so").is_file(), "A's own file stays under --merge");
    assert_eq!(std::fs::read_to_string(out.join("share/blas/gfx942.txt")).unwrap(), "B", "B's files win");
    assert_eq!(commits(&out), [a.clone(), b.clone()]);
    // The output now holds both: a third commit is refused naming both, and --clean removes both.
    let c = sha(2403);
    one_run(&bed, 2403, &c, &[("rand_lib_gfx942.tar.zst", simple_artifact("rand", "gfx942", "C"))]).await;
    let o = fetch(&bed, &c, &out, &[]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(&format!("commit {a} and commit {b}")), "{}", stderr(&o));
    plant_users_files(&out);
    let o = fetch(&bed, &c, &out, &["--clean"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut left: Vec<String> = walk(&out).iter().map(|p| p.strip_prefix(&out).unwrap().display().to_string()).collect();
    left.sort();
    assert_eq!(left, [RECORD, "mine.txt", "share", "share/blas", "share/blas/notes.txt", "share/rand", "share/rand/gfx942.txt"]);
    // --clean and --merge together are refused.
    let o = fetch(&bed, &c, &out, &["--clean", "--merge"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_replaces_another_commits_stage_and_its_prebuilt_marker() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    let out = bed.home.path().join("build");
    assert_eq!(code(&fetch(&bed, &a, &out, &["--extract", "bootstrap"]).await), 0);
    assert!(out.join("blas/stage.prebuilt").is_file() && out.join("blas/stage/lib/only-a.so").is_file());
    std::fs::write(out.join("mine.txt"), "mine").unwrap();
    let o = fetch(&bed, &b, &out, &["--extract", "bootstrap", "--include", "^fft_"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!out.join("blas/stage.prebuilt").exists(), "A's marker is gone: CMake must not skip blas with A's binaries");
    assert!(!out.join("blas").exists(), "A's stage is gone");
    assert!(out.join("fft/stage.prebuilt").is_file() && out.join("fft/stage/share/fft/gfx942.txt").is_file());
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "mine");
    assert!(stderr(&o).contains(&format!("removed 3 files of the earlier fetch of commit {a}")), "{}", stderr(&o));
    assert_eq!(commits(&out), [b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_artifact_replaces_another_commits_directories() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    let out = bed.home.path().join("pa");
    assert_eq!(code(&fetch(&bed, &a, &out, &["--extract", "per-artifact"]).await), 0);
    assert!(out.join("blas_lib_gfx942/blas/stage/lib/only-a.so").is_file());
    std::fs::write(out.join("mine.txt"), "mine").unwrap();
    let o = fetch(&bed, &b, &out, &["--extract", "per-artifact", "--include", "^fft_"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!out.join("blas_lib_gfx942").exists(), "A's {{stem}}/ is gone");
    assert!(out.join("fft_lib_gfx942/fft/stage/share/fft/gfx942.txt").is_file());
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_tool_did_not_sign_is_not_acted_on() {
    let bed = Bed::new().await;
    let (a, _) = two_commits(&bed).await;
    let out = bed.home.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "mine").unwrap();
    // What a pull request's checkout could ship: a record naming the user's file.
    let planted = serde_json::json!({"format": 1, "fetches": [{"commit": sha(1), "repository": THEROCK, "runs": [], "extract": "flatten", "archives": []}],
        "files": ["mine.txt"], "dirs": [], "signature": "0".repeat(64)});
    std::fs::write(out.join(RECORD), planted.to_string()).unwrap();
    let o = fetch(&bed, &a, &out, &["--clean"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("is not believed"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "mine");
    assert_eq!(commits(&out), [a]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_takes_clean_and_merge() {
    let bed = Bed::new().await;
    let (a, b) = two_commits(&bed).await;
    let ws = bed.home.path().join("ws");
    let files = bed.home.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let action = |c: &str, run: &str, inputs: &[(&str, &str)]| {
        std::fs::create_dir_all(&ws).unwrap();
        let mut cmd = bed.action_fetch(&ws, &files, run);
        cmd.env("INPUT_OUTPUT-DIR", "out").env("GITHUB_SHA", c);
        for (k, v) in inputs {
            cmd.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        cmd
    };
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(2401, &a, THEROCK, WF))).await;
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(2402, &b, THEROCK, WF))).await;
    let out = ws.join("out");
    let o = unmasked(action(&a, "2401", &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = unmasked(action(&b, "2402", &[])).await;
    assert_ne!(code(&o), 0, "refused without clean or merge: {}", stderr(&o));
    assert!(out.join("lib/only-a.so").is_file());
    let o = unmasked(action(&b, "2402", &[("merge", "true")])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("lib/only-a.so").is_file());
    let o = unmasked(action(&b, "2402", &[("clean", "true")])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!out.join("lib/only-a.so").exists() && out.join("share/fft/gfx942.txt").is_file());
}

/// Runs the action (not `run_cmd`: the token appears once, in its mask command).
async fn unmasked(mut cmd: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}
