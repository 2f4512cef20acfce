//! The shared test bed: a real S3-compatible server (s3s-fs, in process, on 127.0.0.1), a
//! GitHub REST stand-in (wiremock) answering with full-shaped objects, real archives, real git
//! repositories, and the real binary run the way users and the runner run it.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TOKEN: &str = "ghs_testtoken_SECRET_0123456789";
pub const THEROCK: &str = "ROCm/TheRock";
pub const WF: &str = "multi_arch_ci.yml";
pub const BUCKET: &str = "therock-ci-artifacts";

/// `cmd --repo R --commit C --artifact-group gfx94X-dcgpu --platform linux`, then `extra`.
pub fn group_args<'a>(cmd: &'a str, repo: &'a str, commit: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd, "--repo", repo, "--commit", commit, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
    v.extend_from_slice(extra);
    v
}

/// `fetch` of commit `c` of TheRock's gfx94X-dcgpu artifacts into `out`, then `extra`.
pub fn fetch_args<'a>(c: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    fetch_args_in(THEROCK, c, out, extra)
}

/// `fetch_args` for another repository.
pub fn fetch_args_in<'a>(repo: &'a str, c: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = group_args("fetch", repo, c, &["--output-dir", out]);
    v.extend_from_slice(extra);
    v
}

/// One run of TheRock for commit `c` holding `archives` (filename, bytes), with sidecars.
pub async fn one_run(bed: &Bed, run: u64, c: &str, archives: &[(&str, Vec<u8>)]) {
    mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&RunSpec::ok(run, c, THEROCK, WF))]).await;
    for (name, data) in archives {
        bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), name, data, true);
    }
}

/// The gfx94X-dcgpu group (a generic and a gfx942 archive) in run `run`.
pub fn put_group(bed: &Bed, run: u64) {
    bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "x"), true);
    bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "x"), true);
}

// ---------------------------------------------------------------- S3

