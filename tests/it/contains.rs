//! `contains`: the first TheRock commit whose rocm-systems gitlink includes a commit, found by
//! bisecting the commits that moved the gitlink, within a GitHub budget; its runs' artifacts
//! and dev tarball; a commit not yet pinned, and one the super-repo does not have.

use crate::common::*;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

const T0: i64 = 1_786_000_000;

fn time(t: i64) -> String {
    let s = std::process::Command::new("date").args(["-u", "-d", &format!("@{t}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8_lossy(&s.stdout).trim().to_string()
}

/// 2,000 TheRock commits (oldest first, ten minutes apart); every 20th moves rocm-systems.
struct World {
    therock: Vec<String>,
    systems: Vec<String>,
}

impl World {
    fn new() -> World {
        World { therock: (0..2000).map(|i| sha(0x3000_0000 + i)).collect(), systems: (0..300).map(|i| sha(0x5000_0000 + i)).collect() }
    }
    /// TheRock commit index of bump `b`, and the rocm-systems commit it pins.
    fn bump(&self, b: usize) -> (usize, &String) {
        (20 * b + 19, &self.systems[3 * b + 2])
    }
    fn date(&self, i: usize) -> String {
        time(T0 + 600 * i as i64)
    }
    /// A rocm-systems commit lands just before the bump that first pins it.
    fn systems_date(&self, j: usize) -> String {
        let b = j.saturating_sub(2).div_ceil(3);
        time(T0 + 600 * self.bump(b).0 as i64 - 300)
    }
}

async fn mount_gitlink(gh: &MockServer, at: &str, link: &str) {
    let entry = json!({"type": "submodule", "name": "rocm-systems", "path": "rocm-systems", "sha": link, "size": 0,
                       "submodule_git_url": "https://github.com/ROCm/rocm-systems.git"});
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/contents/rocm-systems")))
        .and(query_param("ref", at))
        .respond_with(ok_json(entry))
        .mount(gh)
        .await;
}

async fn mount_comparison(gh: &MockServer, w: &World, x: usize, head: &str, status: &str, descendants: &[String]) {
    let body = json!({"status": status, "ahead_by": descendants.len(), "behind_by": 0, "total_commits": descendants.len(),
        "base_commit": commit_json(&w.systems[x], &[], &w.systems_date(x)), "merge_base_commit": commit_json(&w.systems[x], &[], &w.systems_date(x)),
        "commits": descendants.iter().map(|s| commit_json(s, &[], "2026-08-15T20:00:00Z")).collect::<Vec<_>>(), "files": []});
    Mock::given(method("GET")).and(path(format!("/repos/{SYS}/compare/{}...{head}", w.systems[x]))).respond_with(ok_json(body)).mount(gh).await;
}

async fn mount_world(bed: &Bed, w: &World, x: usize) {
    let tip = &w.systems[299];
    mount_gitlink(&bed.gh, "main", tip).await;
    for b in 0..100 {
        let (i, link) = w.bump(b);
        mount_gitlink(&bed.gh, &w.therock[i], link).await;
    }
    // The commits that moved rocm-systems since the commit's date, newest first.
    let since = w.systems_date(x);
    let bumps: Vec<_> =
        (0..100).rev().map(|b| w.bump(b).0).filter(|i| w.date(*i) >= since).map(|i| commit_json(&w.therock[i], &[&w.therock[i - 1]], &w.date(i))).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("sha", "main"))
        .and(query_param("path", "rocm-systems"))
        .and(query_param("since", since.as_str()))
        .respond_with(ok_json(json!(bumps)))
        .mount(&bed.gh)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_therock_commit_past_a_commit_within_sixteen_requests_over_two_thousand() {
    let bed = Bed::new().await;
    let w = World::new();
    let x = 181;
    mount_world(&bed, &w, x).await;
    mount_comparison(&bed.gh, &w, x, &w.systems[299], "ahead", &w.systems[182..]).await;
    let (answer, link) = w.bump(60);
    mount_comparison(&bed.gh, &w, x, link, "ahead", std::slice::from_ref(link)).await;
    one_run(&bed, 51_000, &w.therock[answer], &[]).await;
    put_group(&bed, 51_000);
    // Later TheRock commits, for the dev tarball: one built 6 commits after the bump.
    let later: Vec<_> = (answer..(answer + 100)).rev().map(|i| commit_json(&w.therock[i], &[&w.therock[i - 1]], &w.date(i))).collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("since", w.date(answer).as_str()))
        .and(query_param_is_missing("path"))
        .respond_with(ok_json(json!(later)))
        .mount(&bed.gh)
        .await;
    let tb = |i: usize, group: &str| format!("v4/tarball/therock-dist-linux-{group}-7.10.0.dev0+{}.tar.gz", &w.therock[i][..10]);
    for (key, body) in [
        (tb(answer + 6, "gfx94X-dcgpu"), "a"),
        (tb(answer + 40, "gfx94X-dcgpu"), "b"),
        (tb(answer, "gfx94X-dcgpu-tests"), "c"),
        (tb(answer, "gfx110X-all"), "d"),
    ] {
        bed.s3.put("therock-dev-tarball", &key, body.as_bytes());
    }
    bed.s3.put("therock-dev-tarball", "v4/tarball/therock-dist-linux-gfx94X-dcgpu-not-a-version.tar.gz", b"e");

    let o = bed.run(&group_args("contains", SYS, &w.systems[x], &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "found", "{d}");
    assert_eq!(d["therock_commit"], w.therock[answer], "{d}");
    assert_eq!((d["gitlink"].as_str(), d["commit"].as_str(), d["therock_branch"].as_str()), (Some(link.as_str()), Some(w.systems[x].as_str()), Some("main")));
    assert_eq!(d["results"][0]["workflow_run_id"], "51000", "{d}");
    assert_eq!(d["results"][0]["git_commit_sha"], w.therock[answer]);
    assert_eq!(d["release"]["version"], format!("7.10.0.dev0+{}", &w.therock[answer + 6][..10]), "{d}");
    assert_eq!(d["release"]["bucket"], "therock-dev-tarball");
    assert!(d["message"].as_str().unwrap().contains("bumped the submodule past it"), "{d}");
    let paths = gh_paths(&bed.gh).await;
    println!("contains over 2,000 TheRock commits: {} GitHub requests: {paths:#?}", paths.len());
    assert!(paths.len() <= 16, "contains over 2,000 TheRock commits: {} GitHub requests\n{paths:#?}", paths.len());

    // As text: which TheRock commit bumped it.
    let o = bed.run(&group_args("contains", SYS, &w.systems[x], &[])).await;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains(&w.therock[answer][..12]) && out.contains("bumped the submodule past it"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_not_pinned_yet_is_not_found_and_one_the_super_repo_lacks_is_an_error() {
    let bed = Bed::new().await;
    let w = World::new();
    mount_gitlink(&bed.gh, "main", &w.systems[299]).await;
    // Newer than the newest gitlink: not in any TheRock commit yet (exit 1, naming it).
    mount_comparison(&bed.gh, &w, 250, &w.systems[299], "behind", &[]).await;
    let o = bed.run(&group_args("contains", SYS, &w.systems[250], &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["status"], "not_found");
    assert!(d["message"].as_str().unwrap().contains(&format!("the newest gitlink, {}", &w.systems[299][..12])), "{d}");
    assert!(d["release"].is_null() && d["results"].as_array().unwrap().is_empty());

    // GitHub does not know the commit in rocm-systems: exit 2.
    let stranger = sha(0xdead_beef);
    let o = bed.run(&group_args("contains", SYS, &stranger, &["--json"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("commit {stranger} is not in {SYS}")), "{}", stderr(&o));

    // TheRock itself is no super-repo.
    let o = bed.run(&group_args("contains", THEROCK, &w.therock[0], &[])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a TheRock super-repo"), "{}", stderr(&o));
}

/// Serves TheRock's rocm-systems gitlinks and the commits that moved them from a real
/// repository: the contents API from `git ls-tree`, the commits listing from `git log -- path`.
async fn serve_therock(gh: &MockServer, dir: &std::path::Path) -> Vec<String> {
    let log = git(dir, &["log", "--first-parent", "--format=%H %P", "--", "rocm-systems"]);
    let mut bumps = Vec::new();
    let mut listed = Vec::new();
    for line in log.lines() {
        let mut f = line.split_whitespace();
        let (c, parent) = (f.next().unwrap().to_string(), f.next());
        listed.push(commit_json(&c, &parent.into_iter().collect::<Vec<_>>(), "2026-08-15T20:00:00Z"));
        bumps.push(c);
    }
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits")))
        .and(query_param("path", "rocm-systems"))
        .respond_with(ok_json(json!(listed)))
        .mount(gh)
        .await;
    for at in bumps.iter().map(String::as_str).chain(["main"]) {
        let tree = git(dir, &["ls-tree", at, "--", "rocm-systems"]);
        let link = tree.split_whitespace().nth(2).unwrap().to_string();
        mount_gitlink(gh, at, &link).await;
    }
    bumps.reverse();
    bumps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_super_repo_checkout_inclusion_is_decided_by_git_over_real_gitlinks() {
    let bed = Bed::new().await;
    let sdir = tempfile::tempdir().unwrap();
    let systems = git_repo(sdir.path(), "git@github.com:ROCm/rocm-systems.git", 12);
    git(sdir.path(), &["update-ref", "refs/remotes/origin/develop", "HEAD"]);
    // TheRock: four bumps of the rocm-systems gitlink between commits that change other files.
    let tdir = tempfile::tempdir().unwrap();
    let t = tdir.path();
    git(t, &["init", "-q", "-b", "main"]);
    for (i, pinned) in [1usize, 4, 7, 11].iter().enumerate() {
        std::fs::write(t.join("README.md"), format!("{i}\n")).unwrap();
        git(t, &["add", "README.md"]);
        git(t, &["commit", "-q", "-m", &format!("docs {i}")]);
        git(t, &["update-index", "--add", "--cacheinfo", &format!("160000,{},rocm-systems", systems[*pinned])]);
        git(t, &["commit", "-q", "-m", &format!("Bump rocm-systems to {pinned}")]);
    }
    let bumps = serve_therock(&bed.gh, t).await;
    assert_eq!(bumps.len(), 4);
    mount_commit_runs(&bed.gh, THEROCK, WF, &bumps[2], &[]).await;

    let mut cmd = bed.cmd();
    cmd.current_dir(sdir.path()).args(["contains", "--commit", &systems[5], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["therock_commit"], bumps[2], "the bump to commit 7 is the first past commit 5: {d}");
    assert_eq!(d["gitlink"], systems[7]);
    assert_eq!(d["repo"], SYS, "--repo from the checkout's origin");
    assert!(d["results"].as_array().unwrap().is_empty(), "that commit has no run: {d}");
    assert!(d["release"].is_null());
    let paths = gh_paths(&bed.gh).await;
    assert!(!paths.iter().any(|p| p.contains("/compare/")), "git decided inclusion: {paths:#?}");

    // The newest gitlink (commit 11) predates the checkout's new commit: not in TheRock yet.
    std::fs::write(sdir.path().join("file.txt"), "new\n").unwrap();
    git(sdir.path(), &["commit", "-q", "-am", "new"]);
    let new = git(sdir.path(), &["rev-parse", "HEAD"]);
    git(sdir.path(), &["update-ref", "refs/remotes/origin/develop", "HEAD"]);
    let mut cmd = bed.cmd();
    cmd.current_dir(sdir.path()).args(["contains", "--commit", &new, "--json"]);
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout_json(&o)["message"].as_str().unwrap().contains(&systems[11][..12]), "{}", stdout_json(&o));
}
