//! What `bisect` and `exec` share: fetch a commit's artifacts into a fresh tree, run the user's
//! test on it with `THEROCK_ARTIFACTS_DIR`, `THEROCK_ARTIFACTS_COMMIT` and
//! `THEROCK_ARTIFACTS_RUN_ID` set, and a ROCm install's environment (`ROCM_PATH`,
//! `THEROCK_BIN_DIR`, `AMDGPU_FAMILIES`, `PATH` / `LD_LIBRARY_PATH` led by the tree), and remove
//! the tree afterwards unless `--keep`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

use crate::config::Pick;
use crate::domain::select::Found;
use crate::fetch::{self, Limits};
use crate::s3::S3;

/// Where step trees go, and whether they stay.
pub struct Workdir {
    pub root: PathBuf,
    pub keep: bool,
    temporary: bool,
}

impl Workdir {
    pub fn new(given: Option<&Path>, keep: bool) -> Result<Workdir> {
        let (root, temporary) = match given {
            Some(p) => (p.to_path_buf(), false),
            // A fresh directory of our own (tempfile: created exclusively, mode 0700). Removed by
            // `Drop` with `remove_path`, which also clears read-only trees an archive made.
            None => {
                let t = tempfile::Builder::new().prefix("therock-artifacts-bisect-").tempdir().context("cannot create a temporary work directory")?;
                (t.keep(), true)
            }
        };
        std::fs::create_dir_all(&root).with_context(|| format!("cannot create the work directory {}", root.display()))?;
        Ok(Workdir { root, keep, temporary })
    }

    /// Removes a step's tree once its test has run, unless `--keep`.
    pub fn drop_tree(&self, tree: &Path) {
        if !self.keep {
            let _ = fetch::extract::remove_path(tree);
        }
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.temporary && !self.keep {
            let _ = fetch::extract::remove_path(&self.root);
        }
    }
}

/// Fetches and runs: what each step needs besides the commit.
pub struct Runner<'a> {
    pub s3: &'a S3,
    pub pick: &'a Pick,
    pub cache_dir: PathBuf,
    pub limits: Limits,
    pub command: &'a [String],
    /// With `--json`, the test's stdout goes to stderr (stdout holds one JSON document).
    pub quiet_stdout: bool,
    /// The requested groups, comma-separated (`AMDGPU_FAMILIES`).
    pub families: String,
}

/// `var` with `dirs` in front of its current value (`std::env::join_paths` rules).
fn led_by(dirs: &[PathBuf], var: &str) -> std::ffi::OsString {
    let mut all: Vec<PathBuf> = dirs.to_vec();
    if let Some(old) = std::env::var_os(var) {
        all.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(all).unwrap_or_default()
}

/// The test's environment on `tree`: a ROCm install there, as TheRock's own tests expect it.
pub fn install_env(tree: &Path, families: &str) -> Vec<(&'static str, std::ffi::OsString)> {
    let (bin, lib) = (tree.join("bin"), tree.join("lib"));
    let mut env = vec![("ROCM_PATH", tree.as_os_str().to_owned()), ("THEROCK_BIN_DIR", bin.as_os_str().to_owned()), ("AMDGPU_FAMILIES", families.into())];
    if cfg!(windows) {
        env.push(("PATH", led_by(&[bin, lib], "PATH")));
    } else {
        env.push(("PATH", led_by(&[bin], "PATH")));
        env.push(("LD_LIBRARY_PATH", led_by(&[lib], "LD_LIBRARY_PATH")));
    }
    env
}

impl Runner<'_> {
    /// Fetches `found`'s archives into `tree`; the bytes downloaded.
    pub async fn fetch(&self, found: &Found, tree: &Path) -> Result<u64> {
        Ok(self.fetch_named(found, tree).await?.0)
    }

    /// Fetches `found`'s archives into `tree` (over what is there); the bytes downloaded and the
    /// archives' names.
    pub async fn fetch_named(&self, found: &Found, tree: &Path) -> Result<(u64, Vec<String>)> {
        let planned = fetch::plan(found, self.pick);
        if planned.is_empty() {
            bail!("the --include/--exclude filters selected no archive of commit {}", found.commit.as_deref().unwrap_or("?"));
        }
        let out = fetch::prepare_output(tree, false)?;
        // The runner's trees are its own, and overlays layer two commits on purpose.
        let origin = super::fetch::origin_of(found);
        let req = fetch::Request { mode: self.pick.extract, verify: true, cache_dir: Some(self.cache_dir.clone()), origin, mixing: fetch::Mixing::Merge };
        let report = fetch::run(planned, self.s3, &req, out, self.limits).await?;
        Ok((report.downloaded, report.archives.into_iter().map(|a| a.filename).collect()))
    }

    /// Runs the command on `tree`; its exit code (`None`: killed by a signal).
    pub async fn run(&self, tree: &Path, commit: &str, run_id: Option<u64>) -> Result<Option<i32>> {
        let mut cmd = tokio::process::Command::new(&self.command[0]);
        cmd.args(&self.command[1..])
            .env("THEROCK_ARTIFACTS_DIR", tree)
            .env("THEROCK_ARTIFACTS_COMMIT", commit)
            .env("THEROCK_ARTIFACTS_RUN_ID", run_id.map(|r| r.to_string()).unwrap_or_default())
            .envs(install_env(tree, &self.families));
        if self.quiet_stdout {
            cmd.stdout(std::process::Stdio::from(std::io::stderr()));
        }
        let status = cmd.status().await.with_context(|| format!("cannot run {}", self.command[0]))?;
        Ok(status.code())
    }
}

/// The run the fetched artifacts came from (the first group's).
pub fn first_run_id(found: &Found) -> Option<u64> {
    found.slots.iter().find_map(|s| s.hit.as_ref()).map(|h| h.run.id)
}