pub struct S3Server {
    pub endpoint: String,
    pub root: tempfile::TempDir,
    pub log: Arc<Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

/// s3s-fs leaves `ETag` out of ListObjectsV2 results; real S3 always sends it (the quoted MD5
/// of a single-part upload), and the cache keys its references by it. This wrapper adds it and
/// hands every other call to s3s-fs unchanged.
struct EtagFs {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
}

#[async_trait::async_trait]
impl s3s::S3 for EtagFs {
    async fn list_objects_v2(&self, req: s3s::S3Request<s3s::dto::ListObjectsV2Input>) -> s3s::S3Result<s3s::S3Response<s3s::dto::ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let mut resp = self.fs.list_objects_v2(req).await?;
        for o in resp.output.contents.iter_mut().flatten() {
            if let Some(k) = &o.key {
                if let Ok(data) = std::fs::read(self.root.join(&bucket).join(k)) {
                    use md5::Digest;
                    o.e_tag = Some(s3s::dto::ETag::Strong(hex_lower(&md5::Md5::digest(&data))));
                }
            }
        }
        Ok(resp)
    }
    /// With `If-Match` honoured as S3 does (s3s-fs ignores it on GET): 412 when the object's
    /// ETag differs.
    async fn get_object(&self, req: s3s::S3Request<s3s::dto::GetObjectInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::GetObjectOutput>> {
        if let Some(s3s::dto::ETagCondition::ETag(want)) = &req.input.if_match {
            let path = self.root.join(&req.input.bucket).join(&req.input.key);
            if let Ok(data) = std::fs::read(&path) {
                use md5::Digest;
                let have = s3s::dto::ETag::Strong(hex_lower(&md5::Md5::digest(&data)));
                if !have.strong_cmp(want) {
                    return Err(s3s::s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"));
                }
            }
        }
        self.fs.get_object(req).await
    }
    async fn head_object(&self, req: s3s::S3Request<s3s::dto::HeadObjectInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::HeadObjectOutput>> {
        self.fs.head_object(req).await
    }
    async fn head_bucket(&self, req: s3s::S3Request<s3s::dto::HeadBucketInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
    async fn list_objects(&self, req: s3s::S3Request<s3s::dto::ListObjectsInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl S3Server {
    pub fn start() -> Self {
        Self::start_with_auth(None)
    }

    /// With `auth`, the server accepts only requests signed with that key pair (so anonymous
    /// requests are denied, as from a private bucket).
    pub fn start_with_auth(auth: Option<(&str, &str)>) -> Self {
        let root = tempfile::tempdir().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = root.path().to_path_buf();
        let log2 = log.clone();
        let auth = auth.map(|(a, b)| (a.to_string(), b.to_string()));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let fs = EtagFs { fs: s3s_fs::FileSystem::new(&dir).unwrap(), root: dir.clone() };
                let mut b = s3s::service::S3ServiceBuilder::new(fs);
                if let Some((ak, sk)) = auth {
                    b.set_auth(s3s::auth::SimpleAuth::from_single(ak, sk));
                }
                let service = b.build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((socket, _)) = listener.accept().await else { continue };
                    let svc = service.clone();
                    let log = log2.clone();
                    let logged = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let range = req.headers().get("range").and_then(|v| v.to_str().ok()).map(|r| format!(" range={r}")).unwrap_or_default();
                        log.lock().unwrap().push(format!("{} {}{}", req.method(), req.uri(), range));
                        let svc = svc.clone();
                        async move { hyper::service::Service::call(&svc, req).await }
                    });
                    tokio::spawn(async move {
                        let b = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                        let _ = b.serve_connection(hyper_util::rt::TokioIo::new(socket), logged).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        S3Server { endpoint: format!("http://{addr}"), root, log, _thread: thread }
    }

    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        let p = self.root.path().join(bucket).join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    pub fn bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).unwrap();
    }

    /// Puts an archive and (unless `sidecar` is false) its `.sha256sum`.
    pub fn put_artifact(&self, bucket: &str, prefix: &str, filename: &str, data: &[u8], sidecar: bool) {
        self.put(bucket, &format!("{prefix}{filename}"), data);
        if sidecar {
            self.put(bucket, &format!("{prefix}{filename}.sha256sum"), format!("{}\n", sha256_hex(data)).as_bytes());
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

// ---------------------------------------------------------------- archives

pub enum Member<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

pub fn tar_bytes(manifest: &[&str], members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let text = manifest.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "artifact_manifest.txt", text.as_bytes()).unwrap();
    for m in members {
        let mut h = tar::Header::new_gnu();
        match m {
            Member::File(p, data, mode) => {
                h.set_size(data.len() as u64);
                h.set_mode(*mode);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, p, *data).unwrap();
            }
            Member::Dir(p) => {
                h.set_size(0);
                h.set_mode(0o755);
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            Member::Symlink(p, target) => {
                h.set_size(0);
                h.set_mode(0o777);
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, p, target).unwrap();
            }
            Member::Hardlink(p, target) => {
                h.set_size(0);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Link);
                b.append_link(&mut h, p, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A small but real artifact: `{name}_{component}_{target}` with one file under its stage dir.
pub fn simple_artifact(name: &str, target: &str, content: &str) -> Vec<u8> {
    let line = format!("{name}/stage");
    let file = format!("{line}/share/{name}/{target}.txt");
    zst(&tar_bytes(&[&line], &[Member::File(&file, content.as_bytes(), 0o644)]))
}

// ---------------------------------------------------------------- GitHub

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

// ---------------------------------------------------------------- histories and pins

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

// ---------------------------------------------------------------- the binary

/// The binary under test: this build's, or `THEROCK_ARTIFACTS_TEST_BIN` (to show that a test
/// fails on an older build).
pub fn bin() -> String {
    std::env::var("THEROCK_ARTIFACTS_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_therock-artifacts").to_string())
}

pub struct Bed {
    pub s3: S3Server,
    pub gh: MockServer,
    pub home: tempfile::TempDir,
}

impl Bed {
    pub async fn new() -> Bed {
        let s3 = S3Server::start();
        for b in ["therock-ci-artifacts", "therock-ci-artifacts-external", "therock-artifacts", "therock-artifacts-external", "therock-nightly-artifacts"] {
            s3.bucket(b);
        }
        Bed { s3, gh: MockServer::start().await, home: tempfile::tempdir().unwrap() }
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    pub fn cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_")
                || k.starts_with("GITHUB_")
                || k.starts_with("INPUT_")
                || k.starts_with("RUNNER_")
                || k == "GH_TOKEN"
                || k.starts_with("THEROCK_")
                || k == "RELEASE_TYPE"
            {
                c.env_remove(&k);
            }
        }
        let work = self.home.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        c.current_dir(&work)
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("xdg"))
            .env("THEROCK_ARTIFACTS_CACHE", self.cache_dir())
            .env("GITHUB_API_URL", self.gh.uri())
            .env("GITHUB_TOKEN", TOKEN)
            .env("AWS_ENDPOINT_URL", &self.s3.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("THEROCK_ARTIFACTS_BACKOFF_MS", "5")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::null());
        c
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(args);
        run_cmd(c).await
    }
}

pub async fn run_cmd(mut c: std::process::Command) -> Output {
    let out = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!so.contains(TOKEN) && !se.contains(TOKEN), "the token leaked into the output");
    out
}

pub fn stdout_json(o: &Output) -> Value {
    let s = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {s}\nstderr: {}", String::from_utf8_lossy(&o.stderr)))
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

// ---------------------------------------------------------------- git

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository with `n` first-parent commits on main; returns the SHAs, oldest first.
pub fn git_repo(dir: &Path, origin: &str, n: usize) -> Vec<String> {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["remote", "add", "origin", origin]);
    let mut shas = Vec::new();
    for i in 0..n {
        std::fs::write(dir.join("file.txt"), format!("{i}\n")).unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-q", "-m", &format!("commit {i}")]);
        shas.push(git(dir, &["rev-parse", "HEAD"]));
    }
    shas
}

// ---------------------------------------------------------------- helpers for fetch tests

/// A tar stream built by hand, so names the `tar` crate's builder would refuse get through.
pub fn raw_tar(entries: &[(&str, u8, &str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data, link) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = *kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| *b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data.as_bytes());
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub fn noise(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for b in v.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    v
}

pub fn no_partials(dir: &Path) {
    for e in walk(dir) {
        let n = e.file_name().unwrap().to_string_lossy().to_string();
        assert!(!n.ends_with(".partial") && !n.contains("staging"), "leftover {}", e.display());
    }
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

/// What a test proxy does to the bytes it passes on one connection (one value per connection;
/// state shared between connections lives behind the factory's `Arc`s).
#[async_trait::async_trait]
pub trait Tap: Send + Sync + 'static {
    /// Before a chunk of the request goes on to the server.
    async fn up(&self, _chunk: &[u8]) {}
    /// Before a chunk of the answer goes on to the client: how much of it passes.
    async fn down(&self, _chunk: &[u8]) -> Pass {
        Pass::All
    }
}

/// How much of an answer's chunk a proxy passes.
pub enum Pass {
    All,
    /// The first `n` bytes, then the connection is dropped mid-answer.
    ThenClose(usize),
}

/// A TCP proxy to `upstream` (`http://host:port`) passing every connection's bytes through a
/// fresh `tap()`; returns its `http://` address.
pub async fn tcp_proxy<T: Tap>(upstream: &str, tap: impl Fn() -> T + Send + Sync + 'static) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let up = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (up, tap) = (up.clone(), tap());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let c2s = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = cr.read(&mut buf).await {
                        tap.up(&buf[..n]).await;
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    std::future::pending::<()>().await
                };
                let s2c = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = sr.read(&mut buf).await {
                        let keep = match tap.down(&buf[..n]).await {
                            Pass::All => n,
                            Pass::ThenClose(k) => {
                                let _ = cw.write_all(&buf[..k]).await;
                                break;
                            }
                        };
                        if cw.write_all(&buf[..keep]).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::select! { _ = c2s => {}, _ = s2c => {} }
            });
        }
    });
    format!("http://{addr}")
}

/// A TCP proxy to `upstream` (`http://host:port`) capping the total downstream rate at
/// `bytes_per_sec`, shared by all connections; returns its `http://` address.
pub async fn throttle_proxy(upstream: String, bytes_per_sec: u64) -> String {
    use std::time::{Duration, Instant};
    struct Throttle {
        bucket: Arc<Mutex<(Instant, f64)>>,
        rate: f64,
    }
    #[async_trait::async_trait]
    impl Tap for Throttle {
        async fn down(&self, chunk: &[u8]) -> Pass {
            let wait = {
                let mut b = self.bucket.lock().unwrap();
                let now = Instant::now();
                let refill = now.duration_since(b.0).as_secs_f64() * self.rate;
                b.1 = (b.1 + refill).min(self.rate / 10.0) - chunk.len() as f64;
                b.0 = now;
                Duration::from_secs_f64((-b.1 / self.rate).max(0.0))
            };
            tokio::time::sleep(wait).await;
            Pass::All
        }
    }
    let bucket = Arc::new(Mutex::new((Instant::now(), 0f64)));
    tcp_proxy(&upstream, move || Throttle { bucket: bucket.clone(), rate: bytes_per_sec as f64 }).await
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

// ---------------------------------------------------------------- super-repos (issue 22)

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
