//! `bisect --bump`: a TheRock submodule bump as the range. TheRock is a real git repository
//! whose commits carry rocm-libraries / rocm-systems gitlinks (`git update-index --cacheinfo
//! 160000,...`); rocm-systems' history, runs and archives are on the test bed.

use crate::bisect::{archive, TEST};
use crate::common::*;
use serde_json::json;
use std::path::Path;
use wiremock::matchers::{method, path, query_param};
use wiremock::Mock;

/// Sets the gitlinks (`None`: leave as is) and commits; the new commit's SHA.
fn commit_gitlinks(dir: &Path, libraries: Option<&str>, systems: Option<&str>, msg: &str) -> String {
    for (p, sha) in [("rocm-libraries", libraries), ("rocm-systems", systems)] {
        if let Some(s) = sha {
            git(dir, &["update-index", "--add", "--cacheinfo", &format!("160000,{s},{p}")]);
        }
    }
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// rocm-systems on GitHub: `n` commits on main (newest first), each but `no_runs` with a run
/// whose archive flips to "bad" from index `flip` (oldest = 0).
async fn systems_history(bed: &Bed, base: u32, n: usize, flip: usize, no_runs: &[usize]) -> Vec<String> {
    let sys = history(base, n);
    mount_history(&bed.gh, SYS, &sys, 0).await;
    mount_history(&bed.gh, SYS, &sys, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{SYS}")))
        .respond_with(ok_json(json!({"full_name": SYS, "default_branch": "main"})))
        .mount(&bed.gh)
        .await;
    let mut runs = Vec::new();
    for i in (0..n).filter(|i| !no_runs.contains(i)) {
        let id = 60_000 + base as u64 + i as u64;
        let mut r = RunSpec::ok(id, &sys[n - 1 - i], SYS, LEGACY_WF);
        r.created_at = format!("2026-08-15T{:02}:{:02}:30Z", 20 - (n - 1 - i) / 60, 59 - (n - 1 - i) % 60);
        runs.push(super_run_json(&r));
        bed.s3.put_artifact("therock-ci-artifacts-external", &format!("ROCm-rocm-systems/{id}-linux/"), "flip_lib_gfx942.tar.zst", &archive(i, flip), true);
    }
    Mock::given(method("GET"))
        .and(path(format!("/repos/{SYS}/actions/workflows/{LEGACY_WF}/runs")))
        .and(query_param("branch", "main"))
        .respond_with(ok_json(runs_page(&runs, runs.len())))
        .mount(&bed.gh)
        .await;
    sys
}

fn bump_args<'a>(range: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["bisect"];
    v.extend_from_slice(range);
    v.extend_from_slice(&["--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    v.extend_from_slice(extra);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bump_is_bisected_over_the_super_repo_range_its_gitlinks_moved_across() {
    let bed = Bed::new().await;
    let (flip, n) = (5usize, 9usize);
    let sys = systems_history(&bed, 0x7100, n, flip, &[2]).await;
    let lib = [sha(0x7a00), sha(0x7a01)];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["remote", "add", "origin", "git@github.com:ROCm/TheRock.git"]);
    let base = commit_gitlinks(d, Some(&lib[0]), Some(&sys[n - 1]), "submodules");
    let bump = commit_gitlinks(d, None, Some(&sys[1]), "Bump rocm-systems");
    let both = commit_gitlinks(d, Some(&lib[1]), Some(&sys[0]), "Bump both");
    std::fs::write(d.join("README.md"), "x").unwrap();
    git(d, &["add", "README.md"]);
    let none = commit_gitlinks(d, None, None, "docs");

    // From inside the TheRock checkout: the gitlinks come from `git ls-tree`, no request.
    let mut cmd = bed.cmd();
    cmd.current_dir(d).args(bump_args(&["--bump", &bump], &["--", "sh", "-c", TEST]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["first_bad"]["sha"], sys[n - 1 - flip], "{doc}");
    assert_eq!(doc["last_good"]["sha"], sys[n - flip], "{doc}");
    assert_eq!((doc["good"].as_str(), doc["bad"].as_str()), (Some(sys[n - 1].as_str()), Some(sys[1].as_str())), "the super-repo range: {doc}");
    assert_eq!(doc["bump"]["submodule"], "rocm-systems");
    assert_eq!(doc["bump"]["repo"], SYS);
    assert_eq!(doc["bump"]["good_therock"], base);
    assert!(!gh_paths(&bed.gh).await.iter().any(|p| p.contains("/contents/")), "gitlinks read locally");

    // Two submodules moved: say which and ask; none moved: say so. Exit 2, nothing tested.
    for (c, what) in [(&both, "pass --submodule NAME"), (&none, "moved no submodule")] {
        let mut cmd = bed.cmd();
        cmd.current_dir(d).args(bump_args(&["--bump", c], &["--", "sh", "-c", TEST]));
        let o = run_cmd(cmd).await;
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains(what) && !stderr(&o).contains("bisect: step"), "{}", stderr(&o));
    }
    let mut cmd = bed.cmd();
    cmd.current_dir(d).args(bump_args(&["--bump", &both, "--submodule", "rocm-systems"], &["--", "sh", "-c", TEST]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "--submodule picks one: {}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!((doc["bump"]["submodule"].as_str(), doc["first_bad"]["sha"].as_str()), (Some("rocm-systems"), Some(sys[0].as_str())), "{doc}");

    // Without a checkout: TheRock's commits and gitlinks from the API (the contents API's
    // submodule entries), the same answer.
    for (c, parent) in [(&base, None), (&bump, Some(&base))] {
        let parents: Vec<&str> = parent.map(|p| vec![p.as_str()]).unwrap_or_default();
        mount_commit_with_parents(&bed, c, &parents).await;
        for (p, at) in [("rocm-libraries", &lib[0]), ("rocm-systems", if c == &base { &sys[n - 1] } else { &sys[1] })] {
            let entry = json!({"type": "submodule", "name": p, "path": p, "sha": at, "size": 0,
                               "submodule_git_url": format!("https://github.com/ROCm/{p}.git")});
            Mock::given(method("GET"))
                .and(path(format!("/repos/{THEROCK}/contents/{p}")))
                .and(query_param("ref", c.as_str()))
                .respond_with(ok_json(entry))
                .mount(&bed.gh)
                .await;
        }
    }
    let away = tempfile::tempdir().unwrap();
    let mut cmd = bed.cmd();
    cmd.current_dir(away.path()).args(bump_args(&["--repo", THEROCK, "--good-therock", &base, "--bad-therock", &bump], &["--", "sh", "-c", TEST]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["first_bad"]["sha"], sys[n - 1 - flip]);
}

async fn mount_commit_with_parents(bed: &Bed, c: &str, parents: &[&str]) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits/{c}")))
        .respond_with(ok_json(commit_json(c, parents, "2026-08-15T20:00:00Z")))
        .mount(&bed.gh)
        .await;
}

/// TEST, and the HIP runtime the TheRock baseline provides (a super-repo run lacks it).
const NEEDS_BOTH: &str = r#"
[ -f "$ROCM_PATH/share/hip/runtime.txt" ] || { echo "no HIP runtime in $ROCM_PATH"; exit 1; }
grep -q good "$ROCM_PATH/share/flip/state.txt"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlay_tree_holds_the_pins_therock_baseline_under_the_super_repo_run() {
    let bed = Bed::new().await;
    let (flip, n) = (4usize, 8usize);
    let sys = systems_history(&bed, 0x7200, n, flip, &[]).await;
    // Every rocm-systems commit pins one TheRock commit, whose run holds the HIP runtime.
    let pin = sha(0x7c00);
    for s in &sys {
        mount_file(&bed.gh, SYS, ".github/actions/ci-env/action.yml", s, Some(&ci_env(&pin))).await;
    }
    let runtime = zst(&tar_bytes(&["core-runtime/stage"], &[Member::File("core-runtime/stage/share/hip/runtime.txt", b"hip\n", 0o644)]));
    one_run(&bed, 79_000, &pin, &[("core-runtime_lib_gfx942.tar.zst", runtime)]).await;
    let args = |overlay: bool| {
        let mut v = vec!["bisect", "--repo", SYS, "--good", &sys[n - 1], "--bad", &sys[0], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"];
        if overlay {
            v.push("--overlay");
        }
        v.extend(["--", "sh", "-c", NEEDS_BOTH]);
        v
    };
    // Without the overlay the test cannot find the runtime: every commit reads as bad.
    let o = bed.run(&args(false)).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["first_bad"]["sha"], sys[n - 2], "{}", stdout_json(&o));

    bed.s3.clear_log();
    let o = bed.run(&args(true)).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["first_bad"]["sha"], sys[n - 1 - flip], "{d}\n{}", stderr(&o));
    let steps = d["steps"].as_array().unwrap();
    assert!(steps.len() >= 2, "{d}");
    for s in steps {
        let layers = s["layers"].as_array().unwrap();
        assert_eq!(layers[0]["repo"], THEROCK, "the baseline first: {s}");
        assert_eq!(layers[0]["run_id"], 79_000);
        assert_eq!(layers[0]["archives"], json!(["core-runtime_lib_gfx942.tar.zst"]));
        assert_eq!(layers[1]["repo"], SYS, "the commit's own run over it: {s}");
        assert_eq!(layers[1]["archives"], json!(["flip_lib_gfx942.tar.zst"]));
    }
    assert!(stderr(&o).contains("archive(s) from ROCm/TheRock run 79000"), "{}", stderr(&o));
    // With the cache, the shared TheRock part is downloaded once for the whole bisection.
    let gets = bed
        .s3
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET") && r.contains("79000-linux/core-runtime_lib_gfx942.tar.zst") && !r.contains("sha256sum"))
        .count();
    assert_eq!(gets, 1, "{:#?}", bed.s3.requests());

    // `exec --overlay` (what each matrix job of a parallel bisection runs) builds the same tree.
    let good = &sys[n - 2];
    let id = 60_000 + 0x7200 + 1;
    let run = {
        let mut r = RunSpec::ok(id, good, SYS, LEGACY_WF);
        r.created_at = "2026-08-15T20:58:30Z".into();
        super_run_json(&r)
    };
    mount_commit_runs(&bed.gh, SYS, LEGACY_WF, good, &[run]).await;
    for (overlay, want) in [(true, 0), (false, 1)] {
        let mut v = vec!["exec", "--repo", SYS, "--commit", good, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
        if overlay {
            v.push("--overlay");
        }
        v.extend(["--", "sh", "-c", NEEDS_BOTH]);
        let o = bed.run(&v).await;
        assert_eq!(code(&o), want, "overlay {overlay}: {}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    }
}
