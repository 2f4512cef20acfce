use crate::common::*;

/// A TheRock PR whose head has no run: the baseline is main[2]; the PR changes `changed`.
pub async fn pr_bed(changed: &[&str]) -> (Bed, Vec<String>, String) {
    pr_bed_with(changed, Some(TOPOLOGY)).await
}

/// `pr_bed` with the PR head's topology file (`None`: it has none).
async fn pr_bed_with(changed: &[&str], topology: Option<&str>) -> (Bed, Vec<String>, String) {
    let bed = Bed::new().await;
    let main = history(100, 10);
    let pr_head = sha(9001);
    mount_commit_runs(&bed.gh, THEROCK, WF, &pr_head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &pr_head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let runs = vec![run_json(&main_run(3002, &main, 2, "completed", Some("success")))];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs).await;
    put_stage_archives(&bed, 3002);
    mount_changed_files(&bed.gh, THEROCK, &main[2], &pr_head, changed).await;
    mount_file(&bed.gh, THEROCK, "BUILD_TOPOLOGY.toml", &pr_head, topology).await;
    (bed, main, pr_head)
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_bumping_one_submodule_rebuilds_its_stages_within_the_request_budget() {
    let (bed, main, pr_head) = pr_bed(&["rocm-libraries"]).await;
    let o = bed.run(&group_args("reuse", THEROCK, &pr_head, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "found");
    assert_eq!(d["baseline_commit"], main[2]);
    assert_eq!(d["baseline_run_id"], "3002");
    assert_eq!(d["therock_commit"], pr_head);
    assert_eq!(strings(&d["changed_inputs"]), ["rocm-libraries"]);
    assert_eq!(strings(&d["rebuild_stages"]), ["cv-libs", "math-libs"]);
    assert!(strings(&d["reuse_stages"]).contains(&"compiler-runtime".to_string()));
    assert_eq!(d["full_rebuild_required"], false);
    let artifacts = strings(&d["artifacts"]);
    assert!(artifacts.contains(&"core-hip_lib_generic.tar.zst".to_string()), "{artifacts:?}");
    assert!(!artifacts.iter().any(|a| a.starts_with("blas_")), "math-libs builds blas: {artifacts:?}");
    assert_eq!(strings(&d["missing_artifacts"]), Vec::<String>::new());
    let reasons = strings(&d["reasons"]);
    assert!(reasons.iter().any(|r| r.starts_with("math-libs rebuilds: rocm-libraries changed (submodule bump since")), "{reasons:?}");
    let n = request_count(&bed.gh).await;
    eprintln!("reuse on a TheRock PR: {n} GitHub requests");
    assert!(n <= 7, "reuse on a TheRock PR took {n} GitHub requests (budget 7)");

    // The topology is cached per commit: the second run reads it from the cache.
    let before = request_count(&bed.gh).await;
    let o = bed.run(&group_args("reuse", THEROCK, &pr_head, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(request_count(&bed.gh).await - before, n - 1, "no contents request the second time");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("prebuilt stages: compiler-runtime,debug-tools,host-libs,media-libs,profiler-apps,tools-tests"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_touching_build_tools_rebuilds_everything_and_exits_1() {
    let (bed, _, pr_head) = pr_bed(&["build_tools/fetch_sources.py", "rocm-libraries"]).await;
    let o = bed.run(&group_args("reuse", THEROCK, &pr_head, &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "not_found");
    assert_eq!(d["full_rebuild_required"], true);
    assert_eq!(strings(&d["rebuild_stages"]).len(), 8);
    assert!(strings(&d["reasons"])[0].contains("build_tools/fetch_sources.py"), "{}", d["reasons"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_paths_outside_the_repository_are_refused() {
    let bed = Bed::new().await;
    for bad in ["../x", "/etc/passwd", "a/../../b"] {
        let o = bed.run(&group_args("reuse", THEROCK, &sha(1), &["--changed", bad])).await;
        assert_eq!(code(&o), 2, "{bad}");
        assert!(stderr(&o).contains("outside the repository"), "{}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_topology_names_the_file_the_commit_and_the_table() {
    let broken = TOPOLOGY.replace("artifact_deps = [\"blas\"]", "artifact_deps = [\"blass\"]");
    let (bed, _, pr_head) = pr_bed_with(&["rocm-libraries"], Some(&broken)).await;
    let o = bed.run(&group_args("reuse", THEROCK, &pr_head, &[])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("BUILD_TOPOLOGY.toml at ") && e.contains(&pr_head[..7]) && e.contains("[artifacts.miopen]"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_reuse_bootstraps_only_the_reused_stages_archives() {
    let (bed, _, pr_head) = pr_bed(&["rocgdb"]).await;
    let out = bed.home.path().join("tree");
    let out_s = out.to_str().unwrap();
    let o = bed.run(&group_args("fetch", THEROCK, &pr_head, &["--reuse", "--output-dir", out_s, "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(strings(&d["rebuild_stages"]), ["debug-tools", "tools-tests"]);
    assert_eq!(d["extract"], "bootstrap");
    let fetched: Vec<String> = d["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(fetched, ["amd-llvm_lib_generic.tar.zst", "sysdeps_lib_generic.tar.zst"], "what debug-tools and tools-tests consume, but rocgdb");
    assert!(out.join("amd-llvm/stage.prebuilt").exists(), "a reused stage's artifact is marked prebuilt");
    assert!(!out.join("rocgdb/stage.prebuilt").exists(), "a rebuilt stage's artifact is not");
    assert!(!out.join("blas/stage.prebuilt").exists(), "an artifact no rebuilt stage needs is not fetched");
}

/// A TheRock commit with one run holding math-libs' inputs (core-hip in both compressions) and
/// an xnack target; prim and rocprofiler-sdk are missing.
async fn stage_bed() -> (Bed, String) {
    let bed = Bed::new().await;
    let c = sha(4242);
    let a = |n: &str, t: &str| simple_artifact(n, t, "x");
    one_run(
        &bed,
        5005,
        &c,
        &[
            ("core-hip_lib_generic.tar.zst", a("core-hip", "generic")),
            ("core-hip_lib_generic.tar.xz", a("core-hip", "generic")),
            ("core-hip_dev_generic.tar.zst", a("core-hip", "generic")),
            ("amd-llvm_lib_generic.tar.zst", a("amd-llvm", "generic")),
            ("core-runtime_lib_generic.tar.zst", a("core-runtime", "generic")),
            ("base_lib_generic.tar.zst", a("base", "generic")),
            ("sysdeps_lib_generic.tar.zst", a("sysdeps", "generic")),
            ("blas_lib_gfx942:xnack+.tar.zst", a("blas", "gfx942")),
            ("rocgdb_lib_generic.tar.zst", a("rocgdb", "generic")),
        ],
    )
    .await;
    mount_file(&bed.gh, THEROCK, "BUILD_TOPOLOGY.toml", &c, Some(TOPOLOGY)).await;
    (bed, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_selects_its_inbound_archives_zst_first_and_names_the_missing_pairs() {
    let (bed, c) = stage_bed().await;
    let o = bed.run(&group_args("find", THEROCK, &c, &["--stage", "math-libs", "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["stage"], "math-libs");
    let picked = strings(&d["stage_archives"]);
    assert_eq!(
        picked,
        [
            "amd-llvm_lib_generic.tar.zst",
            "base_lib_generic.tar.zst",
            "core-hip_dev_generic.tar.zst",
            "core-hip_lib_generic.tar.zst",
            "core-runtime_lib_generic.tar.zst",
            "sysdeps_lib_generic.tar.zst"
        ],
        "inbound only, .tar.zst over .tar.xz, no rocgdb, no blas (math-libs builds it)"
    );
    assert_eq!(strings(&d["missing_artifacts"]), ["rocprofiler-sdk_*_generic"], "hipinfo-win is a windows artifact");

    // tools-tests consumes rocgdb and what it needs; a target-specific archive of an xnack target counts for gfx942.
    let o = bed.run(&group_args("find", THEROCK, &c, &["--stage", "all", "--exclude-component", "dev", "--exclude-artifact", "core-hip", "--json"])).await;
    let d = stdout_json(&o);
    let picked = strings(&d["stage_archives"]);
    assert!(picked.contains(&"blas_lib_gfx942:xnack+.tar.zst".to_string()), "{picked:?}");
    assert!(!picked.iter().any(|p| p.starts_with("core-hip") || p.contains("_dev_")), "{picked:?}");

    // fetch --stage downloads exactly those.
    let out = bed.home.path().join("t");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &["--stage", "tools-tests", "--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    let fetched: Vec<&str> = d["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
    assert_eq!(fetched, ["amd-llvm_lib_generic.tar.zst", "rocgdb_lib_generic.tar.zst", "sysdeps_lib_generic.tar.zst"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_stage_artifact_or_component_is_exit_2_listing_the_valid_ones() {
    let (bed, c) = stage_bed().await;
    let o = bed.run(&group_args("find", THEROCK, &c, &["--stage", "math-lib"])).await;
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("unknown stage 'math-lib'") && e.contains("compiler-runtime, math-libs, cv-libs"), "{e}");
    let o = bed.run(&group_args("find", THEROCK, &c, &["--stage", "all", "--exclude-artifact", "blass"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown artifact 'blass'") && stderr(&o).contains("amd-llvm, base, blas"), "{}", stderr(&o));
    let o = bed.run(&group_args("find", THEROCK, &c, &["--stage", "all", "--exclude-component", "docs"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("lib, run, dev, dbg, doc, test"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_branch_on_top_of_another_bump_rebuilds_both_from_git_alone() {
    let bed = Bed::new().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["remote", "add", "origin", "https://github.com/ROCm/TheRock.git"]);
    std::fs::write(d.join("BUILD_TOPOLOGY.toml"), TOPOLOGY).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "topology"]);
    let c0 = bump_gitlink(d, "rocm-libraries", &sha(70));
    // main moved on: rocgdb was bumped after the baseline's run.
    let c1 = bump_gitlink(d, "rocgdb", &sha(71));
    git(d, &["update-ref", "refs/remotes/origin/main", &c1]);
    // The local branch bumps rocm-libraries again.
    let head = bump_gitlink(d, "rocm-libraries", &sha(72));
    let mut r = RunSpec::ok(7001, &c0, THEROCK, WF);
    r.created_at = "2030-01-01T00:00:00Z".into();
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&r)]).await;
    put_stage_archives(&bed, 7001);
    let mut cmd = bed.cmd();
    cmd.current_dir(d).args(["reuse", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["commit"], head);
    assert_eq!(doc["baseline_commit"], c0);
    assert_eq!(strings(&doc["changed_inputs"]), ["rocgdb", "rocm-libraries"], "both bumps since the baseline, as paths");
    assert_eq!(strings(&doc["rebuild_stages"]), ["cv-libs", "debug-tools", "math-libs", "tools-tests"]);
    for req in bed.gh.received_requests().await.unwrap() {
        let u = req.url.as_str();
        assert!(!u.contains("/compare/") && !u.contains("/contents/"), "changed paths and topology come from git: {u}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rocm_libraries_commit_rebuilds_what_rocm_libraries_feeds_with_therocks_topology_at_the_pin() {
    let bed = Bed::new().await;
    let lib = "ROCm/rocm-libraries";
    let c = sha(600);
    let pin = sha(601);
    mount_file(&bed.gh, lib, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(6001, &pin, THEROCK, WF))]).await;
    put_stage_archives(&bed, 6001);
    mount_file(&bed.gh, THEROCK, "BUILD_TOPOLOGY.toml", &pin, Some(TOPOLOGY)).await;
    let o = bed.run(&group_args("reuse", lib, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_commit"], pin, "the topology is TheRock's at the baseline");
    assert_eq!(strings(&d["changed_inputs"]), ["rocm-libraries"]);
    assert_eq!(strings(&d["rebuild_stages"]), ["cv-libs", "math-libs"]);
    assert_eq!(d["baseline_run_id"], "6001");
    assert!(
        strings(&d["reasons"]).iter().any(|r| r.starts_with("math-libs rebuilds: rocm-libraries changed (the ROCm/rocm-libraries commit")),
        "{}",
        d["reasons"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_without_a_topology_falls_back_to_no_reuse() {
    let (bed, _, pr_head) = pr_bed_with(&["rocm-libraries"], None).await;
    let o = bed.run(&group_args("reuse", THEROCK, &pr_head, &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "not_found");
    assert_eq!(strings(&d["reuse_stages"]), Vec::<String>::new());
    assert!(d["message"].as_str().unwrap().contains("has no BUILD_TOPOLOGY.toml"), "{d}");
    assert!(stderr(&o).contains("older than build stages"), "{}", stderr(&o));
}

/// `reuse` for linux and windows over `pr_bed`'s PR (rocm-libraries bumped), the windows
/// prefix of the baseline run lacking `without`.
async fn two_platforms(without: &[&str], extra: &[&str]) -> (Bed, std::process::Output) {
    let (bed, _, pr_head) = pr_bed(&["rocm-libraries"]).await;
    put_stage_archives_on(&bed, 3002, "windows", without);
    let mut args = group_args("reuse", THEROCK, &pr_head, &["--json"]);
    args.extend_from_slice(extra);
    let o = bed.run(&args).await;
    (bed, o)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_prefix_missing_a_stages_archive_rebuilds_that_stage_on_every_platform() {
    let (bed, o) = two_platforms(&["core-hip_lib_generic.tar.zst"], &["--platform", "windows"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let n = request_count(&bed.gh).await;
    eprintln!("reuse for two platforms: {n} GitHub requests");
    assert!(n <= 10, "the second platform repeats only its baseline walk (4 requests): {n}");
    let d = stdout_json(&o);
    let p = d["platforms"].as_array().unwrap();
    assert_eq!((p[0]["platform"].as_str(), p[1]["platform"].as_str()), (Some("linux"), Some("windows")));
    assert_eq!((&p[0]["baseline_run_id"], &p[1]["baseline_run_id"]), (&serde_json::json!("3002"), &serde_json::json!("3002")));
    assert!(strings(&p[0]["reuse_stages"]).contains(&"compiler-runtime".to_string()), "linux alone reuses it: {}", p[0]);
    assert_eq!(strings(&p[1]["missing_artifacts"]), ["core-hip_*_generic"]);
    assert!(strings(&p[1]["rebuild_stages"]).contains(&"compiler-runtime".to_string()));
    assert_eq!(strings(&d["rebuild_stages"]), ["compiler-runtime", "cv-libs", "math-libs"], "the combined decision");
    assert_eq!(d["prebuilt_stages"], "debug-tools,host-libs,media-libs,profiler-apps,tools-tests");
    assert_eq!(d["platform"], "linux", "the top-level per-platform keys are the first platform's");
    assert!(!strings(&d["artifacts"]).iter().any(|a| a.starts_with("core-hip_")), "linux builds core-hip too now: {}", d["artifacts"]);
    let reasons = strings(&d["reasons"]);
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("compiler-runtime rebuilds: on windows, the baseline run lacks core-hip_*_generic")
                && r.contains("linux alone could reuse it")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("math-libs rebuilds: rocm-libraries changed (submodule bump since")),
        "one reason where the platforms agree: {reasons:?}"
    );

    // The same windows prefix complete: both platforms reuse what linux alone reuses.
    let (_bed, o) = two_platforms(&[], &["--platforms", "windows"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(strings(&d["rebuild_stages"]), ["cv-libs", "math-libs"]);
    assert_eq!(d["platforms"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_without_the_baseline_run_reuses_nothing_and_says_why() {
    // Windows' prefix lacks every math-libs archive: no run holds the group there.
    let (_bed, o) = two_platforms(
        &["blas_lib_gfx942.tar.zst", "fft_lib_gfx942.tar.zst", "miopen_lib_gfx942.tar.zst", "blas_lib_gfx942:xnack+.tar.zst"],
        &["--platforms", "both"],
    )
    .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "not_found");
    assert_eq!(strings(&d["reuse_stages"]), Vec::<String>::new());
    assert_eq!(d["platforms"][0]["status"], "found", "linux alone could reuse: {}", d["platforms"][0]);
    let m = d["message"].as_str().unwrap();
    assert!(m.starts_with("windows has no baseline run"), "{m}");
}
