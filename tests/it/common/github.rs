//! The GitHub REST stand-in: wiremock answering with full-shaped objects (runs, commits, jobs,
//! file contents) and GitHub's headers, and synthetic histories to walk.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub struct RunSpec<'a> {
    pub id: u64,
    pub sha: &'a str,
    pub status: &'a str,
    pub conclusion: Option<&'a str>,
    pub created_at: String,
    pub repo: &'a str,
    pub head_repo: Option<&'a str>,
    pub workflow: &'a str,
    pub event: &'a str,
    pub branch: &'a str,
}

impl<'a> RunSpec<'a> {
    pub fn ok(id: u64, sha: &'a str, repo: &'a str, workflow: &'a str) -> Self {
        RunSpec {
            id,
            sha,
            status: "completed",
            conclusion: Some("success"),
            created_at: format!("2026-08-{:02}T{:02}:{:02}:00Z", 1 + (id % 27), (id / 60) % 24, id % 60),
            repo,
            head_repo: Some(repo),
            workflow,
            event: "push",
            branch: "main",
        }
    }
}

fn repo_obj(full: &str, id: u64) -> Value {
    let (owner, name) = full.split_once('/').unwrap();
    json!({
        "id": id, "node_id": "R_kgDOtest", "name": name, "full_name": full, "private": false,
        "owner": {"login": owner, "id": 1, "node_id": "O_x", "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
                  "url": format!("https://api.github.com/users/{owner}"), "html_url": format!("https://github.com/{owner}"), "type": "Organization", "site_admin": false},
        "html_url": format!("https://github.com/{full}"), "description": "ROCm build", "fork": false,
        "url": format!("https://api.github.com/repos/{full}"),
    })
}

pub fn run_json(r: &RunSpec) -> Value {
    let wf_path = format!(".github/workflows/{}", r.workflow);
    json!({
        "id": r.id, "name": if r.workflow == "multi_arch_ci.yml" { "Multi-Arch CI" } else { "TheRock CI" },
        "node_id": format!("WFR_kwLO{}", r.id), "head_branch": r.branch, "head_sha": r.sha, "path": wf_path,
        "display_title": "Bump submodules", "run_number": r.id % 10000, "event": r.event, "status": r.status,
        "conclusion": r.conclusion, "workflow_id": 123456, "check_suite_id": r.id + 1, "check_suite_node_id": "CS_kwDO",
        "url": format!("https://api.github.com/repos/{}/actions/runs/{}", r.repo, r.id),
        "html_url": format!("https://github.com/{}/actions/runs/{}", r.repo, r.id),
        "pull_requests": [], "created_at": r.created_at, "updated_at": r.created_at,
        "actor": {"login": "rocm-bot", "id": 2, "type": "User"}, "run_attempt": 1, "referenced_workflows": [],
        "run_started_at": r.created_at, "triggering_actor": {"login": "rocm-bot", "id": 2, "type": "User"},
        "jobs_url": format!("https://api.github.com/repos/{}/actions/runs/{}/jobs", r.repo, r.id),
        "logs_url": format!("https://api.github.com/repos/{}/actions/runs/{}/logs", r.repo, r.id),
        "check_suite_url": "https://api.github.com/repos/x/check-suites/1",
        "artifacts_url": format!("https://api.github.com/repos/{}/actions/runs/{}/artifacts", r.repo, r.id),
        "cancel_url": format!("https://api.github.com/repos/{}/actions/runs/{}/cancel", r.repo, r.id),
        "rerun_url": format!("https://api.github.com/repos/{}/actions/runs/{}/rerun", r.repo, r.id),
        "previous_attempt_url": null,
        "workflow_url": format!("https://api.github.com/repos/{}/actions/workflows/123456", r.repo),
        "head_commit": {"id": r.sha, "tree_id": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "message": "Bump submodules",
                        "timestamp": r.created_at, "author": {"name": "Dev", "email": "dev@example.com"},
                        "committer": {"name": "GitHub", "email": "noreply@github.com"}},
        "repository": repo_obj(r.repo, 1),
        "head_repository": r.head_repo.map(|h| repo_obj(h, 2)),
    })
}

pub fn runs_page(runs: &[Value], total: usize) -> Value {
    json!({"total_count": total, "workflow_runs": runs})
}

/// GitHub's usual headers on a successful answer.
pub fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(body)
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4990")
        .insert_header("x-ratelimit-reset", "1900000000")
        .insert_header("x-ratelimit-used", "10")
        .insert_header("x-ratelimit-resource", "core")
        .insert_header("x-github-api-version-selected", "2022-11-28")
}

