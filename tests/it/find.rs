//! Scenario 1 (`find`, `latest`) end to end: the real binary against a real S3 server and a
//! GitHub stand-in.

use crate::common::*;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const RESULT_KEYS: &[&str] = &[
    "git_commit_sha",
    "git_commit_url",
    "github_repository_name",
    "external_repo",
    "platform",
    "artifact_group",
    "amdgpu_targets",
    "workflow_file_name",
    "workflow_run_id",
    "workflow_run_status",
    "workflow_run_conclusion",
    "workflow_run_html_url",
    "s3_bucket",
    "s3_path",
    "s3_uri",
    "s3_index_url",
    "artifact_filenames",
    "required_artifact_patterns",
    "missing_required_artifact_patterns",
];

/// A realistic TheRock run: generic archives, a gfx942 set, sidecars, an index and log noise.
fn load_therock_run(bed: &Bed, bucket: &str, prefix: &str) {
    for (f, t) in [
        ("base_lib_generic.tar.zst", "generic"),
        ("amd-llvm_lib_generic.tar.zst", "generic"),
        ("blas_lib_gfx942.tar.zst", "gfx942"),
        ("blas_dev_gfx942.tar.zst", "gfx942"),
        ("blas_lib_gfx1151.tar.zst", "gfx1151"),
    ] {
        let name = f.split('_').next().unwrap();
        bed.s3.put_artifact(bucket, prefix, f, &simple_artifact(name, t, f), true);
    }
    bed.s3.put(bucket, &format!("{prefix}index.html"), b"<html></html>");
    bed.s3.put(bucket, &format!("{prefix}logs/blas_build_gfx942.tar.zst"), b"not an artifact");
    bed.s3.put(bucket, &format!("{prefix}manifests/therock_manifest.json"), b"{}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_commit_with_one_successful_run() {
    let bed = Bed::new().await;
    let c = sha(1);
    let run = run_json(&RunSpec::ok(20083647898, &c, THEROCK, WF));
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run]).await;
    load_therock_run(&bed, "therock-ci-artifacts", "20083647898-linux/");

    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["status"], "found");
    let r = &doc["results"][0];
    for k in RESULT_KEYS {
        assert!(r.get(*k).is_some(), "result lacks key {k}");
    }
    assert_eq!(r["s3_bucket"], "therock-ci-artifacts");
    assert_eq!(r["external_repo"], "");
    assert_eq!(r["s3_path"], "20083647898-linux/");
    assert_eq!(r["s3_uri"], "s3://therock-ci-artifacts/20083647898-linux/");
    assert_eq!(r["s3_index_url"], "https://therock-ci-artifacts.s3.amazonaws.com/20083647898-linux/index.html");
    assert_eq!(r["workflow_run_id"], "20083647898");
    assert_eq!(r["workflow_file_name"], WF);
    assert_eq!(r["amdgpu_targets"], json!(["gfx942"]));
    assert_eq!(
        r["artifact_filenames"],
        json!(["amd-llvm_lib_generic.tar.zst", "base_lib_generic.tar.zst", "blas_dev_gfx942.tar.zst", "blas_lib_gfx942.tar.zst"]),
        "generic + gfx942 archives only; no sidecars, no logs/"
    );
    assert_eq!(r["git_commit_url"], format!("https://github.com/ROCm/TheRock/commit/{c}"));
    // Budget: one runs query.
    assert!(request_count(&bed.gh).await <= 2);
    // The run prefix was listed once, with the delimiter.
    let lists: Vec<String> = bed.s3.requests().into_iter().filter(|r| r.contains("list-type=2")).collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert!(lists[0].contains("delimiter=%2F"), "{lists:?}");

    // Human output, same answer.
    let o = bed.run(&group_args("find", THEROCK, &c, &[])).await;
    assert_eq!(code(&o), 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("s3://therock-ci-artifacts/20083647898-linux/"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_without_runs_is_not_found() {
    let bed = Bed::new().await;
    let c = sha(2);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[]).await;
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--json"]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["status"], "not_found");
    assert_eq!(doc["results"], json!([]));
    assert!(stderr(&o).contains(&c), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_only_run_is_not_found() {
    let bed = Bed::new().await;
    let c = sha(3);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(301, &c, THEROCK, WF))]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "301-linux/", "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "x"), true);
    bed.s3.put_artifact("therock-ci-artifacts", "301-linux/", "blas_lib_gfx1151.tar.zst", &simple_artifact("blas", "gfx1151", "x"), true);
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["status"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retriggered_runs_accumulate_groups_unless_single_run() {
    let bed = Bed::new().await;
    let c = sha(4);
    let mut newer = RunSpec::ok(402, &c, THEROCK, WF);
    newer.created_at = "2026-08-02T10:00:00Z".into();
    let mut older = RunSpec::ok(401, &c, THEROCK, WF);
    older.created_at = "2026-08-01T10:00:00Z".into();
    // GitHub's order is not trusted: the older run comes first here.
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&older), run_json(&newer)]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "402-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "new"), true);
    bed.s3.put_artifact("therock-ci-artifacts", "401-linux/", "blas_lib_gfx1100.tar.zst", &simple_artifact("blas", "gfx1100", "old"), true);

    let args = ["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx110X-all", "--platform", "linux", "--json"];
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["results"][0]["artifact_group"], "gfx94X-dcgpu");
    assert_eq!(doc["results"][0]["workflow_run_id"], "402", "the newer run wins for a group it holds");
    assert_eq!(doc["results"][1]["artifact_group"], "gfx110X-all");
    assert_eq!(doc["results"][1]["workflow_run_id"], "401");

    let mut single = args.to_vec();
    single.push("--require-single-run");
    let o = bed.run(&single).await;
    assert_eq!(code(&o), 1, "no single run holds both groups: {}", stderr(&o));
    // Once one run holds both, --require-single-run finds it.
    bed.s3.put_artifact("therock-ci-artifacts", "401-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "old"), true);
    let o = bed.run(&single).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    assert_eq!(doc["results"][0]["workflow_run_id"], "401");
    assert_eq!(doc["results"][1]["workflow_run_id"], "401");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_successful_run_and_require_artifact() {
    let bed = Bed::new().await;
    let c = sha(5);
    let mut running = RunSpec::ok(501, &c, THEROCK, WF);
    running.status = "in_progress";
    running.conclusion = None;
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&running)]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "501-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "x"), true);

    let base = group_args("find", THEROCK, &c, &["--json"]);
    let o = bed.run(&base).await;
    assert_eq!(code(&o), 0, "any status counts by default");
    assert_eq!(stdout_json(&o)["results"][0]["workflow_run_status"], "in_progress");

    let mut a = base.to_vec();
    a.push("--require-successful-run");
    let o = bed.run(&a).await;
    assert_eq!(code(&o), 1);

    let mut a = base.to_vec();
    a.extend(["--require-artifact", "^blas_lib_", "--require-artifact", "^amd-llvm_"]);
    let o = bed.run(&a).await;
    assert_eq!(code(&o), 1, "amd-llvm is missing");
    let doc = stdout_json(&o);
    assert_eq!(doc["results"][0]["missing_required_artifact_patterns"], json!(["^amd-llvm_"]));
    assert_eq!(doc["results"][0]["required_artifact_patterns"], json!(["^blas_lib_", "^amd-llvm_"]));
    bed.s3.put_artifact("therock-ci-artifacts", "501-linux/", "amd-llvm_lib_generic.tar.zst", &simple_artifact("amd-llvm", "generic", "x"), true);
    let o = bed.run(&a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["missing_required_artifact_patterns"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_pr_run_uses_the_external_bucket_and_the_base_repo_prefix() {
    let bed = Bed::new().await;
    let c = sha(6);
    let mut r = RunSpec::ok(20384488184, &c, THEROCK, WF);
    r.head_repo = Some("contributor/TheRock");
    r.event = "pull_request";
    r.branch = "my-feature";
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&r)]).await;
    bed.s3.put_artifact(
        "therock-ci-artifacts-external",
        "ROCm-TheRock/20384488184-windows/",
        "blas_lib_gfx1151.tar.zst",
        &simple_artifact("blas", "gfx1151", "x"),
        true,
    );
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx1151", "--platform", "windows", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["s3_bucket"], "therock-ci-artifacts-external");
    assert_eq!(r["external_repo"], "ROCm-TheRock/");
    assert_eq!(r["s3_path"], "ROCm-TheRock/20384488184-windows/");
    assert_eq!(r["platform"], "windows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocm_libraries_run_with_family_suffixed_xz() {
    let bed = Bed::new().await;
    let repo = "ROCm/rocm-libraries";
    let c = sha(7);
    mount_commit_runs(&bed.gh, repo, "therock-ci.yml", &c, &[run_json(&RunSpec::ok(21365647639, &c, repo, "therock-ci.yml"))]).await;
    let p = "ROCm-rocm-libraries/21365647639-linux/";
    let tb = tar_bytes(&["math-libs/BLAS/rocBLAS/stage"], &[Member::File("math-libs/BLAS/rocBLAS/stage/lib/librocblas.so", b"ELF", 0o755)]);
    bed.s3.put_artifact("therock-ci-artifacts-external", p, "rocBLAS_lib_gfx94X-dcgpu.tar.xz", &xz(&tb), true);
    bed.s3.put_artifact("therock-ci-artifacts-external", p, "rocBLAS_lib_gfx110X-all.tar.xz", &xz(&tb), true);
    let o = bed.run(&group_args("find", repo, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["s3_bucket"], "therock-ci-artifacts-external");
    assert_eq!(r["s3_path"], p);
    assert_eq!(r["workflow_file_name"], "therock-ci.yml");
    assert_eq!(r["artifact_filenames"], json!(["rocBLAS_lib_gfx94X-dcgpu.tar.xz"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn january_2026_ci_yml_layout_and_zst_preference() {
    let bed = Bed::new().await;
    let c = sha(8);
    mount_commit_runs(&bed.gh, THEROCK, "ci.yml", &c, &[run_json(&RunSpec::ok(801, &c, THEROCK, "ci.yml"))]).await;
    let p = "801-linux/";
    for f in ["core-runtime_lib_gfx94X-dcgpu.tar.xz", "core-runtime_lib_gfx94X-dcgpu.tar.zst", "base_lib_generic.tar.xz"] {
        bed.s3.put_artifact("therock-ci-artifacts", p, f, b"x", true);
    }
    bed.s3.put("therock-ci-artifacts", &format!("{p}index-gfx94X-dcgpu.html"), b"<html/>");
    let o = bed
        .run(&["find", "--repo", THEROCK, "--workflow", "ci.yml", "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["artifact_filenames"], json!(["base_lib_generic.tar.xz", "core-runtime_lib_gfx94X-dcgpu.tar.zst"]));
    assert_eq!(r["workflow_file_name"], "ci.yml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_thousand_objects_are_paginated() {
    let bed = Bed::new().await;
    let c = sha(9);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(901, &c, THEROCK, WF))]).await;
    // 1,150 generic archives and sidecars sort before the one gfx942 archive ("zz" name).
    for i in 0..575 {
        bed.s3.put_artifact("therock-ci-artifacts", "901-linux/", &format!("a{i:04}_lib_generic.tar.zst"), b"x", true);
    }
    bed.s3.put_artifact("therock-ci-artifacts", "901-linux/", "zz_lib_gfx942.tar.zst", b"x", true);
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files = stdout_json(&o)["results"][0]["artifact_filenames"].as_array().unwrap().len();
    assert_eq!(files, 576);
    let lists = bed.s3.requests().into_iter().filter(|r| r.contains("list-type=2")).count();
    assert_eq!(lists, 2, "two ListObjectsV2 pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_hundred_runs_are_paginated() {
    let bed = Bed::new().await;
    let c = sha(10);
    let repo_path = format!("/repos/{THEROCK}/actions/workflows/{WF}/runs");
    let mut all = Vec::new();
    for i in 0..130u64 {
        let mut r = RunSpec::ok(10_000 + i, &c, THEROCK, WF);
        r.created_at = format!("2026-08-10T{:02}:{:02}:00Z", 23 - i / 60, 59 - i % 60);
        all.push(run_json(&r));
    }
    let next = format!("{}{}?head_sha={c}&per_page=100&page=2", bed.gh.uri(), repo_path);
    Mock::given(method("GET"))
        .and(path(repo_path.clone()))
        .and(query_param("page", "2"))
        .respond_with(ok_json(runs_page(&all[100..], 130)))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(repo_path.clone()))
        .and(query_param("head_sha", c.as_str()))
        .respond_with(ok_json(runs_page(&all[..100], 130)).insert_header("link", format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\"").as_str()))
        .with_priority(10)
        .mount(&bed.gh)
        .await;
    // Only the oldest run (page 2) uploaded the group.
    bed.s3.put_artifact("therock-ci-artifacts", "10129-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["workflow_run_id"], "10129");
    assert_eq!(request_count(&bed.gh).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_id_lookup() {
    let bed = Bed::new().await;
    let c = sha(11);
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(1101, &c, THEROCK, WF))).await;
    bed.s3.put_artifact("therock-ci-artifacts", "1101-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    let o = bed.run(&["find", "--repo", THEROCK, "--run-id", "1101", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"][0]["git_commit_sha"], c);
    let o = bed.run(&["find", "--repo", THEROCK, "--run-id", "999", "--artifact-group", "gfx94X-dcgpu", "--json"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("run 999"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_rate_limits_are_retried() {
    let bed = Bed::new().await;
    let c = sha(12);
    let p = format!("/repos/{THEROCK}/actions/workflows/{WF}/runs");
    let body = runs_page(&[run_json(&RunSpec::ok(1201, &c, THEROCK, WF))], 1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // 502, then a primary rate limit resetting now, then a secondary one, then the answer.
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest"}))
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-limit", "1000")
                .insert_header("x-ratelimit-reset", now.to_string().as_str()),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"message": "secondary rate limit"})).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(3)
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET")).and(path(p.clone())).respond_with(ok_json(body)).with_priority(4).mount(&bed.gh).await;
    bed.s3.put_artifact("therock-ci-artifacts", "1201-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(request_count(&bed.gh).await, 4);
    // Every request carried the API headers and the token.
    for r in bed.gh.received_requests().await.unwrap() {
        assert_eq!(r.headers.get("accept").unwrap(), "application/vnd.github+json");
        assert_eq!(r.headers.get("x-github-api-version").unwrap(), "2022-11-28");
        assert!(r.headers.get("authorization").unwrap().to_str().unwrap().contains(TOKEN));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_rate_limit_reset_fails_with_a_clear_message() {
    let bed = Bed::new().await;
    let c = sha(13);
    let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3000;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "API rate limit exceeded"}))
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        )
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--json"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("rate limit"), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["status"], "error");
    assert_eq!(request_count(&bed.gh).await, 1, "no pointless retries against a far reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_5xx_and_unreachable_github_fail_after_retries() {
    let bed = Bed::new().await;
    let c = sha(14);
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).mount(&bed.gh).await;
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("after 5 attempts"), "{}", stderr(&o));
    assert_eq!(request_count(&bed.gh).await, 5);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cmd = bed.cmd();
    cmd.env("GITHUB_API_URL", format!("http://127.0.0.1:{port}")).args(["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("GitHub API failed"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_404s_name_the_culprit() {
    let bed = Bed::new().await;
    let c = sha(15);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"workflow_runs\": ["))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("malformed JSON"), "{}", stderr(&o));

    // Unknown workflow in a known repository.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}")))
        .respond_with(ok_json(json!({"full_name": THEROCK, "default_branch": "main"})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&["find", "--repo", THEROCK, "--workflow", "nope.yml", "--commit", &c, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("workflow file 'nope.yml'"), "{}", stderr(&o));
    // Unknown repository.
    let o = bed.run(&["find", "--repo", "ROCm/NoSuchRepo", "--commit", &c, "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("repository ROCm/NoSuchRepo"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_access_denied_is_an_error_not_not_found() {
    let mut bed = Bed::new().await;
    bed.s3 = S3Server::start_with_auth(Some(("AKIDEXAMPLE", "secretsecretsecret")));
    bed.s3.bucket("therock-ci-artifacts");
    let c = sha(16);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(1601, &c, THEROCK, WF))]).await;
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("denied"), "{}", stderr(&o));
    assert!(stderr(&o).contains("therock-ci-artifacts"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_naming_the_culprit() {
    let bed = Bed::new().await;
    let c = sha(17);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["find", "--repo", THEROCK, "--commit", "not-a-sha", "--artifact-group", "gfx94X-dcgpu"], "not-a-sha"),
        (vec!["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx999-bogus"], "gfx999-bogus"),
        (
            vec!["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx110X-all", "--amdgpu-target", "gfx1100"],
            "single artifact group",
        ),
        (vec!["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--require-artifact", "blas_(lib"], "blas_(lib"),
        (vec!["find", "--repo", "not a repo", "--commit", &c, "--artifact-group", "gfx94X-dcgpu"], "not a repo"),
        (vec!["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "macos"], "macos"),
    ];
    for (args, culprit) in cases {
        let mut with_json = args.clone();
        with_json.push("--json");
        let o = bed.run(&with_json).await;
        assert_eq!(code(&o), 2, "{args:?}");
        let e = stderr(&o);
        assert!(e.contains(culprit), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
        assert_eq!(stdout_json(&o)["status"], "error");
    }
    assert_eq!(request_count(&bed.gh).await, 0, "bad input never reaches the API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_checkout_supplies_repo_and_commit() {
    let bed = Bed::new().await;
    let dir = tempfile::tempdir().unwrap();
    let shas = git_repo(dir.path(), "git@github.com:ROCm/TheRock.git", 2);
    git(dir.path(), &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    let head = shas.last().unwrap().clone();
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[run_json(&RunSpec::ok(1801, &head, THEROCK, WF))]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "1801-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    let mut cmd = bed.cmd();
    cmd.current_dir(dir.path()).args(["find", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["github_repository_name"], THEROCK);
    assert_eq!(r["git_commit_sha"], head);

    // An abbreviated SHA resolves through the checkout.
    let mut cmd = bed.cmd();
    cmd.current_dir(dir.path()).args(["find", "--commit", &head[..9], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // https remote form too.
    git(dir.path(), &["remote", "set-url", "origin", "https://github.com/ROCm/TheRock"]);
    let mut cmd = bed.cmd();
    cmd.current_dir(dir.path()).args(["find", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    assert_eq!(code(&run_cmd(cmd).await), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_skips_unsuccessful_commits_within_budget() {
    let bed = Bed::new().await;
    // 50 commits on main, newest first: c0 (in progress), c1 (failed), c2 (success, no gfx942),
    // c3 (success with gfx942).
    let shas: Vec<String> = (0..50).map(|i| sha(1000 + i)).collect();
    let commits: Vec<_> = (0..50)
        .map(|i| {
            let parents: Vec<&str> = if i + 1 < 50 { vec![shas[i + 1].as_str()] } else { vec![] };
            commit_json(&shas[i], &parents, &format!("2026-08-20T{:02}:{:02}:00Z", 12 - i / 60, 59 - i % 60))
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}")))
        .respond_with(ok_json(json!({"full_name": THEROCK, "default_branch": "main"})))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", "main"))
        .respond_with(ok_json(json!(commits)))
        .mount(&bed.gh)
        .await;
    // The branch's runs, all statuses (a failed run with healthy builds may count): the failed
    // run of c1 uploaded nothing, so it costs no jobs request.
    let mut runs = Vec::new();
    for (i, id, status, conclusion) in [
        (0usize, 2000u64, "in_progress", None),
        (1, 2001, "completed", Some("failure")),
        (2, 2002, "completed", Some("success")),
        (3, 2003, "completed", Some("success")),
    ] {
        let mut r = RunSpec::ok(id, &shas[i], THEROCK, WF);
        r.created_at = format!("2026-08-20T13:{:02}:00Z", 59 - i);
        (r.status, r.conclusion) = (status, conclusion);
        runs.push(run_json(&r));
    }
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .and(query_param("branch", "main"))
        .respond_with(ok_json(runs_page(&runs, 4)))
        .mount(&bed.gh)
        .await;
    bed.s3.put_artifact("therock-ci-artifacts", "2002-linux/", "blas_lib_gfx1151.tar.zst", b"x", true);
    bed.s3.put_artifact("therock-ci-artifacts", "2003-linux/", "blas_lib_gfx942.tar.zst", b"x", true);
    let o = bed.run(&["latest", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--max-commits", "50", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = &stdout_json(&o)["results"][0];
    assert_eq!(r["git_commit_sha"], shas[3]);
    assert_eq!(r["workflow_run_id"], "2003");
    assert!(request_count(&bed.gh).await <= 4, "{}", request_count(&bed.gh).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_over_https_is_trusted_only_through_the_trust_store() {
    let bed = Bed::new().await;
    let c = sha(19);
    one_run(&bed, 1901, &c, &[]).await;
    put_group(&bed, 1901);
    let (front, stranger) = (tls_front(&bed.s3.endpoint).await, tls_front(&bed.s3.endpoint).await);
    let (ca, other) = (bed.home.path().join("ca.pem"), bed.home.path().join("other.pem"));
    std::fs::write(&ca, &front.ca_pem).unwrap();
    std::fs::write(&other, &stranger.ca_pem).unwrap();
    let find = |trust: &std::path::Path| {
        let mut cmd = bed.cmd();
        cmd.args(group_args("find", THEROCK, &c, &["--json"])).env("AWS_ENDPOINT_URL", &front.endpoint).env("SSL_CERT_FILE", trust);
        run_cmd(cmd)
    };
    // The endpoint's certificate issued by a CA the trust store holds: S3 answers over TLS.
    let o = find(&ca).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "found");
    assert_eq!(d["results"][0]["workflow_run_id"], "1901");
    // Issued by a CA it does not hold: refused, saying why, never read.
    let o = find(&other).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid peer certificate: UnknownIssuer"), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["status"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_unreachable_is_an_error_naming_the_bucket() {
    let bed = Bed::new().await;
    let c = sha(18);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(1801, &c, THEROCK, WF))]).await;
    // A port nothing listens on: every connection is refused, retried, then reported.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for args in [group_args("find", THEROCK, &c, &["--json"]), fetch_args(&c, "out", &["--json"])] {
        let mut cmd = bed.cmd();
        cmd.args(&args).env("AWS_ENDPOINT_URL", format!("http://{closed}"));
        let o = run_cmd(cmd).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("therock-ci-artifacts"), "{e}");
        assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
        assert_eq!(stdout_json(&o)["status"], "error");
    }
}
