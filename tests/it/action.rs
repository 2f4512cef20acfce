//! Action mode, run with exactly the environment a runner gives a container action.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use wiremock::matchers::{method, path, query_param};
use wiremock::Mock;

/// The action's inputs with their defaults, as the runner passes them (`INPUT_<NAME>`).
pub(crate) fn default_inputs(repo: &str) -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct Action {
        inputs: BTreeMap<String, Input>,
    }
    #[derive(serde::Deserialize)]
    struct Input {
        #[serde(default)]
        default: Option<String>,
    }
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let a: Action = serde_saphyr::from_str(&text).unwrap();
    a.inputs
        .into_iter()
        .map(|(k, v)| {
            let d = v.default.unwrap_or_default();
            let d = match d.as_str() {
                "${{ github.repository }}" => repo.to_string(),
                "${{ github.token }}" => TOKEN.to_string(),
                _ => d,
            };
            (format!("INPUT_{}", k.to_uppercase()), d)
        })
        .collect()
}

struct Runner {
    ws: PathBuf,
    files: PathBuf,
    env: BTreeMap<String, String>,
}

impl Runner {
    fn new(bed: &Bed, repo: &str, event: &str, payload: Value, sha: &str) -> Runner {
        let root = bed.home.path().join(format!("runner-{}", fastrand_name()));
        let (ws, files) = (root.join("workspace"), root.join("file_commands"));
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&files).unwrap();
        let ev = root.join("event.json");
        std::fs::write(&ev, payload.to_string()).unwrap();
        let mut env = default_inputs(repo);
        for (k, v) in [
            ("HOME", "/github/home".to_string()),
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_REPOSITORY", repo.into()),
            ("GITHUB_REPOSITORY_OWNER", repo.split('/').next().unwrap().into()),
            ("GITHUB_EVENT_NAME", event.into()),
            ("GITHUB_EVENT_PATH", ev.display().to_string()),
            ("GITHUB_SHA", sha.into()),
            ("GITHUB_REF", if event == "push" { "refs/heads/main".into() } else { "refs/pull/77/merge".into() }),
            ("GITHUB_WORKSPACE", ws.display().to_string()),
            ("GITHUB_OUTPUT", files.join("set_output").display().to_string()),
            ("GITHUB_STEP_SUMMARY", files.join("step_summary").display().to_string()),
            ("GITHUB_ENV", files.join("set_env").display().to_string()),
            ("GITHUB_PATH", files.join("add_path").display().to_string()),
            ("GITHUB_STATE", files.join("save_state").display().to_string()),
            ("GITHUB_API_URL", bed.gh.uri()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_GRAPHQL_URL", format!("{}/graphql", bed.gh.uri())),
            ("GITHUB_RUN_ID", "1".into()),
            ("GITHUB_ACTION", "__ROCm_therock-artifacts-action".into()),
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
            ("RUNNER_TEMP", "/home/runner/work/_temp".into()),
            ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache".into()),
            // The test bed's S3 server and a cache of this test's own.
            ("AWS_ENDPOINT_URL", bed.s3.endpoint.clone()),
            ("THEROCK_ARTIFACTS_CACHE", bed.cache_dir().display().to_string()),
            ("THEROCK_ARTIFACTS_BACKOFF_MS", "5".into()),
        ] {
            env.insert(k.to_string(), v);
        }
        Runner { ws, files, env }
    }

    fn input(&mut self, name: &str, v: &str) -> &mut Self {
        self.env.insert(format!("INPUT_{}", name.to_uppercase()), v.to_string());
        self
    }

    async fn run(&self) -> Output {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_therock-artifacts"));
        c.env_clear().envs(&self.env).arg("action").current_dir(&self.ws).stdin(std::process::Stdio::null());
        let out = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
        let so = String::from_utf8_lossy(&out.stdout);
        let mask = format!("::add-mask::{TOKEN}");
        assert!(so.lines().next().is_some_and(|l| l == mask), "the token is masked before anything else is printed:\n{so}");
        assert_eq!(so.matches(TOKEN).count(), 1, "the token appears only in the mask command:\n{so}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
        out
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.files.join("set_output")).unwrap_or_default();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (name, delim) = l.split_once("<<").unwrap_or_else(|| panic!("not a multi-line output: {l}"));
            assert!(delim.len() >= 20, "a random delimiter: {delim}");
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.insert(name.to_string(), v.join("\n"));
        }
        out
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.files.join("step_summary")).unwrap_or_default()
    }
}

