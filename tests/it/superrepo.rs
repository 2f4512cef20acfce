//! Issue 22: the super-repos as they build today (the gating multi-arch CI beside the legacy
//! "TheRock CI", the pin of the workflow that ran, pins resolved by time, release branches, the
//! bot's hint) and skipped build jobs. The tests marked `#[ignore]` describe the wiring of phase B
//! and fail on a binary without it.

use crate::common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::Mock;

/// The Quartz notification jobs are skipped on every non-release run (TheRock #7529).
const QUARTZ: &str = "Linux::release / Build Multi-Arch Stages / Quartz - started - build ROCm";

async fn mount_skipped_quartz_jobs(bed: &Bed, run: u64) {
    let jobs = [
        (QUARTZ, "completed", Some("skipped")),
        ("Linux::release / Build Multi-Arch Stages / foundation", "completed", Some("success")),
        ("Linux::release / Build Multi-Arch Stages / math-libs (gfx94X-dcgpu)", "completed", Some("success")),
        ("Linux::release / Test Multi-Arch / rocblas (gfx94X-dcgpu)", "completed", Some("failure")),
        ("Linux::release / Test Multi-Arch / hipblaslt (gfx94X-dcgpu)", "completed", Some("failure")),
    ];
    mount_jobs(&bed.gh, THEROCK, run, &jobs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_quartz_build_job_was_skipped_and_tests_failed_is_taken_by_latest_and_baseline() {
    let bed = Bed::new().await;
    let main = history(2200, 3);
    mount_default_branch_history(&bed.gh, THEROCK, "main", &main).await;
    // main[0]: tests failed, a build job skipped; main[1]: an older successful run to fall back on.
    let runs = [main_run(22000, &main, 0, "completed", Some("failure")), main_run(22001, &main, 1, "completed", Some("success"))];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs.iter().map(run_json).collect::<Vec<_>>()).await;
    put_group(&bed, 22000);
    put_group(&bed, 22001);
    mount_skipped_quartz_jobs(&bed, 22000).await;

    let o = bed.run(&["latest", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["results"][0]["workflow_run_id"], "22000", "a skipped build job is healthy: {d}");
    assert_eq!(d["results"][0]["git_commit_sha"], main[0]);

    // baseline of a PR whose merge-base is main[0].
    let head = sha(9220);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["baseline_commit"], main[0], "{d}");
    assert_eq!(d["distance"], 0);
    assert_eq!(d["results"][0]["workflow_run_id"], "22000");
    let taken = d["looked_at"].as_array().unwrap().iter().find(|l| l["taken"] == true).cloned().unwrap_or_else(|| panic!("{}", d["looked_at"]));
    assert!(taken["reason"].as_str().unwrap().contains("tests failed, builds healthy"), "{taken}");

    // --require-successful-run keeps the strict rule.
    let o = bed.run(&["latest", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json", "--require-successful-run"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["workflow_run_id"], "22001");
}

/// A multi-arch run of a super-repo commit, created at `at`.
fn multi_arch_run<'a>(id: u64, repo: &'a str, c: &'a str, at: &str) -> RunSpec<'a> {
    let mut r = RunSpec::ok(id, c, repo, MULTI_ARCH_WF);
    r.created_at = at.into();
    r.branch = "develop";
    r
}

fn legacy_run<'a>(id: u64, repo: &'a str, c: &'a str, at: &str) -> RunSpec<'a> {
    RunSpec { workflow: LEGACY_WF, ..multi_arch_run(id, repo, c, at) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_on_a_commit_built_only_by_the_multi_arch_ci() {
    let bed = Bed::new().await;
    let c = sha(0x2201);
    mount_super_runs(&bed.gh, SYS, &c, &[multi_arch_run(22101, SYS, &c, "2026-09-20T10:00:00Z")]).await;
    put_super_archives(&bed, SYS, 22101, &["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst", "blas_lib_gfx1250.tar.zst"]);
    let o = bed.run(&["find", "--repo", SYS, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx125X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    for r in d["results"].as_array().unwrap() {
        assert_eq!(r["workflow_file_name"], MULTI_ARCH_WF, "{r}");
        assert_eq!(r["workflow_run_id"], "22101");
        assert_eq!(r["s3_path"], "ROCm-rocm-systems/22101-linux/");
    }
    let n = request_count(&bed.gh).await;
    assert!(n <= 3, "find on a super-repo commit took {n} GitHub requests (budget 3): {:?}", gh_paths(&bed.gh).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_on_a_commit_built_by_both_answers_each_group_from_the_gating_workflow_first() {
    let bed = Bed::new().await;
    let c = sha(0x2202);
    // The legacy run is newer and holds both groups (family-named); the multi-arch run holds
    // gfx94X only (rocm-libraries' multi-arch CI builds gfx94X and gfx950).
    let runs = [legacy_run(22202, LIB, &c, "2026-09-20T12:00:00Z"), multi_arch_run(22201, LIB, &c, "2026-09-20T10:00:00Z")];
    mount_super_runs(&bed.gh, LIB, &c, &runs).await;
    put_super_archives(&bed, LIB, 22201, &["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst", "blas_lib_gfx950.tar.zst"]);
    put_super_archives(&bed, LIB, 22202, &["base_lib_generic.tar.zst", "blas_lib_gfx94X-dcgpu.tar.zst", "blas_lib_gfx125X-dcgpu.tar.zst"]);
    let o = bed.run(&["find", "--repo", LIB, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx125X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    let r = &d["results"];
    assert_eq!(
        (r[0]["artifact_group"].as_str(), r[0]["workflow_file_name"].as_str(), r[0]["workflow_run_id"].as_str()),
        (Some("gfx94X-dcgpu"), Some(MULTI_ARCH_WF), Some("22201")),
        "{d}"
    );
    assert_eq!(
        (r[1]["artifact_group"].as_str(), r[1]["workflow_file_name"].as_str(), r[1]["workflow_run_id"].as_str()),
        (Some("gfx125X-dcgpu"), Some(LEGACY_WF), Some("22202")),
        "{d}"
    );
    let n = request_count(&bed.gh).await;
    assert!(n <= 3, "find on a super-repo commit took {n} GitHub requests (budget 3): {:?}", gh_paths(&bed.gh).await);

    // --workflow names one workflow.
    let o = bed
        .run(&[
            "find",
            "--repo",
            LIB,
            "--commit",
            &c,
            "--artifact-group",
            "gfx94X-dcgpu",
            "gfx125X-dcgpu",
            "--platform",
            "linux",
            "--workflow",
            LEGACY_WF,
            "--json",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert!(d["results"].as_array().unwrap().iter().all(|r| r["workflow_run_id"] == "22202"), "{d}");
    let o = bed
        .run(&["find", "--repo", LIB, "--commit", &c, "--artifact-group", "gfx125X-dcgpu", "--platform", "linux", "--workflow", MULTI_ARCH_WF, "--json"])
        .await;
    assert_eq!(code(&o), 1, "the multi-arch run holds no gfx125X: {}", stderr(&o));
}

/// TheRock runs holding gfx94X-dcgpu for each of `pins` (run ids from `first`).
async fn therock_runs_for(bed: &Bed, pins: &[&str], first: u64) {
    for (i, p) in pins.iter().enumerate() {
        let id = first + i as u64;
        mount_commit_runs(&bed.gh, THEROCK, WF, p, &[run_json(&RunSpec::ok(id, p, THEROCK, WF))]).await;
        put_group(bed, id);
    }
}

fn baseline_args<'a>(repo: &'a str, c: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["baseline", "--repo", repo, "--commit", c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"];
    v.extend_from_slice(extra);
    v
}

async fn assert_baseline_budget(bed: &Bed) {
    let n = request_count(&bed.gh).await;
    assert!(n <= 7, "baseline on a super-repo commit took {n} GitHub requests (budget 7): {:?}", gh_paths(&bed.gh).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_on_rocm_libraries_reads_the_multi_arch_workflows_own_pin() {
    let bed = Bed::new().await;
    let c = sha(0x2203);
    let (stale, pin) = (sha(0x2213), sha(0x2223));
    mount_super_runs(&bed.gh, LIB, &c, &[multi_arch_run(22301, LIB, &c, "2026-09-20T10:00:00Z")]).await;
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&stale))).await;
    mount_file(&bed.gh, LIB, ".github/workflows/therock-multi-arch-ci.yml", &c, Some(&multi_arch_workflow(&pin))).await;
    therock_runs_for(&bed, &[&stale, &pin], 22310).await;
    let o = bed.run(&baseline_args(LIB, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin, "the gating CI's pin, not ci-env's: {d}");
    assert_eq!(d["therock_ref_source"], ".github/workflows/therock-multi-arch-ci.yml");
    assert_eq!(d["therock_ref_line"], 9);
    assert_eq!(d["pin_source"], ".github/workflows/therock-multi-arch-ci.yml:9");
    assert_eq!(d["therock_ref_workflow"], MULTI_ARCH_WF);
    assert_eq!(d["therock_ref_resolved_by_time"], json!(null));
    assert_eq!(d["baseline_commit"], pin);
    assert_eq!(d["reason"], "therock-pin");
    assert_eq!(d["results"][0]["github_repository_name"], THEROCK);
    assert_eq!(d["results"][0]["workflow_file_name"], WF, "the TheRock walk keeps TheRock's own workflow");
    assert_baseline_budget(&bed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_on_rocm_libraries_multi_arch_on_main_resolves_the_pin_by_time() {
    let bed = Bed::new().await;
    let c = sha(0x2204);
    let (stale, then) = (sha(0x2214), sha(0x2224));
    let committed = "2026-09-20T09:30:00Z";
    mount_super_runs(&bed.gh, LIB, &c, &[multi_arch_run(22401, LIB, &c, "2026-09-20T10:00:00Z")]).await;
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&stale))).await;
    mount_file(&bed.gh, LIB, ".github/workflows/therock-multi-arch-ci.yml", &c, Some(&multi_arch_workflow("main"))).await;
    mount_commit(&bed.gh, LIB, &c, committed).await;
    // TheRock main at the commit's committer time (a newer commit exists but came after).
    mount_commits_until(&bed.gh, THEROCK, "main", committed, &[(&then, "2026-09-20T08:00:00Z")]).await;
    therock_runs_for(&bed, &[&stale, &then], 22410).await;
    let o = bed.run(&baseline_args(LIB, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], then, "{d}");
    assert_eq!(d["therock_ref_source"], ".github/workflows/therock-multi-arch-ci.yml");
    assert_eq!(d["therock_ref_line"], 9);
    assert_eq!(d["therock_ref_workflow"], MULTI_ARCH_WF);
    let t = &d["therock_ref_resolved_by_time"];
    assert_eq!(t["branch"], "main", "{t}");
    assert_eq!(t["basis"], "commit", "{t}");
    assert_eq!(t["basis_commit"], c, "{t}");
    assert_eq!(t["timestamp"], committed, "{t}");
    assert_eq!(d["baseline_commit"], then);
    assert!(stderr(&o).contains("resolved by time"), "the human line says so: {}", stderr(&o));
    assert_baseline_budget(&bed).await;
}

/// A rocm-systems commit built by both workflows, whose legacy pin (ci-env) drifted from the
/// multi-arch one (therock_ref.json and the setup wrapper); TheRock runs for both pins.
async fn mount_drifted_systems(bed: &Bed, c: &str, legacy_pin: &str, multi_pin: &str) {
    let runs = [legacy_run(22502, SYS, c, "2026-09-20T12:00:00Z"), multi_arch_run(22501, SYS, c, "2026-09-20T10:00:00Z")];
    mount_super_runs(&bed.gh, SYS, c, &runs).await;
    mount_file(&bed.gh, SYS, ".github/therock_ref.json", c, Some(&therock_ref_json(multi_pin))).await;
    mount_file(&bed.gh, SYS, ".github/workflows/_therock_setup_multi_arch.yml", c, Some(&therock_wrapper("setup_multi_arch.yml", multi_pin))).await;
    mount_file(&bed.gh, SYS, ".github/actions/ci-env/action.yml", c, Some(&ci_env(legacy_pin))).await;
    therock_runs_for(bed, &[legacy_pin, multi_pin], 22510).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_on_rocm_systems_reads_the_pin_of_the_workflow_asked_for() {
    let bed = Bed::new().await;
    let c = sha(0x2205);
    // rocm-systems #11134: ci-env's pin (legacy CI) drifted from the multi-arch one.
    let (legacy_pin, multi_pin) = (sha(0x2215), sha(0x2225));
    mount_drifted_systems(&bed, &c, &legacy_pin, &multi_pin).await;

    // --workflow therock-ci.yml: the legacy CI's pin, from ci-env.
    let o = bed.run(&baseline_args(SYS, &c, &["--workflow", LEGACY_WF])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], legacy_pin, "{d}");
    assert_eq!(d["therock_ref_source"], ".github/actions/ci-env/action.yml");
    assert_eq!(d["therock_ref_workflow"], LEGACY_WF);
    assert_eq!(d["results"][0]["workflow_file_name"], WF, "--workflow picks the super-repo workflow; TheRock's walk keeps its own");
    assert_baseline_budget(&bed).await;

    // Without --workflow: the gating multi-arch CI's pin, from therock_ref.json.
    bed.gh.reset().await;
    mount_drifted_systems(&bed, &c, &legacy_pin, &multi_pin).await;
    let o = bed.run(&baseline_args(SYS, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], multi_pin, "{d}");
    assert_eq!(d["therock_ref_source"], ".github/therock_ref.json");
    assert_eq!(d["therock_ref_line"], 2);
    assert_eq!(d["therock_ref_workflow"], MULTI_ARCH_WF);
    assert_baseline_budget(&bed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_on_a_rocm_systems_release_branch_builds_against_therocks_namesake() {
    let bed = Bed::new().await;
    let c = sha(0x2206);
    let (develop_pin, release_tip) = (sha(0x2216), sha(0x2226));
    let branch = "release/therock-7.10";
    let committed = "2026-09-21T06:00:00Z";
    let mut run = legacy_run(22601, SYS, &c, "2026-09-21T06:10:00Z");
    run.branch = branch;
    mount_super_runs(&bed.gh, SYS, &c, &[run]).await;
    mount_file(&bed.gh, SYS, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&develop_pin))).await;
    mount_commit(&bed.gh, SYS, &c, committed).await;
    mount_commits_until(&bed.gh, THEROCK, branch, committed, &[(&release_tip, "2026-09-20T23:00:00Z")]).await;
    therock_runs_for(&bed, &[&develop_pin, &release_tip], 22610).await;
    // The branch from the commit's runs' head_branch, and from --base-branch.
    for extra in [&[][..], &["--base-branch", branch][..]] {
        let o = bed.run(&baseline_args(SYS, &c, extra)).await;
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
        let d = stdout_json(&o);
        assert_eq!(d["therock_ref"], release_tip, "{extra:?}: {d}");
        assert_eq!(d["therock_ref_workflow"], LEGACY_WF);
        let t = &d["therock_ref_resolved_by_time"];
        assert_eq!((t["branch"].as_str(), t["basis"].as_str(), t["timestamp"].as_str()), (Some(branch), Some("commit"), Some(committed)), "{t}");
        assert_eq!(d["baseline_commit"], release_tip);
    }
    assert!(request_count(&bed.gh).await <= 14, "{:?}", gh_paths(&bed.gh).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_baseline_hint_is_reported_with_whether_its_run_built_the_pin() {
    let bed = Bed::new().await;
    let pin = sha(0x2217);
    let other = sha(0x2227);
    // The hint runs: 22720 built the pin, 22721 another TheRock commit.
    for (n, hint, verdict, run_commit) in [(0x2207u32, "22720", "matches", &pin), (0x2208, "22721", "differs", &other)] {
        let c = sha(n);
        bed.gh.reset().await;
        mount_super_runs(&bed.gh, LIB, &c, &[legacy_run(22700 + u64::from(n % 16), LIB, &c, "2026-09-20T10:00:00Z")]).await;
        mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env_hint(&pin, hint))).await;
        therock_runs_for(&bed, &[&pin], 22710).await;
        mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(22720, &pin, THEROCK, WF))).await;
        mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(22721, &other, THEROCK, WF))).await;
        let o = bed.run(&baseline_args(LIB, &c, &[])).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let d = stdout_json(&o);
        assert_eq!(d["therock_ref"], pin);
        assert_eq!(d["baseline_run_id_hint"], hint.parse::<u64>().unwrap());
        let h = &d["baseline_hint"];
        assert_eq!(h["run_id"], hint.parse::<u64>().unwrap(), "{d}");
        assert_eq!(h["verdict"], verdict, "{h}");
        assert_eq!(&h["run_commit"], &json!(run_commit), "{h}");
        assert_eq!(d["baseline_commit"], pin, "the hint never replaces the pin's own answer");
        assert_baseline_budget(&bed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_arch_pins_that_disagree_are_said_and_bad_workflow_files_are_named() {
    let bed = Bed::new().await;
    let stale = sha(0x2219);
    let (setup_pin, linux_pin) = (sha(0x2229), sha(0x2239));
    therock_runs_for(&bed, &[&stale, &setup_pin, &linux_pin], 22910).await;
    // The setup call (line 9) and the linux call (line 14) disagree: the setup one resolved the run.
    let c = sha(0x2209);
    let text = multi_arch_workflow(&setup_pin).replace(&format!("multi_arch_ci_linux.yml@{setup_pin}"), &format!("multi_arch_ci_linux.yml@{linux_pin}"));
    mount_super_runs(&bed.gh, LIB, &c, &[multi_arch_run(22901, LIB, &c, "2026-09-20T10:00:00Z")]).await;
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&stale))).await;
    mount_file(&bed.gh, LIB, ".github/workflows/therock-multi-arch-ci.yml", &c, Some(&text)).await;
    let o = bed.run(&baseline_args(LIB, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], setup_pin, "{d}");
    assert_eq!(d["therock_ref_line"], 9);
    let e = stderr(&o);
    assert!(e.contains("therock-multi-arch-ci.yml:9") && e.contains("therock-multi-arch-ci.yml:14") && e.contains(&linux_pin), "{e}");
    assert!(d["therock_ref_warnings"].to_string().contains("therock-multi-arch-ci.yml:14"), "{d}");

    // A gating workflow that is not YAML, or calls another owner's workflows: one sentence
    // naming the file and line, never ci-env's stale pin in silence.
    for (n, text, says) in [
        (0x220a_u32, "jobs: [unclosed\n  setup: {\n".to_string(), "not a YAML workflow"),
        (
            0x220b,
            multi_arch_workflow(&setup_pin).replace("uses: ROCm/TheRock/.github/workflows/setup", "uses: someone/TheRock/.github/workflows/setup"),
            "expected ROCm/TheRock",
        ),
    ] {
        let c = sha(n);
        mount_super_runs(&bed.gh, LIB, &c, &[multi_arch_run(22900 + u64::from(n % 16), LIB, &c, "2026-09-20T10:00:00Z")]).await;
        mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&stale))).await;
        mount_file(&bed.gh, LIB, ".github/workflows/therock-multi-arch-ci.yml", &c, Some(&text)).await;
        let o = bed.run(&baseline_args(LIB, &c, &[])).await;
        assert_eq!(code(&o), 2, "{says}: {}", String::from_utf8_lossy(&o.stdout));
        let e = stderr(&o);
        assert!(e.contains(".github/workflows/therock-multi-arch-ci.yml") && e.contains(says), "{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_walks_back_from_a_ref_resolved_once_and_judges_a_run_id_alone() {
    let bed = Bed::new().await;
    let main = history(2300, 3);
    // main[0] is newer and complete, but --ref main[1] starts below it; main[1] has no run.
    mount_history(&bed.gh, THEROCK, &main, 1).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &main[1], &[]).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &main[2], &[run_json(&main_run(23002, &main, 2, "completed", Some("success")))]).await;
    put_group(&bed, 23002);
    let o = bed.run(&["latest", "--repo", THEROCK, "--ref", &main[1], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["results"][0]["git_commit_sha"], main[2], "{d}");
    assert_eq!(d["results"][0]["workflow_run_id"], "23002");

    // --run-id: that run's commit when the run alone holds every group, else a sentence why.
    mount_run(&bed.gh, THEROCK, &run_json(&main_run(23002, &main, 2, "completed", Some("success")))).await;
    mount_run(&bed.gh, THEROCK, &run_json(&main_run(23000, &main, 0, "completed", Some("cancelled")))).await;
    put_group(&bed, 23000);
    let o = bed.run(&["latest", "--repo", THEROCK, "--run-id", "23002", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["git_commit_sha"], main[2]);
    let o = bed.run(&["latest", "--repo", THEROCK, "--run-id", "23000", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 1, "a cancelled run never counts: {}", stderr(&o));
    assert!(stdout_json(&o)["message"].as_str().unwrap_or("").contains("cancelled"), "{}", String::from_utf8_lossy(&o.stdout));

    // --help says what counts today (healthy builds), not the stale "successful runs".
    let o = bed.run(&["latest", "--help"]).await;
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(help.contains("healthy builds") && help.contains("--ref") && help.contains("--run-id"), "{help}");
    assert!(!help.contains("whose successful runs hold"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_candidate_names_the_exact_archives_each_missing_group_lacked() {
    let bed = Bed::new().await;
    let c = sha(0x2271);
    let pin = sha(0x2272);
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(22720, &pin, THEROCK, WF))]).await;
    mount_history(&bed.gh, THEROCK, std::slice::from_ref(&pin), 0).await;
    put_group(&bed, 22720); // base_lib_generic, blas_lib_gfx942
    let o = bed.run(&["baseline", "--repo", LIB, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx125X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    let l = &d["looked_at"][0];
    assert_eq!(l["kind"], "group-missing", "{l}");
    assert_eq!(l["missing"], json!([{"group": "gfx125X-dcgpu", "lacks": ["blas_lib_gfx125X-dcgpu"]}]), "{l}");
    assert!(l["reason"].as_str().unwrap().contains("group gfx125X-dcgpu missing (lacks blas_lib_gfx125X-dcgpu)"), "{l}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_on_main_resolves_the_pin_at_its_merge_bases_committer_time() {
    let bed = Bed::new().await;
    let (head, base) = (sha(0x2281), sha(0x2282));
    let (then, merge_base_time) = (sha(0x2283), "2026-09-19T07:00:00Z");
    let pull = json!({"number": 88, "state": "open", "head": {"sha": head, "ref": "feature", "repo": {"full_name": LIB}}, "base": {"sha": base, "ref": "develop", "repo": {"full_name": LIB}}});
    Mock::given(method("GET")).and(path(format!("/repos/{LIB}/pulls/88"))).respond_with(ok_json(pull)).mount(&bed.gh).await;
    let compare = json!({"status": "ahead", "ahead_by": 1, "behind_by": 0, "merge_base_commit": commit_json(&base, &[], merge_base_time), "commits": []});
    Mock::given(method("GET")).and(path(format!("/repos/{LIB}/compare/develop...{head}"))).respond_with(ok_json(compare)).mount(&bed.gh).await;
    mount_super_runs(&bed.gh, LIB, &head, &[multi_arch_run(22801, LIB, &head, "2026-09-20T10:00:00Z")]).await;
    let text = multi_arch_workflow("${{ inputs.therock_ref || needs.resolve_therock_ref.outputs.therock_ref }}");
    mount_file(&bed.gh, LIB, ".github/workflows/therock-multi-arch-ci.yml", &head, Some(&text)).await;
    mount_commits_until(&bed.gh, THEROCK, "main", merge_base_time, &[(&then, "2026-09-19T06:00:00Z")]).await;
    therock_runs_for(&bed, &[&then], 22810).await;
    let o = bed.run(&["baseline", "--repo", LIB, "--pr", "88", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], then, "{d}");
    let t = &d["therock_ref_resolved_by_time"];
    assert_eq!(
        (t["basis"].as_str(), t["basis_commit"].as_str(), t["timestamp"].as_str()),
        (Some("merge_base"), Some(base.as_str()), Some(merge_base_time)),
        "{t}"
    );
    assert_eq!(d["baseline_commit"], then);
    assert_baseline_budget(&bed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_therock_ref_json_without_ref_is_said_and_the_wrappers_pin() {
    let bed = Bed::new().await;
    let c = sha(0x2291);
    let pin = sha(0x2292);
    mount_super_runs(&bed.gh, SYS, &c, &[multi_arch_run(22901, SYS, &c, "2026-09-20T10:00:00Z")]).await;
    mount_file(&bed.gh, SYS, ".github/therock_ref.json", &c, Some("{\n  \"commit_date\": \"2026-09-18T07:13:59Z\"\n}\n")).await;
    mount_file(&bed.gh, SYS, ".github/workflows/_therock_setup_multi_arch.yml", &c, Some(&therock_wrapper("setup_multi_arch.yml", &pin))).await;
    for w in ["_therock_multi_arch_ci_linux.yml", "_therock_multi_arch_ci_windows.yml"] {
        mount_file(&bed.gh, SYS, &format!(".github/workflows/{w}"), &c, None).await;
    }
    therock_runs_for(&bed, &[&pin], 22920).await;
    let o = bed.run(&baseline_args(SYS, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin, "{d}");
    assert_eq!(d["pin_source"], ".github/workflows/_therock_setup_multi_arch.yml:7");
    assert!(stderr(&o).contains(".github/therock_ref.json:1: no \"ref\""), "{}", stderr(&o));
    assert!(d["therock_ref_warnings"].to_string().contains("therock_ref.json"), "{d}");
    assert_baseline_budget(&bed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_therock_walk_of_a_super_repo_pin_takes_therock_workflow() {
    let bed = Bed::new().await;
    let c = sha(0x22a1);
    let pin = sha(0x22a2);
    mount_super_runs(&bed.gh, LIB, &c, &[legacy_run(22_951, LIB, &c, "2026-09-20T10:00:00Z")]).await;
    mount_file(&bed.gh, LIB, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, "ci.yml", &pin, &[run_json(&RunSpec::ok(22_960, &pin, THEROCK, "ci.yml"))]).await;
    put_group(&bed, 22_960);
    let o = bed.run(&baseline_args(LIB, &c, &["--workflow", LEGACY_WF, "--therock-workflow", "ci.yml"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin, "{d}");
    assert_eq!(d["therock_ref_workflow"], LEGACY_WF);
    assert_eq!(d["results"][0]["workflow_file_name"], "ci.yml", "{d}");
    assert_eq!(d["results"][0]["workflow_run_id"], "22960", "{d}");
}
