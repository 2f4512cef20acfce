//! The binary under test, run the way users and the runner run it: a clean environment
//! pointed at the bed's S3 and GitHub, and its output read back.

use super::{S3Server, TOKEN};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use wiremock::MockServer;

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

    /// `therock-artifacts action` as the runner starts it, in workspace `ws` (its `GITHUB_OUTPUT`
    /// and step summary in `files`), in mode fetch of TheRock's gfx94X-dcgpu run `run_id`; the
    /// caller adds the other `INPUT_*` and `GITHUB_SHA`. (Run it with `cmd.output()`, not
    /// `run_cmd`: the token appears once, in its mask command.)
    pub fn action_fetch(&self, ws: &Path, files: &Path, run_id: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin());
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("INPUT_MODE", "fetch")
            .env("INPUT_RUN-ID", run_id)
            .env("INPUT_ARTIFACT-GROUP", "gfx94X-dcgpu")
            .env("INPUT_GITHUB-TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", "ROCm/TheRock")
            .env("GITHUB_WORKSPACE", ws)
            .env("GITHUB_OUTPUT", files.join("out"))
            .env("GITHUB_STEP_SUMMARY", files.join("summary"))
            .env("GITHUB_API_URL", self.gh.uri())
            .env("AWS_ENDPOINT_URL", &self.s3.endpoint)
            .env("THEROCK_ARTIFACTS_CACHE", self.cache_dir())
            .arg("action")
            .current_dir(ws);
        cmd
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