fn fastrand_name() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

fn pr_payload(head: &str, base_ref: &str, head_repo: &str) -> Value {
    json!({
        "action": "synchronize", "number": 77,
        "pull_request": {
            "number": 77, "state": "open",
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"sha": sha(0xbabe), "ref": base_ref, "repo": {"full_name": THEROCK}},
        },
        "repository": {"full_name": THEROCK},
    })
}

fn put_group(bed: &Bed, run: u64) {
    bed.s3.put_artifact("therock-ci-artifacts", &format!("{run}-linux/"), "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "g"), true);
    bed.s3.put_artifact("therock-ci-artifacts", &format!("{run}-linux/"), "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "t"), true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_fetches_the_baseline() {
    let bed = Bed::new().await;
    let head = sha(1);
    let merge = sha(2); // GITHUB_SHA of a PR is the merge commit, never the one to look up
    let mb = sha(3);
    mount_commit_runs(&bed.gh, THEROCK, WF, &head, &[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/compare/main...{head}")))
        .respond_with(ok_json(json!({"merge_base_commit": commit_json(&mb, &[], "2026-08-01T00:00:00Z")})))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", mb.as_str()))
        .respond_with(ok_json(json!([commit_json(&mb, &[], "2026-08-01T00:00:00Z")])))
        .mount(&bed.gh)
        .await;
    let mut run = RunSpec::ok(4242, &mb, THEROCK, WF);
    run.created_at = "2026-08-01T00:10:00Z".into();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .and(query_param("branch", "main"))
        .respond_with(ok_json(runs_page(&[run_json(&run)], 1)))
        .mount(&bed.gh)
        .await;
    put_group(&bed, 4242);

    let mut r = Runner::new(&bed, THEROCK, "pull_request", pr_payload(&head, "main", "contributor/TheRock"), &merge);
    r.input("artifact-group", "gfx94X-dcgpu").input("output-dir", "deps");
    let owner_uid = 4321u32;
    let as_root = unsafe_is_root();
    if as_root {
        chown(&r.ws, Some(owner_uid), Some(owner_uid)).unwrap();
    }
    let o = r.run().await;
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 0, "{so}\n{}", stderr(&o));
    assert!(so.contains("::group::") && so.contains("::endgroup::"), "{so}");
    let out = r.outputs();
    assert_eq!(out["found"], "true");
    assert_eq!(out["commit"], mb);
    assert_eq!(out["run-id"], "4242");
    assert_eq!(out["run-url"], format!("https://github.com/{THEROCK}/actions/runs/4242"));
    assert_eq!(out["bucket"], "therock-ci-artifacts");
    assert_eq!(out["s3-prefix"], "4242-linux/");
    assert_eq!(out["s3-uri"], "s3://therock-ci-artifacts/4242-linux/");
    assert_eq!(out["s3-index-url"], "https://therock-ci-artifacts.s3.amazonaws.com/4242-linux/index.html");
    let arts: Vec<String> = serde_json::from_str(&out["artifacts"]).unwrap();
    assert_eq!(arts, vec!["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst"]);
    let results: Value = serde_json::from_str(&out["results"]).unwrap();
    assert_eq!(results["status"], "found");
    assert_eq!(results["commit"], head, "the PR head from the payload, not GITHUB_SHA");
    assert_eq!(results["reason"], "ancestor");
    // The substitution, in outputs and before the download (issue 24 item 3).
    assert_eq!(out["head-commit"], head, "the commit asked about");
    assert_eq!(out["reason"], "ancestor");
    assert_eq!(out["distance"], results["distance"].to_string());
    let err = stderr(&o);
    let said = err.find(&format!("Baseline for {}: {THEROCK} {mb} (reason: ancestor", &head[..12]));
    assert!(said.is_some() && said < err.find("fetched 2 archives"), "said before the download: {err}");
    assert!(!out.contains_key("error-message") || out["error-message"].is_empty());
    let od = PathBuf::from(&out["output-dir"]);
    assert_eq!(od, canonical(&r.ws.join("deps")));
    assert!(od.join("share/blas/gfx942.txt").is_file());
    let summary = r.summary();
    assert!(summary.contains("## TheRock artifacts") && summary.contains("blas_lib_gfx942.tar.zst") && summary.contains("ancestor"), "{summary}");
    if as_root {
        for p in [od.clone(), od.join("share/blas/gfx942.txt"), od.join("share/blas")] {
            assert_eq!(std::fs::symlink_metadata(&p).unwrap().uid(), owner_uid, "{} keeps root's ownership", p.display());
        }
    }
}

fn unsafe_is_root() -> bool {
    cfg!(unix) && std::process::Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_event_find_mode() {
    let bed = Bed::new().await;
    let c = sha(10);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(1010, &c, THEROCK, WF))]).await;
    put_group(&bed, 1010);
    let mut r = Runner::new(&bed, THEROCK, "push", json!({"after": c, "ref": "refs/heads/main"}), &c);
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu, gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!(out["found"], "true");
    assert_eq!(out["commit"], c);
    assert!(!out.contains_key("output-dir"), "find mode downloads nothing");
    assert!(!r.ws.join("therock-artifacts").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_input_spellings_are_aliases_and_two_that_disagree_are_refused() {
    let bed = Bed::new().await;
    let c = sha(11);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(1011, &c, THEROCK, WF))]).await;
    put_group(&bed, 1011);
    // TheRock's workflows spell the groups amdgpu_families; artifact-group left at its default.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({"after": c, "ref": "refs/heads/main"}), &c);
    r.input("mode", "find").input("amdgpu_families", "gfx94X-dcgpu").input("amdgpu-target", "gfx942");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(r.outputs()["found"], "true");
    // Both spellings, saying the same: one setting.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({"after": c, "ref": "refs/heads/main"}), &c);
    r.input("mode", "find").input("amdgpu_families", "gfx94X-dcgpu").input("artifact-group", "gfx94X-dcgpu");
    assert_eq!(code(&r.run().await), 0);
    // Saying different things: refused, naming both.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({"after": c, "ref": "refs/heads/main"}), &c);
    r.input("mode", "find").input("amdgpu_families", "gfx110X-all").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stdout));
    let msg = &r.outputs()["error-message"];
    assert_eq!(msg, "inputs 'artifact-group' (gfx94X-dcgpu) and 'amdgpu_families' (gfx110X-all) name one setting: give one of them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_behaviours() {
    let bed = Bed::new().await;
    let c = sha(20);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[]).await;
    for (policy, want_code, marker) in [("fail", 1, "::error::"), ("warn", 0, "::warning::"), ("ignore", 0, "no artifacts")] {
        let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
        r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu").input("if-not-found", policy);
        let o = r.run().await;
        let so = String::from_utf8_lossy(&o.stdout).to_string();
        assert_eq!(code(&o), want_code, "{policy}: {so}");
        assert!(so.contains(marker), "{policy}: {so}");
        if policy == "ignore" {
            assert!(!so.contains("::error::") && !so.contains("::warning::"), "{so}");
        }
        assert_eq!(r.outputs()["found"], "false", "{policy}");
        assert!(r.summary().contains("not found"), "{policy}: {}", r.summary());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_fail_the_step_naming_the_input() {
    let bed = Bed::new().await;
    let c = sha(30);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("artifact-group", "")], "'artifact-group'"),
        (vec![("artifact-group", "gfx94X-dcgpu"), ("mode", "explode")], "'mode'"),
        (vec![("artifact-group", "gfx94X-dcgpu"), ("extract", "everything")], "'extract'"),
        (vec![("artifact-group", "gfx94X-dcgpu"), ("if-not-found", "panic")], "'if-not-found'"),
        (vec![("artifact-group", "gfx94X-dcgpu"), ("commit", "main")], "'commit'"),
        (vec![("artifact-group", "gfx94X-dcgpu"), ("verify", "maybe")], "'verify'"),
        (vec![("artifact-group", "gfx999-nope")], "gfx999-nope"),
    ];
    for (inputs, culprit) in cases {
        let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
        for (k, v) in &inputs {
            r.input(k, v);
        }
        let o = r.run().await;
        let so = String::from_utf8_lossy(&o.stdout).to_string();
        assert_ne!(code(&o), 0, "{inputs:?}");
        let err = so.lines().find(|l| l.starts_with("::error::")).unwrap_or_else(|| panic!("{inputs:?}: no ::error:: in {so}"));
        assert!(err.contains(culprit), "{inputs:?}: {err}");
    }
    // An unreadable pull_request payload.
    let mut r = Runner::new(&bed, THEROCK, "pull_request", json!({}), &c);
    r.input("artifact-group", "gfx94X-dcgpu");
    r.env.insert("GITHUB_EVENT_PATH".into(), "/nonexistent/event.json".into());
    let o = r.run().await;
    assert_ne!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("::error::cannot read the event payload /nonexistent/event.json"));
    // GITHUB_OUTPUT not writable.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    r.input("artifact-group", "gfx94X-dcgpu");
    r.env.insert("GITHUB_OUTPUT".into(), "/nonexistent/dir/set_output".into());
    let o = r.run().await;
    assert_ne!(code(&o), 0);
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(so.contains("::error::") && so.contains("GITHUB_OUTPUT"), "{so}");
    assert_eq!(request_count(&bed.gh).await, 0, "bad inputs never reach the API");
}

