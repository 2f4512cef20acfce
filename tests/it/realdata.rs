//! Real data as of late 2026: the JSON pin file and override inputs, healthy-build baselines,
//! legacy external prefixes, letter case, nested stage markers, per-artifact manifests,
//! upstream's selection flags, and the TheRock commit a super-repo run built against.

use crate::common::*;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::Mock;

const SYS: &str = "ROCm/rocm-systems";
const LIB: &str = "ROCm/rocm-libraries";

fn ref_json(pin: &str) -> String {
    format!("{{\n  \"ref\": \"{pin}\",\n  \"commit_date\": \"2026-10-01T08:00:00Z\",\n  \"updated_date\": \"2026-10-02T09:00:00Z\"\n}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocm_systems_pins_from_its_json_file_over_a_stale_ci_env() {
    let bed = Bed::new().await;
    let c = sha(100);
    let (pin, stale) = (sha(101), sha(102));
    mount_file(&bed.gh, SYS, ".github/therock_ref.json", &c, Some(&ref_json(&pin))).await;
    mount_file(&bed.gh, SYS, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&stale))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(1001, &pin, THEROCK, WF))]).await;
    put_group(&bed, 1001);
    let args = ["baseline", "--repo", SYS, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
    let o = bed.run(&[&args[..], &["--json"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin, "the JSON file wins over the stale ci-env pin");
    assert_eq!(d["pin_source"], ".github/therock_ref.json:2");
    assert_eq!(d["therock_ref_source"], ".github/therock_ref.json");
    assert_eq!(d["reason"], "therock-pin");
    let o = bed.run(&args).await;
    assert!(String::from_utf8_lossy(&o.stdout).contains("(from .github/therock_ref.json:2)"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_input_defaulting_to_the_pin_pins_it_and_the_summary_names_the_line() {
    let bed = Bed::new().await;
    let c = sha(110);
    let pin = sha(111);
    let wf = checkout_workflow(&format!("${{{{ inputs.therock_ref_override || '{pin}' }}}}"));
    mount_file(&bed.gh, SYS, ".github/workflows/therock-ci.yml", &c, Some(&wf)).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(1101, &pin, THEROCK, WF))]).await;
    put_group(&bed, 1101);
    let o = bed.run(&["baseline", "--repo", SYS, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin);
    let line = wf.lines().position(|l| l.contains(&pin)).unwrap() + 1;
    assert_eq!(d["pin_source"], format!(".github/workflows/therock-ci.yml:{line}"));
    // The same in the action's step summary.
    let ws = bed.home.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let summary = bed.home.path().join("summary.md");
    let mut cmd = bed.cmd();
    cmd.env("INPUT_MODE", "baseline")
        .env("INPUT_ARTIFACT-GROUP", "gfx94X-dcgpu")
        .env("INPUT_COMMIT", &c)
        .env("GITHUB_REPOSITORY", SYS)
        .env("GITHUB_WORKSPACE", &ws)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg("action");
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains(&format!("`.github/workflows/therock-ci.yml:{line}`")), "{md}");
}

/// A TheRock PR whose merge-base `main[0]` has a run that failed in a build job (its uploads
/// are partial); `main[1]` has a run whose tests failed but whose builds were healthy;
/// `main[2]` has a successful run.
async fn healthy_history(bed: &Bed) -> (String, Vec<String>) {
    let head = sha(200);
    let main = history(210, 5);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let runs = [
        main_run(2100, &main, 0, "completed", Some("failure")),
        main_run(2101, &main, 1, "completed", Some("failure")),
        main_run(2102, &main, 2, "completed", Some("success")),
    ];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs.iter().map(run_json).collect::<Vec<_>>()).await;
    // 2100: the build failed, so only the generic archive made it.
    bed.s3.put_artifact("therock-ci-artifacts", "2100-linux/", "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "x"), true);
    put_group(bed, 2101);
    put_group(bed, 2102);
    mount_jobs(
        &bed.gh,
        THEROCK,
        2101,
        &[("Build Linux gfx94X-dcgpu", "completed", Some("success")), ("Test Linux gfx94X-dcgpu", "completed", Some("failure"))],
    )
    .await;
    (head, main)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_takes_a_run_whose_tests_failed_when_its_builds_were_healthy() {
    let bed = Bed::new().await;
    let (head, main) = healthy_history(&bed).await;
    let args = ["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"];
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["baseline_commit"], main[1]);
    assert_eq!(d["distance"], 1);
    assert_eq!(d["results"][0]["workflow_run_conclusion"], "failure");
    let looked: Vec<&serde_json::Value> = d["looked_at"].as_array().unwrap().iter().collect();
    let taken = looked.iter().find(|l| l["taken"] == true).unwrap_or_else(|| panic!("{}", d["looked_at"]));
    assert_eq!(taken["commit"], main[1]);
    assert!(taken["reason"].as_str().unwrap().contains("tests failed, builds healthy"), "{taken}");
    assert!(looked.iter().any(|l| l["commit"] == main[0] && l["reason"].as_str().unwrap().contains("failed without every group")), "{}", d["looked_at"]);
    // The commit's runs, compare, history, branch runs; one jobs request for the one failed run
    // whose listing held every group (the one whose build failed needed none).
    assert_eq!(request_count(&bed.gh).await, 5, "{:?}", bed.gh.received_requests().await.unwrap().iter().map(|r| r.url.path().to_string()).collect::<Vec<_>>());

    // --require-successful-run keeps the strict rule.
    let bed2 = Bed::new().await;
    let (head, main) = healthy_history(&bed2).await;
    let strict =
        ["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json", "--require-successful-run"];
    let o = bed2.run(&strict).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["baseline_commit"], main[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_builds_and_old_runs_are_passed_over_with_the_reason() {
    let bed = Bed::new().await;
    let head = sha(300);
    let main = history(310, 4);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let runs = [main_run(3100, &main, 0, "completed", Some("failure")), main_run(3101, &main, 1, "completed", Some("success"))];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs.iter().map(run_json).collect::<Vec<_>>()).await;
    put_group(&bed, 3100);
    put_group(&bed, 3101);
    // Every group uploaded, but a build job was cancelled: not a baseline.
    mount_jobs(&bed.gh, THEROCK, 3100, &[("Build Linux", "completed", Some("success")), ("Build Windows", "completed", Some("cancelled"))]).await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["baseline_commit"], main[1]);
    assert!(d["looked_at"].to_string().contains("'Build Windows' (cancelled)"), "{}", d["looked_at"]);
    // The runs are from August 2026; `--max-age-hours 72` today rules them all out.
    let o = bed
        .run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json", "--max-age-hours", "72"])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout_json(&o)["looked_at"].to_string().contains("more than the 72 h allowed"), "{}", stdout_json(&o)["looked_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_takes_healthy_builds_and_has_finds_flags() {
    let bed = Bed::new().await;
    let main = history(400, 3);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}")))
        .respond_with(ok_json(json!({"full_name": THEROCK, "default_branch": "main"})))
        .mount(&bed.gh)
        .await;
    let commits: Vec<_> =
        (0..3).map(|i| commit_json(&main[i], &main.get(i + 1).map(|p| vec![p.as_str()]).unwrap_or_default(), "2026-08-15T20:00:00Z")).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", "main"))
        .respond_with(ok_json(json!(commits)))
        .mount(&bed.gh)
        .await;
    let runs = [main_run(4100, &main, 0, "completed", Some("failure")), main_run(4101, &main, 1, "completed", Some("success"))];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs.iter().map(run_json).collect::<Vec<_>>()).await;
    put_group(&bed, 4100);
    put_group(&bed, 4101);
    mount_jobs(&bed.gh, THEROCK, 4100, &[("Build", "completed", Some("success")), ("Test", "completed", Some("failure"))]).await;
    let base = ["latest", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"];
    let o = bed.run(&base).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["workflow_run_id"], "4100");
    let o = bed.run(&[&base[..], &["--require-successful-run"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["workflow_run_id"], "4101");
    let o = bed.run(&[&base[..], &["--require-artifact", "^nothing_"]].concat()).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = bed.run(&[&base[..], &["--require-single-run"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_external_runs_keep_their_prefix_and_letter_case_comes_from_github() {
    let bed = Bed::new().await;
    let c = sha(500);
    let mut run = RunSpec::ok(5001, &c, LIB, "therock-ci.yml");
    run.created_at = "2025-10-01T00:00:00Z".into();
    // The repository typed in lower case: GitHub answers anyway; S3 keys are case-sensitive.
    mount_commit_runs(&bed.gh, "rocm/rocm-libraries", "therock-ci.yml", &c, &[run_json(&run)]).await;
    bed.s3.put_artifact(
        "therock-artifacts-external",
        "ROCm-rocm-libraries/5001-linux/",
        "blas_lib_gfx94X-dcgpu.tar.xz",
        &simple_artifact("blas", "gfx94X-dcgpu", "x"),
        true,
    );
    let o = bed.run(&group_args("find", "rocm/rocm-libraries", &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["s3_bucket"], "therock-artifacts-external");
    assert_eq!(r["s3_path"], "ROCm-rocm-libraries/5001-linux/");
    assert_eq!(r["github_repository_name"], LIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_marks_the_enclosing_stage_and_per_artifact_keeps_the_manifest_and_replaces() {
    let bed = Bed::new().await;
    let c = sha(600);
    let rdc = zst(&tar_bytes(&["dctools/rdc/stage/portable-rdc"], &[Member::File("dctools/rdc/stage/portable-rdc/bin/rdcd", b"rdcd", 0o755)]));
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(6001, &c, THEROCK, WF))]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "6001-linux/", "rdc_lib_gfx942.tar.zst", &rdc, true);
    let fetch = |out: &std::path::Path, mode: &str| {
        vec![
            "fetch".to_string(),
            "--repo".into(),
            THEROCK.into(),
            "--commit".into(),
            c.clone(),
            "--artifact-group".into(),
            "gfx94X-dcgpu".into(),
            "--platform".into(),
            "linux".into(),
            "--output-dir".into(),
            out.display().to_string(),
            "--extract".into(),
            mode.into(),
        ]
    };
    let build = bed.home.path().join("build");
    std::fs::create_dir_all(build.join("dctools/rdc/stage/old")).unwrap();
    std::fs::write(build.join("dctools/rdc/stage/old/stale.so"), "stale").unwrap();
    let args = fetch(&build, "bootstrap");
    let o = bed.run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(build.join("dctools/rdc/stage.prebuilt").is_file(), "the marker TheRock's CMake reads");
    assert!(!build.join("dctools/rdc/stage/portable-rdc.prebuilt").exists());
    assert!(!build.join("dctools/rdc/stage/old").exists(), "the stage directory is cleared first");
    assert_eq!(std::fs::read(build.join("dctools/rdc/stage/portable-rdc/bin/rdcd")).unwrap(), b"rdcd");

    let out = bed.home.path().join("pa");
    std::fs::create_dir_all(out.join("rdc_lib_gfx942/stale")).unwrap();
    std::fs::write(out.join("rdc_lib_gfx942/stale/old.txt"), "old").unwrap();
    let args = fetch(&out, "per-artifact");
    let o = bed.run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("rdc_lib_gfx942/artifact_manifest.txt")).unwrap(), "dctools/rdc/stage/portable-rdc\n");
    assert!(!out.join("rdc_lib_gfx942/stale").exists(), "an existing directory is replaced, not merged into");
    assert!(out.join("rdc_lib_gfx942/dctools/rdc/stage/portable-rdc/bin/rdcd").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_alone_every_archive_and_targets_without_a_group() {
    let bed = Bed::new().await;
    let c = sha(700);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(7001, &c, THEROCK, WF))]).await;
    for (name, target) in [("base", "generic"), ("blas", "gfx942"), ("blas", "gfx1100")] {
        bed.s3.put_artifact("therock-ci-artifacts", "7001-linux/", &format!("{name}_lib_{target}.tar.zst"), &simple_artifact(name, target, target), true);
    }
    let names = |o: &std::process::Output| -> Vec<String> {
        let d = stdout_json(o);
        let mut v: Vec<String> = d["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let base = ["fetch", "--repo", THEROCK, "--commit", &c, "--platform", "linux", "--dry-run", "--output-dir", "o", "--json"];
    let o = bed.run(&[&base[..], &["--artifact-group", "generic"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(names(&o), vec!["base_lib_generic.tar.zst"]);
    let o = bed.run(&base).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(names(&o), vec!["base_lib_generic.tar.zst", "blas_lib_gfx1100.tar.zst", "blas_lib_gfx942.tar.zst"], "no group: every archive");
    let o = bed.run(&[&base[..], &["--amdgpu-target", "gfx1100"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(names(&o), vec!["base_lib_generic.tar.zst", "blas_lib_gfx1100.tar.zst"]);
    // Only fetch takes everything: find still needs to know what to look for.
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--platform", "linux"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--artifact-group"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_therock_commit_a_super_repo_run_built_against() {
    let bed = Bed::new().await;
    let c = sha(800);
    let (built, pin) = (sha(801), sha(802));
    mount_commit_runs(&bed.gh, LIB, "therock-ci.yml", &c, &[run_json(&RunSpec::ok(8001, &c, LIB, "therock-ci.yml"))]).await;
    let prefix = "ROCm-rocm-libraries/8001-linux/";
    bed.s3.put_artifact("therock-ci-artifacts-external", prefix, "blas_lib_gfx94X-dcgpu.tar.xz", &simple_artifact("blas", "gfx94X-dcgpu", "x"), true);
    let manifest = json!({"the_rock_commit": built, "submodules": [], "github_run_id": "8001", "rocm_version": "7.11.0"});
    bed.s3.put("therock-ci-artifacts-external", &format!("{prefix}manifests/therock_manifest.json"), manifest.to_string().as_bytes());
    let o = bed.run(&group_args("find", LIB, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["therock_commit"], built);

    // The files pin another commit: baseline says so.
    mount_file(&bed.gh, LIB, ".github/therock_ref.json", &c, None).await;
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(8002, &pin, THEROCK, WF))]).await;
    put_group(&bed, 8002);
    let o = bed.run(&["baseline", "--repo", LIB, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin);
    assert_eq!(d["therock_commit"], built);
    assert!(stderr(&o).contains(&format!("built against TheRock {built}, not the pin {pin}")), "{}", stderr(&o));
}
