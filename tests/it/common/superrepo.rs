//! The super-repos' CI as GitHub shows it (issue 22): multi-arch runs, pins, committer times.

use super::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};


pub const LIB: &str = "ROCm/rocm-libraries";
pub const SYS: &str = "ROCm/rocm-systems";
pub const MULTI_ARCH_WF: &str = "therock-multi-arch-ci.yml";
pub const LEGACY_WF: &str = "therock-ci.yml";

/// `run_json` with the workflow name GitHub shows for the super-repos' multi-arch CI.
pub fn super_run_json(r: &RunSpec) -> Value {
    let mut v = run_json(r);
    if r.workflow == MULTI_ARCH_WF {
        v["name"] = json!("TheRock Multi-Arch CI");
    }
    v
}

/// The runs of a super-repo commit, mounted consistently: the repository-wide listing
/// (`/actions/runs?head_sha=`, every workflow) and each workflow's own listing.
pub async fn mount_super_runs(gh: &MockServer, repo: &str, sha: &str, runs: &[RunSpec<'_>]) {
    let all: Vec<Value> = runs.iter().map(super_run_json).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/actions/runs")))
        .and(query_param("head_sha", sha))
        .respond_with(ok_json(runs_page(&all, all.len())))
        .mount(gh)
        .await;
    for wf in [MULTI_ARCH_WF, LEGACY_WF] {
        let of: Vec<Value> = runs.iter().filter(|r| r.workflow == wf).map(super_run_json).collect();
        mount_commit_runs(gh, repo, wf, sha, &of).await;
    }
}

/// A super-repo run's archives (`(filename)`, each a small real artifact) in the external bucket.
pub fn put_super_archives(bed: &Bed, repo: &str, run: u64, names: &[&str]) {
    let prefix = format!("{}/{run}-linux/", repo.replace('/', "-"));
    for n in names {
        let (name, target) = n.split_once('_').map(|(a, rest)| (a, rest.rsplit('_').next().unwrap_or(rest))).unwrap_or((n, "generic"));
        let target = target.split('.').next().unwrap_or(target);
        bed.s3.put_artifact("therock-ci-artifacts-external", &prefix, n, &simple_artifact(name, target, "x"), true);
    }
}

/// ci-env with a TheRock pin and the bot's `baseline-run-id`.
pub fn ci_env_hint(pin: &str, hint: &str) -> String {
    ci_env(pin).replace("    value: \"\"\n", &format!("    value: \"{hint}\"\n"))
}

/// rocm-libraries' `therock-multi-arch-ci.yml`: the three reusable calls at `@{reference}` (the
/// setup one on line 9) and a checkout of ROCm/TheRock at `ref: {reference}`.
pub fn multi_arch_workflow(reference: &str) -> String {
    format!(
        "# Update every ROCm/TheRock ref in this file together.\nname: TheRock Multi-Arch CI\non:\n  pull_request:\n  push:\n    branches: [develop]\njobs:\n  setup:\n    uses: ROCm/TheRock/.github/workflows/setup_multi_arch.yml@{reference} # 2026-09-18\n    with:\n      external_repo: rocm-libraries\n  linux:\n    needs: setup\n    uses: ROCm/TheRock/.github/workflows/multi_arch_ci_linux.yml@{reference} # 2026-09-18\n    secrets: inherit\n  windows:\n    needs: setup\n    uses: ROCm/TheRock/.github/workflows/multi_arch_ci_windows.yml@{reference} # 2026-09-18\n    secrets: inherit\n  summary:\n    runs-on: ubuntu-24.04\n    steps:\n      - name: Checkout TheRock\n        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          repository: ROCm/TheRock\n          ref: {reference} # 2026-09-18\n"
    )
}

/// rocm-systems' `.github/therock_ref.json` (the `ref` on line 2).
pub fn therock_ref_json(sha: &str) -> String {
    format!("{{\n  \"ref\": \"{sha}\",\n  \"commit_date\": \"2026-09-18T07:13:59Z\",\n  \"updated_date\": \"2026-09-19T02:00:00Z\"\n}}\n")
}

/// rocm-systems' `_therock_*` wrapper calling TheRock's `reusable` at `@{reference}` (line 7).
pub fn therock_wrapper(reusable: &str, reference: &str) -> String {
    format!("name: TheRock {reusable}\non:\n  workflow_call:\njobs:\n  call:\n    name: TheRock\n    uses: ROCm/TheRock/.github/workflows/{reusable}@{reference} # 2026-09-18T07:13:59Z\n    secrets: inherit\n")
}

/// `GET /repos/{repo}/commits/{sha}` with committer date `date`.
pub async fn mount_commit(gh: &MockServer, repo: &str, sha: &str, date: &str) {
    Mock::given(method("GET")).and(path(format!("/repos/{repo}/commits/{sha}"))).respond_with(ok_json(commit_json(sha, &[], date))).mount(gh).await;
}

/// `GET /repos/{repo}/commits?sha={branch}&until={until}`: `commits` (sha, committer date), newest first.
pub async fn mount_commits_until(gh: &MockServer, repo: &str, branch: &str, until: &str, commits: &[(&str, &str)]) {
    let list: Vec<Value> = commits.iter().map(|(s, d)| commit_json(s, &[], d)).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/commits")))
        .and(query_param("sha", branch))
        .and(query_param("until", until))
        .respond_with(ok_json(json!(list)))
        .mount(gh)
        .await;
}

/// The URL paths (and queries) the GitHub stand-in received, for a failing budget assertion.
pub async fn gh_paths(gh: &MockServer) -> Vec<String> {
    gh.received_requests().await.unwrap_or_default().iter().map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or(""))).collect()
}

/// `repo`'s default branch `branch` (`GET /repos/{repo}`) and its history `shas` (newest first),
/// listed by branch name as `latest` asks (`GET /repos/{repo}/commits?sha={branch}`).
pub async fn mount_default_branch_history(gh: &MockServer, repo: &str, branch: &str, shas: &[String]) {
    Mock::given(method("GET")).and(path(format!("/repos/{repo}"))).respond_with(ok_json(json!({"full_name": repo, "default_branch": branch}))).mount(gh).await;
    let commits: Vec<Value> =
        shas.iter().enumerate().map(|(i, s)| commit_json(s, &shas.get(i + 1).map(|p| vec![p.as_str()]).unwrap_or_default(), "2026-08-15T20:00:00Z")).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{repo}/commits")))
        .and(query_param("sha", branch))
        .respond_with(ok_json(json!(commits)))
        .mount(gh)
        .await;
}