#[test]
fn error_messages_are_escaped() {
    // A multi-line, percent-bearing error must stay one workflow command.
    let bed_free = std::process::Command::new(env!("CARGO_BIN_EXE_therock-artifacts"))
        .env_clear()
        .env("INPUT_ARTIFACT-GROUP", "gfx94X-dcgpu")
        .env("INPUT_COMMIT", "%0A\nzz")
        .arg("action")
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&bed_free.stdout);
    let err: Vec<&str> = so.lines().filter(|l| l.starts_with("::error::")).collect();
    assert_eq!(err.len(), 1, "{so}");
    assert!(err[0].contains("%250A%0Azz"), "{}", err[0]);
}

#[test]
#[ignore = "needs actionlint (.ci/run installs it and runs this)"]
fn actionlint_passes_on_action_and_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = std::process::Command::new("actionlint").arg("-version").output().is_ok();
    assert!(found, "actionlint is not installed (.ci/run installs it)");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(root.join("examples")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "yml")).collect();
    files.extend(std::fs::read_dir(root.join(".github/workflows")).unwrap().map(|e| e.unwrap().path()));
    assert!(files.len() >= 6);
    let o = std::process::Command::new("actionlint").current_dir(root).args(&files).output().unwrap();
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_mode_writes_the_table_and_the_json() {
    let bed = Bed::new().await;
    let (a, b) = (sha(40), sha(41));
    mount_commit_runs(&bed.gh, THEROCK, WF, &a, &[run_json(&RunSpec::ok(4001, &a, THEROCK, WF))]).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &b, &[run_json(&RunSpec::ok(4002, &b, THEROCK, WF))]).await;
    put_group(&bed, 4001);
    bed.s3.put_artifact("therock-ci-artifacts", "4002-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", &"t".repeat(5000)), true);
    let mut r = Runner::new(&bed, THEROCK, "workflow_dispatch", json!({}), &b);
    r.input("mode", "compare").input("commit", &a).input("compare-to", &b).input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    let cmp: Value = serde_json::from_str(&out["comparison"]).unwrap();
    let names: Vec<&str> = cmp["archives"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"base_lib_generic") && names.contains(&"blas_lib_gfx942"), "{names:?}");
    let s = r.summary();
    assert!(s.contains("TheRock artifact comparison") && s.contains("| `base_lib_generic` |") && s.contains("removed"), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_actions_read_gets_one_sentence_naming_the_permission() {
    let bed = Bed::new().await;
    let c = sha(50);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .respond_with(
            wiremock::ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow", "status": "403"}))
                .insert_header("x-ratelimit-remaining", "990")
                .insert_header("x-ratelimit-limit", "1000"),
        )
        .mount(&bed.gh)
        .await;
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 2, "{so}");
    let err: Vec<&str> = so.lines().filter(|l| l.starts_with("::error::")).collect();
    assert_eq!(err.len(), 1, "{so}");
    assert!(err[0].contains("`actions: read`") && err[0].contains("permissions:"), "{}", err[0]);
    assert!(!err[0].contains("%0A"), "one sentence: {}", err[0]);
    let summary = r.summary();
    assert!(summary.contains("actions: read") && summary.contains("permissions:"), "{summary}");
    assert!(!err[0].contains("pull-requests"), "the action reads no pull request here: {}", err[0]);
    assert_eq!(request_count(&bed.gh).await, 1, "a missing permission is not retried");
}

