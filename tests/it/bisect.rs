//! `bisect` and `exec`: find the commit that flipped a file inside an artifact, with CI
//! artifacts instead of builds, on its own and under a real `git bisect run`.

use crate::common::*;
use wiremock::matchers::{method, path};
use wiremock::Mock;

/// The archive of commit `i`: `share/flip/state.txt` says "good" before `flip`, "bad" from it.
pub(crate) fn archive(i: usize, flip: usize) -> Vec<u8> {
    let state = if i >= flip { "bad\n" } else { "good\n" };
    zst(&tar_bytes(&["flip/stage"], &[Member::File("flip/stage/share/flip/state.txt", state.as_bytes(), 0o644)]))
}

/// The test: passes while the state is good; says "skip" (125) on a commit listed in
/// `SKIP_COMMIT`, aborts (128) on `ABORT_COMMIT`.
pub(crate) const TEST: &str = r#"
case " $SKIP_COMMIT " in *" $THEROCK_ARTIFACTS_COMMIT "*) exit 125;; esac
[ "$THEROCK_ARTIFACTS_COMMIT" = "$ABORT_COMMIT" ] && exit 128
[ -n "$THEROCK_ARTIFACTS_RUN_ID" ] || exit 3
echo "testing $THEROCK_ARTIFACTS_COMMIT"
grep -q good "$THEROCK_ARTIFACTS_DIR/share/flip/state.txt"
"#;

/// 20 commits on main (newest first in `main`); commits `no_runs` (indices, oldest = 0) have no
/// run; the others a successful run with the flip archive.
pub(crate) async fn history_with_flip(bed: &Bed, base: u32, flip: usize, no_runs: &[usize]) -> Vec<String> {
    let main = history(base, 20);
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let oldest_first: Vec<&String> = main.iter().rev().collect();
    let mut runs = Vec::new();
    for (i, sha) in oldest_first.iter().enumerate() {
        if no_runs.contains(&i) {
            continue;
        }
        let id = 90_000 + base as u64 * 100 + i as u64;
        runs.push(run_json(&main_run(id, &main, 19 - i, "completed", Some("success"))));
        bed.s3.put_artifact("therock-ci-artifacts", &format!("{id}-linux/"), "flip_lib_gfx942.tar.zst", &archive(i, flip), true);
        let _ = sha;
    }
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs).await;
    main
}

