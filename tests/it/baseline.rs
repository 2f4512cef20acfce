//! Scenario 2 (`baseline`): TheRock merge-base walks, super-repo pins, local checkouts.

use crate::common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr_branch_walks_past_no_run_and_failed_run() {
    let bed = Bed::new().await;
    let main = history(100, 10);
    let pr_head = sha(9001);
    mount_commit_runs(&bed.gh, THEROCK, WF, &pr_head, &[]).await; // the PR commit has no run yet
    mount_compare(&bed.gh, THEROCK, &pr_head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    // main[0]: no run; main[1]: failed; main[2]: success with the group; a fork PR run whose
    // head branch is also called main must not count.
    let mut fork = main_run(9999, &main, 0, "completed", Some("success"));
    fork.head_repo = Some("someone/TheRock");
    let runs = vec![
        run_json(&fork),
        run_json(&main_run(3001, &main, 1, "completed", Some("failure"))),
        run_json(&main_run(3002, &main, 2, "completed", Some("success"))),
    ];
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs).await;
    bed.s3.put_artifact("therock-ci-artifacts-external", "ROCm-TheRock/9999-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    put_group(&bed, 3002);

    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &pr_head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "found");
    assert_eq!(d["commit"], pr_head);
    assert_eq!(d["baseline_commit"], main[2]);
    assert_eq!(d["reason"], "ancestor");
    assert_eq!(d["distance"], 2);
    assert_eq!(d["therock_ref"], json!(null));
    assert_eq!(d["merge_base"], main[0]);
    assert_eq!(d["results"][0]["workflow_run_id"], "3002");
    let looked: Vec<String> = d["looked_at"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap().to_string()).collect();
    assert_eq!(looked.len(), 3, "{looked:?}");
    assert!(looked[0].contains("no run"), "{looked:?}");
    assert!(looked[1].contains("no run"), "the fork's run does not count: {looked:?}");
    assert!(looked[2].contains("failed"), "{looked:?}");
    let n = request_count(&bed.gh).await;
    assert!(n <= 4, "baseline by commit took {n} requests");

    // The same through --pr: one more request for the pull request.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/pulls/77")))
        .respond_with(ok_json(json!({"number": 77, "state": "open", "head": {"sha": pr_head, "ref": "feature", "repo": {"full_name": "someone/TheRock"}}, "base": {"sha": main[0], "ref": "main", "repo": {"full_name": THEROCK}}})))
        .mount(&bed.gh)
        .await;
    bed.gh.reset().await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pr_head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &pr_head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    mount_branch_runs(&bed.gh, THEROCK, WF, &runs).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/pulls/77")))
        .respond_with(ok_json(json!({"number": 77, "state": "open", "head": {"sha": pr_head, "ref": "feature", "repo": {"full_name": "someone/TheRock"}}, "base": {"sha": main[0], "ref": "main", "repo": {"full_name": THEROCK}}})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--pr", "77", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["baseline_commit"], main[2]);
    let n = request_count(&bed.gh).await;
    assert!(n <= 5, "baseline for a PR took {n} requests (budget 5)");

    // Human output explains the decision.
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &pr_head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("reason: ancestor, distance: 2"), "{text}");
    assert!(text.contains("failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_that_is_its_own_baseline() {
    let bed = Bed::new().await;
    let c = sha(200);
    let mut older_failed = RunSpec::ok(4000, &c, THEROCK, WF);
    older_failed.conclusion = Some("failure");
    older_failed.created_at = "2026-08-01T00:00:00Z".into();
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&older_failed), run_json(&RunSpec::ok(4001, &c, THEROCK, WF))]).await;
    put_group(&bed, 4001);
    put_group(&bed, 4000); // a failed run's partial upload never counts
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["reason"], "exact");
    assert_eq!(d["distance"], 0);
    assert_eq!(d["baseline_commit"], c);
    assert_eq!(d["results"][0]["workflow_run_id"], "4001");
    assert_eq!(request_count(&bed.gh).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retriggered_pair_on_the_baseline_commit_accumulates() {
    let bed = Bed::new().await;
    let main = history(300, 5);
    let head = sha(9300);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    let mut first = main_run(5001, &main, 1, "completed", Some("success"));
    first.created_at = "2026-08-15T20:58:31Z".into();
    let mut second = main_run(5002, &main, 1, "completed", Some("success"));
    second.created_at = "2026-08-15T20:58:50Z".into();
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&second), run_json(&first)]).await;
    // The re-trigger (5002) uploaded gfx94X; the first attempt uploaded gfx110X.
    bed.s3.put_artifact("therock-ci-artifacts", "5002-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    bed.s3.put_artifact("therock-ci-artifacts", "5001-linux/", "blas_lib_gfx1100.tar.zst", b"x", true);
    let o =
        bed.run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "gfx110X-all", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["baseline_commit"], main[1]);
    assert_eq!(d["distance"], 1);
    assert_eq!(d["results"][0]["workflow_run_id"], "5002");
    assert_eq!(d["results"][1]["workflow_run_id"], "5001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocm_libraries_pin_from_ci_env() {
    let bed = Bed::new().await;
    let lib = "ROCm/rocm-libraries";
    let c = sha(600);
    let pin = sha(601);
    mount_file(&bed.gh, lib, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(6001, &pin, THEROCK, WF))]).await;
    put_group(&bed, 6001);
    let o = bed.run(&["baseline", "--repo", lib, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["reason"], "therock-pin");
    assert_eq!(d["therock_ref"], pin);
    assert_eq!(d["baseline_commit"], pin);
    assert_eq!(d["distance"], 0);
    assert_eq!(d["results"][0]["github_repository_name"], THEROCK);
    assert_eq!(d["results"][0]["s3_bucket"], "therock-ci-artifacts", "the pin's artifacts are in TheRock's own bucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocm_libraries_pin_from_january_2026_linux_workflow() {
    let bed = Bed::new().await;
    let lib = "ROCm/rocm-libraries";
    let c = sha(700);
    let pin = sha(701);
    mount_file(&bed.gh, lib, ".github/actions/ci-env/action.yml", &c, None).await;
    // therock-ci.yml exists but its ref is an expression: not a pin.
    mount_file(&bed.gh, lib, ".github/workflows/therock-ci.yml", &c, Some(&checkout_workflow("${{ inputs.therock_ref }}"))).await;
    mount_file(&bed.gh, lib, ".github/workflows/therock-ci-linux.yml", &c, Some(&checkout_workflow(&pin))).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &pin, &[run_json(&RunSpec::ok(7001, &pin, THEROCK, WF))]).await;
    put_group(&bed, 7001);
    let o = bed.run(&["baseline", "--repo", lib, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], pin);
    assert_eq!(d["therock_ref_source"], ".github/workflows/therock-ci-linux.yml");
    assert_eq!(d["reason"], "therock-pin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocm_systems_pin_with_a_cancelled_run_walks_back() {
    let bed = Bed::new().await;
    let sys = "ROCm/rocm-systems";
    let c = sha(800);
    let main = history(810, 6);
    mount_file(&bed.gh, sys, ".github/actions/ci-env/action.yml", &c, Some(&ci_env(&main[0]))).await;
    let cancelled = main_run(8001, &main, 0, "completed", Some("cancelled"));
    mount_commit_runs(&bed.gh, THEROCK, WF, &main[0], &[run_json(&cancelled)]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&cancelled), run_json(&main_run(8002, &main, 1, "completed", Some("success")))]).await;
    put_group(&bed, 8001); // partial uploads of a cancelled run never count
    put_group(&bed, 8002);
    let o = bed.run(&["baseline", "--repo", sys, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_ref"], main[0]);
    assert_eq!(d["baseline_commit"], main[1]);
    assert_eq!(d["reason"], "ancestor");
    assert_eq!(d["distance"], 1);
    assert!(d["looked_at"][0]["reason"].as_str().unwrap().contains("cancelled"), "{}", d["looked_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_checkout_with_an_unpushed_commit() {
    let bed = Bed::new().await;
    let dir = tempfile::tempdir().unwrap();
    let shas = git_repo(dir.path(), "https://github.com/ROCm/TheRock.git", 5); // oldest first
    git(dir.path(), &["update-ref", "refs/remotes/origin/main", &shas[4]]);
    std::fs::write(dir.path().join("local.txt"), "wip").unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "local work"]);
    let local = git(dir.path(), &["rev-parse", "HEAD"]);
    // main's newest commit (shas[4]) has a failed run, shas[3] a successful one.
    fn dated<'a>(id: u64, s: &'a str, concl: &'a str) -> RunSpec<'a> {
        let mut r = RunSpec::ok(id, s, THEROCK, WF);
        r.conclusion = Some(concl);
        r.created_at = "2030-01-01T00:00:00Z".into();
        r
    }
    let (r1, r2) = (dated(9101, &shas[4], "failure"), dated(9102, &shas[3], "success"));
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&r1), run_json(&r2)]).await;
    put_group(&bed, 9102);
    let mut cmd = bed.cmd();
    cmd.current_dir(dir.path()).args(["baseline", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["commit"], local);
    assert_eq!(d["merge_base"], shas[4]);
    assert_eq!(d["baseline_commit"], shas[3]);
    assert_eq!(d["distance"], 1);
    for r in bed.gh.received_requests().await.unwrap() {
        assert!(!r.url.as_str().contains(&local), "a local-only commit was sent to the API: {}", r.url);
    }
    assert_eq!(request_count(&bed.gh).await, 1, "history and merge-base came from git");

    // find on the local-only commit: not found, with a hint, and no API call.
    bed.gh.reset().await;
    let mut cmd = bed.cmd();
    cmd.current_dir(dir.path()).args(["find", "--artifact-group", "gfx94X-dcgpu", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("only in the local checkout"), "{}", stderr(&o));
    assert_eq!(request_count(&bed.gh).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_that_runs_out_of_max_commits() {
    let bed = Bed::new().await;
    let main = history(1200, 8);
    let head = sha(9400);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    mount_compare(&bed.gh, THEROCK, &head, &main[0]).await;
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&main_run(9401, &main, 6, "completed", Some("success")))]).await;
    put_group(&bed, 9401);
    let o = bed
        .run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--max-commits", "4", "--json"])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "not_found");
    assert_eq!(d["baseline_commit"], json!(null));
    assert!(stderr(&o).contains("within 4"), "{}", stderr(&o));
    assert_eq!(d["looked_at"].as_array().unwrap().len(), 5, "the commit itself and 4 walked");
    // With room enough it is found at distance 6.
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &head, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["distance"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_culprit() {
    let bed = Bed::new().await;
    // Unknown pull request.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/pulls/4242")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--pr", "4242", "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("pull request #4242"), "{}", stderr(&o));

    // A commit GitHub does not know.
    let ghost = sha(0xdead);
    mount_commit_runs(&bed.gh, THEROCK, WF, &ghost, &[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/compare/main...{ghost}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits/{ghost}")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"message": "No commit found for SHA"})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &ghost, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(&format!("commit {ghost} is not known")), "{}", stderr(&o));

    // A base branch that does not exist.
    let c = sha(0xbeef);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/compare/release/9.9...{c}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits/{c}")))
        .respond_with(ok_json(commit_json(&c, &[], "2026-08-01T00:00:00Z")))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["baseline", "--repo", THEROCK, "--commit", &c, "--base-branch", "release/9.9", "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("base branch release/9.9"), "{}", stderr(&o));

    // A super-repo commit with no readable pin: says which files were read.
    let lib = "ROCm/rocm-libraries";
    let c2 = sha(0xf00d);
    for f in [".github/actions/ci-env/action.yml", ".github/workflows/therock-ci.yml", ".github/workflows/therock-ci-linux.yml"] {
        mount_file(&bed.gh, lib, f, &c2, None).await;
    }
    let o = bed.run(&["baseline", "--repo", lib, "--commit", &c2, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("no readable TheRock pin") && e.contains("therock-ci-linux.yml"), "{e}");

    // A pin that is not a 40-hex SHA.
    let c3 = sha(0xf00e);
    mount_file(&bed.gh, lib, ".github/actions/ci-env/action.yml", &c3, Some(&ci_env("0123abcd"))).await;
    let o = bed.run(&["baseline", "--repo", lib, "--commit", &c3, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a 40-hex"), "{}", stderr(&o));
}