pub fn commit_json(sha: &str, parents: &[&str], date: &str) -> Value {
    json!({
        "sha": sha, "node_id": "C_x", "url": format!("https://api.github.com/repos/x/commits/{sha}"),
        "html_url": format!("https://github.com/x/commit/{sha}"),
        "commit": {"author": {"name": "Dev", "email": "d@example.com", "date": date},
                   "committer": {"name": "Dev", "email": "d@example.com", "date": date},
                   "message": "change", "tree": {"sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "url": "x"}, "comment_count": 0},
        "parents": parents.iter().map(|p| json!({"sha": p, "url": "x", "html_url": "x"})).collect::<Vec<_>>(),
    })
}

/// Mounts the runs listing for one commit (`head_sha` filter), one page.
pub async fn mount_commit_runs(gh: &MockServer, repo: &str, workflow: &str, sha: &str, runs: &[Value]) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/actions/workflows/{workflow}/runs")))
        .and(query_param("head_sha", sha))
        .respond_with(ok_json(runs_page(runs, runs.len())))
        .mount(gh)
        .await;
}

pub async fn mount_run(gh: &MockServer, repo: &str, run: &Value) {
    Mock::given(method("GET")).and(path(format!("/repos/{repo}/actions/runs/{}", run["id"]))).respond_with(ok_json(run.clone())).mount(gh).await;
}

pub async fn request_count(gh: &MockServer) -> usize {
    gh.received_requests().await.map(|r| r.len()).unwrap_or(0)
}

pub fn sha(n: u32) -> String {
    format!("{n:08x}").repeat(5)
}

/// Main-branch history of `n` commits, newest first, each a child of the next.
pub fn history(base: u32, n: usize) -> Vec<String> {
    (0..n).map(|i| sha(base + i as u32)).collect()
}

pub async fn mount_history(gh: &MockServer, repo: &str, shas: &[String], from: usize) {
    let commits: Vec<_> = (from..shas.len())
        .map(|i| {
            let parents: Vec<&str> = shas.get(i + 1).map(|p| vec![p.as_str()]).unwrap_or_default();
            commit_json(&shas[i], &parents, &format!("2026-08-15T{:02}:{:02}:00Z", 20 - i / 60, 59 - i % 60))
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/commits")))
        .and(query_param("sha", shas[from].as_str()))
        .respond_with(ok_json(json!(commits)))
        .mount(gh)
        .await;
}

/// A run of main created just after commit `i` of `history`.
pub fn main_run<'a>(id: u64, shas: &'a [String], i: usize, status: &'a str, conclusion: Option<&'a str>) -> RunSpec<'a> {
    let mut r = RunSpec::ok(id, &shas[i], "ROCm/TheRock", "multi_arch_ci.yml");
    r.status = status;
    r.conclusion = conclusion;
    r.created_at = format!("2026-08-15T{:02}:{:02}:30Z", 20 - i / 60, 59 - i % 60);
    r
}

pub async fn mount_branch_runs(gh: &MockServer, repo: &str, workflow: &str, runs: &[serde_json::Value]) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/actions/workflows/{workflow}/runs")))
        .and(query_param("branch", "main"))
        .respond_with(ok_json(runs_page(runs, runs.len())))
        .mount(gh)
        .await;
}

pub async fn mount_compare(gh: &MockServer, repo: &str, head: &str, merge_base: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/compare/main...{head}")))
        .respond_with(ok_json(
            json!({"status": "ahead", "ahead_by": 1, "behind_by": 3, "merge_base_commit": commit_json(merge_base, &[], "2026-08-15T20:59:00Z"), "commits": []}),
        ))
        .mount(gh)
        .await;
}

pub fn contents(text: &str) -> serde_json::Value {
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    };
    let wrapped: Vec<String> = b64.as_bytes().chunks(60).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    json!({"type": "file", "encoding": "base64", "size": text.len(), "name": "x.yml", "path": "x", "content": wrapped.join("\n") + "\n", "sha": "abc"})
}

pub async fn mount_file(gh: &MockServer, repo: &str, file: &str, at: &str, text: Option<&str>) {
    let t = match text {
        Some(t) => ok_json(contents(t)),
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/contents"})),
    };
    Mock::given(method("GET")).and(path(format!("/repos/{repo}/contents/{file}"))).and(query_param("ref", at)).respond_with(t).mount(gh).await;
}

pub fn ci_env(pin: &str) -> String {
    format!("name: CI environment\ndescription: shared values\noutputs:\n  therock-ref:\n    description: TheRock commit to build against\n    value: \"{pin}\" # 2026-08-01 commit\n  baseline-run-id:\n    value: \"\"\nruns:\n  using: composite\n  steps:\n    - run: echo\n      shell: bash\n")
}

pub fn checkout_workflow(reference: &str) -> String {
    format!(
        "name: TheRock CI Linux\non:\n  workflow_call:\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - name: Checkout rocm-libraries\n        uses: actions/checkout@v4\n      - name: Checkout TheRock repository\n        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          repository: \"ROCm/TheRock\"\n          path: \"TheRock\"\n          ref: {reference} # 2026-01-10 commit\n"
    )
}

/// A jobs listing for a run (`/actions/runs/{id}/jobs`), jobs as (name, status, conclusion).
pub async fn mount_jobs(gh: &MockServer, repo: &str, run: u64, jobs: &[(&str, &str, Option<&str>)]) {
    let list: Vec<Value> = jobs
        .iter()
        .enumerate()
        .map(|(i, (name, status, conclusion))| {
            json!({"id": run * 100 + i as u64, "run_id": run, "run_attempt": 1, "node_id": "J_x", "head_sha": "x", "name": name,
                   "status": status, "conclusion": conclusion, "workflow_name": "Multi-Arch CI",
                   "started_at": "2026-08-15T20:00:00Z", "completed_at": "2026-08-15T21:00:00Z", "steps": [], "labels": ["linux"],
                   "html_url": format!("https://github.com/{repo}/actions/runs/{run}/job/{i}")})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/actions/runs/{run}/jobs")))
        .and(query_param("filter", "latest"))
        .respond_with(ok_json(json!({"total_count": list.len(), "jobs": list})))
        .mount(gh)
        .await;
}