/// The mocks of a baseline walk in ROCm/TheRock from `head`: merge-base `mb` with main, whose
/// run `run` holds the group.
async fn mount_walk(bed: &Bed, head: &str, mb: &str, run: u64) {
    mount_commit_runs(&bed.gh, THEROCK, WF, head, &[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/compare/main...{head}")))
        .respond_with(ok_json(json!({"merge_base_commit": commit_json(mb, &[], "2026-08-01T00:00:00Z")})))
        .mount(&bed.gh)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", mb))
        .respond_with(ok_json(json!([commit_json(mb, &[], "2026-08-01T00:00:00Z")])))
        .mount(&bed.gh)
        .await;
    let mut r = RunSpec::ok(run, mb, THEROCK, WF);
    r.created_at = "2026-08-01T00:10:00Z".into();
    mount_branch_runs(&bed.gh, THEROCK, WF, &[run_json(&r)]).await;
    put_group(bed, run);
}

async fn mount_ref(bed: &Bed, repo: &str, name: &str, sha: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/commits/{name}")))
        .respond_with(ok_json(commit_json(sha, &[], "2026-08-01T00:00:00Z")))
        .mount(&bed.gh)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ref_is_tried_as_a_branch_then_a_tag_then_a_commit() {
    let bed = Bed::new().await;
    let c = sha(60);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(6001, &c, THEROCK, WF))]).await;
    put_group(&bed, 6001);
    // No branch v7 (the bed answers 404), a tag v7.
    mount_ref(&bed, THEROCK, "tags/v7", &c).await;
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(61));
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu").input("ref", "v7");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!((out["found"].as_str(), out["commit"].as_str(), out["head-commit"].as_str()), ("true", c.as_str(), c.as_str()));
    let asked: Vec<String> = bed.gh.received_requests().await.unwrap().iter().map(|q| q.url.path().to_string()).filter(|p| p.contains("/commits/")).collect();
    assert_eq!(asked, [format!("/repos/{THEROCK}/commits/heads/v7"), format!("/repos/{THEROCK}/commits/tags/v7")], "the branch first, then the tag");

    // A name that is nothing: one sentence saying so.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(61));
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu").input("ref", "nope");
    let o = r.run().await;
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 2, "{so}");
    assert!(so.contains(&format!("::error::nope is neither a branch, a tag nor a commit of {THEROCK}")), "{so}");
    assert_eq!(r.outputs()["found"], "false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_mode_takes_the_newest_commit_of_a_branch() {
    let bed = Bed::new().await;
    let shas = history(700, 3);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", "release/7.1"))
        .respond_with(ok_json(json!(shas.iter().enumerate().map(|(i, s)| commit_json(s, &[], &format!("2026-08-15T20:5{}:00Z", 9 - i))).collect::<Vec<_>>())))
        .mount(&bed.gh)
        .await;
    let runs = [run_json(&main_run(7001, &shas, 0, "in_progress", None)), run_json(&main_run(7002, &shas, 1, "completed", Some("success")))];
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .and(query_param("branch", "release/7.1"))
        .respond_with(ok_json(runs_page(&runs, 2)))
        .mount(&bed.gh)
        .await;
    put_group(&bed, 7002);
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(1));
    r.input("mode", "latest").input("artifact-group", "gfx94X-dcgpu").input("branch", "release/7.1");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!((out["found"].as_str(), out["commit"].as_str(), out["run-id"].as_str()), ("true", shas[1].as_str(), "7002"));

    // `commit` is one commit, not a branch: the step says so and what to give.
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(1));
    r.input("mode", "latest").input("artifact-group", "gfx94X-dcgpu").input("commit", &shas[0]);
    let so = String::from_utf8_lossy(&r.run().await.stdout).to_string();
    assert!(so.contains("::error::input 'commit' names one commit; mode latest") && so.contains("'branch'"), "{so}");
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(1));
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu").input("commit", "main");
    let so = String::from_utf8_lossy(&r.run().await.stdout).to_string();
    assert!(so.contains("::error::input 'commit' is 'main', which is not a commit SHA") && so.contains("ref: main") && so.contains("branch: main"), "{so}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_repository_never_takes_the_callers_sha() {
    let bed = Bed::new().await;
    let caller = "someone/app";
    let (head, mb) = (sha(80), sha(81));
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}")))
        .respond_with(ok_json(json!({"full_name": THEROCK, "default_branch": "main"})))
        .mount(&bed.gh)
        .await;
    mount_ref(&bed, THEROCK, "heads/main", &head).await;
    mount_walk(&bed, &head, &mb, 8001).await;
    // baseline (and fetch): from the head of the repository's default branch.
    let mut r = Runner::new(&bed, caller, "push", json!({}), &sha(89));
    r.input("mode", "baseline").input("repository", THEROCK).input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!((out["head-commit"].as_str(), out["commit"].as_str(), out["run-id"].as_str()), (head.as_str(), mb.as_str(), "8001"));
    let asked = bed.gh.received_requests().await.unwrap();
    assert!(!asked.iter().any(|q| q.url.to_string().contains(&sha(89))), "GITHUB_SHA is the caller's: never asked about");
    // find: one commit, so it must be named.
    let mut r = Runner::new(&bed, caller, "push", json!({}), &sha(89));
    r.input("mode", "find").input("repository", THEROCK).input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 2, "{so}");
    assert!(so.contains(&format!("::error::input 'repository' names {THEROCK}, not this workflow's repository {caller}")) && so.contains("'ref'"), "{so}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_fail_like_runtime_errors() {
    let bed = Bed::new().await;
    for (k, v, culprit) in [("artifact-group", "", "'artifact-group'"), ("mode", "explode", "'mode'"), ("platform", "beos", "'platform'")] {
        let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(90));
        r.input("artifact-group", "gfx94X-dcgpu").input(k, v);
        let o = r.run().await;
        assert_eq!(code(&o), 2, "{k}");
        let out = r.outputs();
        assert_eq!(out.get("found").map(String::as_str), Some("false"), "{k}: {out:?}");
        assert!(out["error-message"].contains(culprit), "{k}: {out:?}");
        assert!(r.summary().contains("**Error:**") && r.summary().contains(culprit), "{k}: {}", r.summary());
    }
    assert_eq!(request_count(&bed.gh).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_names_where_it_came_from() {
    let bed = Bed::new().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/actions/workflows/{WF}/runs")))
        .respond_with(wiremock::ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials", "status": "401"})))
        .mount(&bed.gh)
        .await;
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &sha(91));
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(code(&o), 2, "{so}");
    let err = so.lines().find(|l| l.starts_with("::error::")).unwrap_or_else(|| panic!("{so}"));
    assert!(err.contains("Bad credentials") && err.contains("token of input 'github-token'") && err.contains("expired"), "{err}");
    assert!(r.outputs()["error-message"].contains("input 'github-token'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(windows, ignore = "uses /usr as a system directory, which Windows has not")]
async fn advice_is_in_the_actions_terms_and_dry_run_downloads_nothing() {
    let bed = Bed::new().await;
    let c = sha(92);
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(9201, &c, THEROCK, WF))).await;
    put_group(&bed, 9201);
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    r.input("run-id", "9201").input("artifact-group", "gfx94X-dcgpu").input("output-dir", "/usr");
    let so = String::from_utf8_lossy(&r.run().await.stdout).to_string();
    let err = so.lines().find(|l| l.starts_with("::error::")).unwrap_or_else(|| panic!("{so}"));
    assert!(err.contains("system directory") && !err.contains("--force") && err.contains("input 'output-dir'"), "{err}");

    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    r.input("run-id", "9201").input("artifact-group", "gfx94X-dcgpu").input("include", "nothing-matches");
    let so = String::from_utf8_lossy(&r.run().await.stdout).to_string();
    assert!(so.contains("::error::the 'include'/'exclude' inputs selected no archive"), "{so}");
    assert!(r.outputs()["error-message"].contains("'include'"));

    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    r.input("run-id", "9201").input("artifact-group", "gfx94X-dcgpu").input("dry-run", "true");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let results: Value = serde_json::from_str(&r.outputs()["results"]).unwrap();
    assert_eq!(results["dry_run"], true);
    assert!(!r.ws.join("therock-artifacts").exists(), "a dry run writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_follows_the_runner_and_compare_takes_from_and_to() {
    let bed = Bed::new().await;
    let (a, b) = (sha(95), sha(96));
    mount_commit_runs(&bed.gh, THEROCK, WF, &a, &[run_json(&RunSpec::ok(9501, &a, THEROCK, WF))]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "9501-windows/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "w"), true);
    let mut r = Runner::new(&bed, THEROCK, "push", json!({}), &a);
    r.env.insert("RUNNER_OS".into(), "Windows".into());
    r.input("mode", "find").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(r.outputs()["s3-prefix"], "9501-windows/", "a Windows runner fetches Windows builds");

    mount_commit_runs(&bed.gh, THEROCK, WF, &b, &[run_json(&RunSpec::ok(9601, &b, THEROCK, WF))]).await;
    put_group(&bed, 9501);
    put_group(&bed, 9601);
    let mut r = Runner::new(&bed, THEROCK, "workflow_dispatch", json!({}), &b);
    r.input("mode", "compare").input("from", &a).input("to", &b).input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(r.outputs().contains_key("comparison"));
    let mut r = Runner::new(&bed, THEROCK, "workflow_dispatch", json!({}), &b);
    r.input("mode", "compare").input("from", &a).input("artifact-group", "gfx94X-dcgpu");
    let so = String::from_utf8_lossy(&r.run().await.stdout).to_string();
    assert!(so.contains("::error::mode compare needs input 'to'"), "{so}");
}

/// Input `release` (issue 25): the newest nightly into the output directory, output `version`;
/// the push's commit does not stand in for a release, and GitHub is never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_input_fetches_a_nightly_and_outputs_its_version() {
    let bed = Bed::new().await;
    let tree = raw_tar(&[("bin/hipcc", b'0', "#!/bin/sh\n", "")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tree).unwrap();
    let data = gz.finish().unwrap();
    bed.s3.put_artifact("therock-nightly-tarball", "v4/tarball/", "therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz", &data, true);
    let c = sha(11);
    let mut r = Runner::new(&bed, "ROCm/rocm-jax", "push", json!({"after": c, "ref": "refs/heads/main"}), &c);
    r.input("release", "latest").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!(out["found"], "true");
    assert_eq!(out["version"], "7.12.0a20251201");
    assert_eq!(out["artifacts"], r#"["therock-dist-linux-gfx94X-dcgpu-7.12.0a20251201.tar.gz"]"#);
    assert!(r.ws.join("therock-artifacts/bin/hipcc").is_file());
    assert_eq!(request_count(&bed.gh).await, 0, "a release needs no GitHub request");
    let mut bad = Runner::new(&bed, THEROCK, "push", json!({}), &c);
    bad.input("release", "latest").input("artifact-group", "gfx94X-dcgpu").input("components", "blas");
    let o = bad.run().await;
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stdout).contains("input 'components'"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_mode_writes_the_stage_lists_the_baseline_run_and_a_plan_table() {
    let (bed, _, head) = crate::reuse::pr_bed(&["rocm-libraries"]).await;
    let mut r = Runner::new(&bed, THEROCK, "pull_request", pr_payload(&head, "main", "contributor/TheRock"), &sha(0xfeed));
    r.input("mode", "reuse").input("artifact-group", "gfx94X-dcgpu");
    let o = r.run().await;
    assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let out = r.outputs();
    assert_eq!(out["found"], "true");
    assert_eq!(out["rebuild-stages"], "cv-libs,math-libs");
    assert_eq!(out["prebuilt-stages"], "compiler-runtime,debug-tools,host-libs,media-libs,profiler-apps,tools-tests");
    assert_eq!(out["baseline-run-id"], "3002");
    let summary = r.summary();
    assert!(summary.contains("| stage | plan | why |"), "{summary}");
    assert!(summary.contains("| `math-libs` | rebuild | rocm-libraries changed (submodule bump since"), "{summary}");
    assert!(summary.contains("| `compiler-runtime` | reuse |"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_mode_for_both_platforms_writes_the_combined_prebuilt_stages() {
    let (bed, _, head) = crate::reuse::pr_bed(&["rocm-libraries"]).await;
    put_stage_archives_on(&bed, 3002, "windows", &["core-hip_lib_generic.tar.zst"]);
    for platform in ["linux,windows", "both"] {
        let mut r = Runner::new(&bed, THEROCK, "pull_request", pr_payload(&head, "main", "contributor/TheRock"), &sha(0xfeed));
        r.input("mode", "reuse").input("artifact-group", "gfx94X-dcgpu").input("platform", platform);
        let o = r.run().await;
        assert_eq!(code(&o), 0, "{}\n{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        let out = r.outputs();
        assert_eq!(out["rebuild-stages"], "compiler-runtime,cv-libs,math-libs", "{platform}");
        assert_eq!(out["prebuilt-stages"], "debug-tools,host-libs,media-libs,profiler-apps,tools-tests", "windows lacks core-hip: {platform}");
        assert_eq!(out["baseline-run-id"], "3002");
        let summary = r.summary();
        assert!(summary.contains("| `compiler-runtime` | rebuild | on windows, the baseline run lacks core-hip\\_\\*\\_generic"), "{summary}");
    }
}