pub(crate) fn bisect_args<'a>(good: &'a str, bad: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["bisect", "--repo", THEROCK, "--good", good, "--bad", bad, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["--", "sh", "-c", TEST]);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisect_names_the_flipping_commit_skipping_commits_without_artifacts() {
    let bed = Bed::new().await;
    let (flip, no_runs) = (11, [3usize, 7, 15]);
    let main = history_with_flip(&bed, 100, flip, &no_runs).await;
    let (good, bad) = (&main[19], &main[0]);
    let o = bed.run(&bisect_args(good, bad, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    let flipped = &main[19 - flip];
    assert_eq!(d["first_bad"]["sha"], *flipped, "{d}");
    assert_eq!(d["last_good"]["sha"], main[19 - (flip - 1)]);
    assert_eq!(d["commits"].as_array().unwrap().len(), 1, "the change is in exactly that commit");
    assert!(d["commits"][0]["subject"].is_string() && d["commits"][0]["author_date"].is_string(), "{}", d["commits"]);
    // 19 commits after good, 3 without artifacts: 16 candidates, the bad end untested.
    assert_eq!(d["candidates"], 16);
    let steps = d["steps"].as_array().unwrap();
    assert!(steps.len() <= 5, "at most ceil(log2(16)) + 1 test runs: {}", steps.len());
    assert!(steps.iter().all(|s| s["run_id"].is_string() || s["run_id"].is_number()), "{steps:?}");
    let skipped: Vec<&str> = d["without_artifacts"].as_array().unwrap().iter().map(|w| w["commit"].as_str().unwrap()).collect();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.contains(&main[19 - 7].as_str()));
    assert!(d["message"].as_str().unwrap().contains("the first bad commit with artifacts is"), "{}", d["message"]);
    // One history listing and one branch runs listing, whatever the number of commits.
    assert_eq!(request_count(&bed.gh).await, 2);

    // The same, as text and as Markdown for a pull request comment.
    let o = bed.run(&bisect_args(good, bad, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    println!("{out}{}", stderr(&o));
    assert!(out.contains(&flipped[..12]) && out.contains("The first bad commit with artifacts is"), "{out}");
    assert!(stderr(&o).contains("bisect: step 1"), "progress: {}", stderr(&o));
    let o = bed.run(&bisect_args(good, bad, &["--markdown"])).await;
    assert!(String::from_utf8_lossy(&o.stdout).contains("| commit | date | subject |"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_and_abort_exit_codes_and_a_good_that_is_no_ancestor() {
    let bed = Bed::new().await;
    let flip = 10;
    let main = history_with_flip(&bed, 200, flip, &[]).await;
    let (good, bad) = (&main[19], &main[0]);
    // The commit just before the flip says "skip": the answer is a range of two.
    let mut cmd = bed.cmd();
    cmd.env("SKIP_COMMIT", &main[19 - (flip - 1)]).args(bisect_args(good, bad, &["--json"]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["first_bad"]["sha"], main[19 - flip]);
    assert_eq!(d["skipped"], serde_json::json!([main[19 - (flip - 1)]]));
    assert_eq!(d["commits"].as_array().unwrap().len(), 2, "{}", d["commits"]);
    assert!(d["steps"].as_array().unwrap().iter().any(|s| s["verdict"] == "skip"));

    // 128 (or more) aborts the bisection.
    let mut cmd = bed.cmd();
    cmd.env("ABORT_COMMIT", &main[19 - 9]).env("SKIP_COMMIT", "").args(bisect_args(good, bad, &[]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("aborted"), "{}", stderr(&o));

    // A good commit that is not an ancestor of the bad one: no answer.
    let stranger = sha(0xabcdef);
    let o = bed.run(&bisect_args(&stranger, bad, &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout_json(&o)["message"].as_str().unwrap().contains("not a first-parent ancestor"), "{}", stdout_json(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_under_a_real_git_bisect_run_finds_the_same_commit() {
    let bed = Bed::new().await;
    let dir = tempfile::tempdir().unwrap();
    let shas = git_repo(dir.path(), "git@github.com:ROCm/TheRock.git", 20);
    git(dir.path(), &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    let (flip, no_runs) = (12usize, [4usize, 8, 16]);
    for (i, c) in shas.iter().enumerate() {
        if no_runs.contains(&i) {
            mount_commit_runs(&bed.gh, THEROCK, WF, c, &[]).await;
            continue;
        }
        let id = 80_000 + i as u64;
        mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&RunSpec::ok(id, c, THEROCK, WF))]).await;
        bed.s3.put_artifact("therock-ci-artifacts", &format!("{id}-linux/"), "flip_lib_gfx942.tar.zst", &archive(i, flip), true);
    }
    // `exec` on one commit without artifacts exits 125, so git skips it.
    let mut one = bed.cmd();
    one.current_dir(dir.path()).args(["exec", "--commit", &shas[4], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--", "true"]);
    let o = run_cmd(one).await;
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("no artifacts"), "{}", stderr(&o));

    // A tree under --workdir is removed after the command, unless --keep.
    let work = tempfile::tempdir().unwrap();
    for keep in [false, true] {
        let mut one = bed.cmd();
        let w = work.path().to_str().unwrap();
        one.current_dir(dir.path()).args(["exec", "--commit", &shas[5], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--workdir", w]);
        if keep {
            one.arg("--keep");
        }
        one.args(["--", "sh", "-c", "test -n \"$(ls -A \"$THEROCK_ARTIFACTS_DIR\")\""]);
        let o = run_cmd(one).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let left = std::fs::read_dir(work.path()).unwrap().count();
        assert_eq!(left, usize::from(keep), "keep={keep}: trees left in the workdir: {left}");
    }

    // `git bisect run` with exec as the test, in the same environment the tool runs in.
    let script = format!(
        "set -e; git bisect start {} {}; git bisect run {} exec --artifact-group gfx94X-dcgpu --platform linux -- sh -c '{}'",
        shas[19],
        shas[0],
        bin(),
        TEST.replace('\'', "'\\''")
    );
    // The tool's environment, for a shell in its place.
    let sh = bed.cmd();
    let envs: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)> = sh.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg(&script).current_dir(dir.path());
    for (k, v) in envs {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    for (k, v) in [("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@example.com"), ("GIT_COMMITTER_NAME", "t"), ("GIT_COMMITTER_EMAIL", "t@example.com")] {
        sh.env(k, v);
    }
    let o = tokio::task::spawn_blocking(move || sh.output().unwrap()).await.unwrap();
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(so.contains(&format!("{} is the first bad commit", shas[flip])), "{so}\n{}", String::from_utf8_lossy(&o.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_and_bad_that_name_one_commit_are_refused_before_anything_is_fetched() {
    let bed = Bed::new().await;
    let main = history_with_flip(&bed, 300, 10, &[]).await;
    let one = &main[5];
    mount_history(&bed.gh, THEROCK, &main, 5).await;
    for short in [&one[..9], &one[..12]] {
        Mock::given(method("GET"))
            .and(path(format!("/repos/{THEROCK}/commits/{short}")))
            .respond_with(ok_json(commit_json(one, &[&main[6]], "2026-08-15T20:54:00Z")))
            .mount(&bed.gh)
            .await;
    }
    // A full spelling twice, a short and a full one, and two short ones (known only once resolved).
    for (good, bad) in [(one.as_str(), one.as_str()), (&one[..9], one.as_str()), (one.as_str(), &one[..12]), (&one[..9], &one[..12])] {
        let o = bed.run(&bisect_args(good, bad, &["--json"])).await;
        assert_eq!(code(&o), 2, "{good} {bad}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("the same commit") && err.contains(&one[..12]), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(stdout_json(&o)["status"], "error");
        assert!(!err.contains("bisect: step"), "nothing is tested: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_runs_in_a_rocm_install_environment_led_by_the_tree() {
    let bed = Bed::new().await;
    let c = sha(0x5e_0001);
    let tool = "#!/bin/sh\necho from-the-tree\n";
    let tar = tar_bytes(
        &["flip/stage"],
        &[Member::File("flip/stage/bin/therock-hello", tool.as_bytes(), 0o755), Member::File("flip/stage/lib/libflip.so", b"x", 0o644)],
    );
    one_run(&bed, 77_001, &c, &[("flip_lib_gfx942.tar.zst", zst(&tar))]).await;
    let check = r#"
set -e
[ "$ROCM_PATH" = "$THEROCK_ARTIFACTS_DIR" ] || { echo "ROCM_PATH=$ROCM_PATH"; exit 3; }
[ "$THEROCK_BIN_DIR" = "$ROCM_PATH/bin" ] || { echo "THEROCK_BIN_DIR=$THEROCK_BIN_DIR"; exit 4; }
[ "$AMDGPU_FAMILIES" = "gfx94X-dcgpu" ] || { echo "AMDGPU_FAMILIES=$AMDGPU_FAMILIES"; exit 5; }
case "$PATH" in "$ROCM_PATH/bin:"*) ;; *) echo "PATH=$PATH"; exit 6;; esac
case "$LD_LIBRARY_PATH" in "$ROCM_PATH/lib:/outside/lib") ;; *) echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; exit 7;; esac
[ -f "$ROCM_PATH/lib/libflip.so" ] || exit 8
[ "$(therock-hello)" = from-the-tree ] || exit 9
"#;
    let mut cmd = bed.cmd();
    cmd.env("LD_LIBRARY_PATH", "/outside/lib").args(group_args("exec", THEROCK, &c, &["--", "sh", "-c", check]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    // The variables are documented where users look.
    let help = bed.run(&["bisect", "--help"]).await;
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for v in ["ROCM_PATH", "THEROCK_BIN_DIR", "AMDGPU_FAMILIES", "LD_LIBRARY_PATH"] {
        assert!(help.contains(v), "bisect --help names {v}: {help}");
    }
}
