//! The release machinery around the binary: scripts/release-action.sh (the release commit's
//! rewrite), the parity of the two action definitions (action.yml, the container action, and
//! binary/action.yml, the composite that runs the released binary), and the composite's own
//! steps run the way the runner runs them: binary/install.sh against a file:// "release", then
//! the run step's command with the step's env against the test bed's GitHub and S3.

use crate::common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const IMAGE: &str = "ghcr.io/rocm/therock-artifacts-action";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

// ---------------------------------------------------------------- the action definitions

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Input {
    description: String,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    default: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
struct OutputDef {
    description: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
struct Step {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    run: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
struct Runs {
    using: String,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(serde::Deserialize, Debug)]
struct Action {
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, OutputDef>,
    runs: Runs,
}

fn action(path: &Path) -> Action {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn step<'a>(a: &'a Action, id: &str) -> &'a Step {
    a.runs.steps.iter().find(|s| s.id.as_deref() == Some(id)).unwrap_or_else(|| panic!("binary/action.yml has no step '{id}'"))
}

#[test]
fn both_action_definitions_list_the_same_inputs_and_outputs() {
    let container = action(&root().join("action.yml"));
    let binary = action(&root().join("binary/action.yml"));
    let names = |m: &BTreeMap<String, Input>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&container.inputs), names(&binary.inputs), "action.yml and binary/action.yml must list the same inputs");
    for (name, input) in &container.inputs {
        assert_eq!(Some(input), binary.inputs.get(name), "input '{name}' differs between action.yml and binary/action.yml (description, required, default)");
    }
    let outs = |m: &BTreeMap<String, OutputDef>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(outs(&container.outputs), outs(&binary.outputs), "action.yml and binary/action.yml must list the same outputs");
    for (name, o) in &container.outputs {
        let b = &binary.outputs[name];
        assert_eq!(o.description, b.description, "output '{name}': the descriptions differ");
        assert_eq!(
            b.value.as_deref(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str()),
            "output '{name}' of binary/action.yml comes from the run step"
        );
    }

    // The container action runs `therock-artifacts action`; the composite runs the same command
    // with every input as INPUT_<NAME>, upper-cased with hyphens kept, as the runner passes them.
    assert_eq!(container.runs.using, "docker");
    assert_eq!(container.runs.args, vec!["action"]);
    assert_eq!(binary.runs.using, "composite");
    let run = step(&binary, "run");
    let mut want: BTreeMap<String, String> =
        container.inputs.keys().map(|n| (format!("INPUT_{}", n.to_uppercase()), format!("${{{{ inputs.{n} }}}}"))).collect();
    want.insert("THEROCK_ARTIFACTS_EXE".into(), "${{ steps.install.outputs.path }}".into());
    assert_eq!(run.env, want, "the run step's env passes every input, and only the inputs");
    assert!(run.run.as_deref().unwrap().trim().ends_with(" action"), "{:?}", run.run);
    for s in &binary.runs.steps {
        assert_eq!(s.shell.as_deref(), Some("bash"), "one shell on every runner OS (Git Bash on Windows)");
        let r = s.run.as_deref().unwrap_or_default();
        assert!(!r.contains("${{"), "no expressions inside run: (values go through env:): {r}");
    }

    // main builds from the Dockerfile and the binary path takes the newest release; a release
    // commit names one version in both files.
    let release = &step(&binary, "install").env["THEROCK_ARTIFACTS_RELEASE"];
    let image = container.runs.image.as_deref().unwrap();
    if image == "Dockerfile" {
        assert_eq!(release, "", "main: binary/action.yml pins no release");
    } else {
        let tag = image.strip_prefix(&format!("docker://{IMAGE}:")).unwrap_or_else(|| panic!("image: {image}"));
        assert_eq!(tag.split('@').next().unwrap(), release, "action.yml's image and binary/action.yml name the same release");
    }
}

// ---------------------------------------------------------------- the release rewrite

/// A copy of the two action definitions, as a checkout the script can rewrite.
fn checkout_copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("binary")).unwrap();
    std::fs::copy(root().join("action.yml"), d.path().join("action.yml")).unwrap();
    std::fs::copy(root().join("binary/action.yml"), d.path().join("binary/action.yml")).unwrap();
    d
}

fn rewrite(dir: &Path, args: &[&str]) -> Output {
    Command::new("bash").arg(root().join("scripts/release-action.sh")).args(args).arg(dir).output().unwrap()
}

/// The lines that differ (same line count required), as (before, after).
fn changed_lines(before: &str, after: &str) -> Vec<(String, String)> {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "the rewrite adds or removes lines:\n{after}");
    assert_eq!(before.ends_with('\n'), after.ends_with('\n'));
    b.iter().zip(&a).filter(|(x, y)| x != y).map(|(x, y)| (x.to_string(), y.to_string())).collect()
}

#[test]
fn release_rewrite_changes_only_the_image_and_the_pinned_version() {
    let orig_action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let orig_binary = std::fs::read_to_string(root().join("binary/action.yml")).unwrap();
    // Not a release commit (the parity test checks that one names one version in both files):
    // the rewrite is tested on main's definitions, and CI runs on main and pull requests.
    assert!(orig_action.contains("\n  image: Dockerfile\n"), "action.yml is already a release's; the rewrite is tested on main's");

    let d = checkout_copy();
    let o = rewrite(d.path(), &["v1.2.3"]);
    assert!(o.status.success(), "{}", text(&o));
    let after_action = std::fs::read_to_string(d.path().join("action.yml")).unwrap();
    let after_binary = std::fs::read_to_string(d.path().join("binary/action.yml")).unwrap();
    assert_eq!(changed_lines(&orig_action, &after_action), vec![("  image: Dockerfile".into(), format!("  image: docker://{IMAGE}:v1.2.3"))]);
    assert_eq!(
        changed_lines(&orig_binary, &after_binary),
        vec![("        THEROCK_ARTIFACTS_RELEASE: \"\"".into(), "        THEROCK_ARTIFACTS_RELEASE: v1.2.3".into())]
    );
    let a = action(&d.path().join("action.yml"));
    assert_eq!(a.runs.image.as_deref(), Some(format!("docker://{IMAGE}:v1.2.3").as_str()));
    assert_eq!(step(&action(&d.path().join("binary/action.yml")), "install").env["THEROCK_ARTIFACTS_RELEASE"], "v1.2.3");

    // A second run is a no-op, byte for byte (and the files are not rewritten).
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let (m1, m2) = (mtime(&d.path().join("action.yml")), mtime(&d.path().join("binary/action.yml")));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = rewrite(d.path(), &["v1.2.3"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(d.path().join("action.yml")).unwrap(), after_action);
    assert_eq!(std::fs::read_to_string(d.path().join("binary/action.yml")).unwrap(), after_binary);
    assert_eq!((mtime(&d.path().join("action.yml")), mtime(&d.path().join("binary/action.yml"))), (m1, m2));
    assert!(String::from_utf8_lossy(&o.stdout).matches("already").count() == 3, "{}", text(&o));

    // Pinned by digest, for a fork's repository (ghcr.io names are lower case).
    let digest = format!("sha256:{}", "ab".repeat(32));
    let f = checkout_copy();
    let o = rewrite(f.path(), &["--repository", "Some-Fork/therock-artifacts-action", "--digest", &digest, "v2.0.10"]);
    assert!(o.status.success(), "{}", text(&o));
    let fa = std::fs::read_to_string(f.path().join("action.yml")).unwrap();
    assert_eq!(
        changed_lines(&orig_action, &fa),
        vec![("  image: Dockerfile".into(), format!("  image: docker://ghcr.io/some-fork/therock-artifacts-action:v2.0.10@{digest}"))]
    );
    let fb = std::fs::read_to_string(f.path().join("binary/action.yml")).unwrap();
    assert_eq!(changed_lines(&orig_binary, &fb).len(), 2);
    let fork = action(&f.path().join("binary/action.yml"));
    let install = &step(&fork, "install").env;
    assert_eq!(install["THEROCK_ARTIFACTS_RELEASE"], "v2.0.10");
    assert_eq!(install["THEROCK_ARTIFACTS_RELEASE_REPOSITORY"], "Some-Fork/therock-artifacts-action");

    // Never a moving tag, never anything but vX.Y.Z; a refused version changes nothing.
    for bad in ["v1", "v1.2", "1.2.3", "v1.2.3-rc.1", "v01.2.3", "latest", "v1.2.3 ", "v1.2.3\nimage: x", ""] {
        let o = rewrite(d.path(), &[bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("vX.Y.Z"), "{bad:?}: {}", text(&o));
    }
    let o = rewrite(d.path(), &["--digest", "sha256:xyz", "v1.2.4"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(d.path().join("action.yml")).unwrap(), after_action);
    assert_eq!(std::fs::read_to_string(d.path().join("binary/action.yml")).unwrap(), after_binary);
}

/// The release commit's definitions pass actionlint, which reads an action's metadata through
/// a workflow that uses it (both rewrites of the test above: a version, a fork's by digest).
#[test]
#[ignore = "needs actionlint (.ci/run installs it and runs this)"]
fn release_commit_definitions_pass_actionlint() {
    let found = Command::new("actionlint").arg("-version").output().is_ok();
    assert!(found, "actionlint is not installed (.ci/run installs it)");
    let (d, f) = (checkout_copy(), checkout_copy());
    let o = rewrite(d.path(), &["v1.2.3"]);
    assert!(o.status.success(), "{}", text(&o));
    let digest = format!("sha256:{}", "ab".repeat(32));
    let o = rewrite(f.path(), &["--repository", "Some-Fork/therock-artifacts-action", "--digest", &digest, "v2.0.10"]);
    assert!(o.status.success(), "{}", text(&o));
    for dir in [d.path(), f.path()] {
        // actionlint resolves `uses: ./...` from the project root, the git repository.
        git(dir, &["init", "-q"]);
        let wf = dir.join(".github/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        let uses = |bogus: &str| {
            format!(
                "name: uses the release\non: push\npermissions:\n  actions: read\n  contents: read\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n      - id: c\n        uses: ./\n        with:\n          mode: find\n          artifact-group: gfx94X-dcgpu\n      - id: b\n        uses: ./binary\n        with:\n          artifact-group: gfx1151\n          platform: windows{bogus}\n      - env:\n          A: ${{{{ steps.c.outputs.run-id }}}}\n          B: ${{{{ steps.b.outputs.found }}}}\n        run: echo \"$A $B\"\n"
            )
        };
        std::fs::write(wf.join("t.yml"), uses("")).unwrap();
        let o = Command::new("actionlint").current_dir(dir).arg(".github/workflows/t.yml").output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        // actionlint did read binary/action.yml: an unknown input is an error.
        std::fs::write(wf.join("t.yml"), uses("\n          no-such-input: x")).unwrap();
        let o = Command::new("actionlint").current_dir(dir).arg(".github/workflows/t.yml").output().unwrap();
        assert!(!o.status.success() && String::from_utf8_lossy(&o.stdout).contains("no-such-input"), "{}", text(&o));
    }
}

// ---------------------------------------------------------------- the composite, run locally

/// RUNNER_OS, RUNNER_ARCH and the asset for this host, where a release builds one (the tests
/// that need one are ignored on the other hosts, by the same list in their `cfg_attr`).
fn host_runner() -> Option<(&'static str, &'static str, &'static str)> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some(("Linux", "X64", "therock-artifacts-x86_64-unknown-linux-musl")),
        ("linux", "aarch64") => Some(("Linux", "ARM64", "therock-artifacts-aarch64-unknown-linux-musl")),
        ("macos", "aarch64") => Some(("macOS", "ARM64", "therock-artifacts-aarch64-apple-darwin")),
        _ => None,
    }
}

/// A release directory holding this build as the host's asset, and its `.sha256` (as
/// `sha256sum -b` writes it, which the release workflow uses).
fn fake_release(dir: &Path, asset: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let exe = bin();
    // A hard link where the file systems allow it: the debug binary is large.
    if std::fs::hard_link(&exe, dir.join(asset)).is_err() {
        std::fs::copy(&exe, dir.join(asset)).unwrap();
    }
    let digest = sha256_hex(&std::fs::read(&exe).unwrap());
    std::fs::write(dir.join(format!("{asset}.sha256")), format!("{digest} *{asset}\n")).unwrap();
    digest
}

/// A small stand-in asset (for the cases that never run it), and its `.sha256`.
fn small_release(dir: &Path, asset: &str, content: &[u8]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(asset), content).unwrap();
    let digest = sha256_hex(content);
    std::fs::write(dir.join(format!("{asset}.sha256")), format!("{digest}  {asset}\n")).unwrap();
    digest
}

/// Expands `${{ ... }}` in a step's env value: inputs, the install step's outputs.
fn expand(value: &str, inputs: &BTreeMap<String, String>, install: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("unclosed expression") + i;
        let expr = rest[i + 3..j].trim();
        let v = if let Some(n) = expr.strip_prefix("inputs.") {
            inputs.get(n).unwrap_or_else(|| panic!("no input {n}")).clone()
        } else if let Some(n) = expr.strip_prefix("steps.install.outputs.") {
            install.get(n).unwrap_or_else(|| panic!("the install step wrote no output {n}")).clone()
        } else {
            panic!("an expression this test does not evaluate: {expr}")
        };
        out.push_str(&v);
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

/// `name=value` lines and `name<<DELIM` blocks of a GITHUB_OUTPUT file.
fn read_outputs(file: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((name, delim)) = l.split_once("<<") {
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.insert(name.to_string(), v.join("\n"));
        } else if let Some((name, v)) = l.split_once('=') {
            out.insert(name.to_string(), v.to_string());
        }
    }
    out
}

/// A runner for composite steps: the runner's variables, a workspace, file commands per step.
struct Runner {
    dir: PathBuf,
    ws: PathBuf,
    env: BTreeMap<String, String>,
    steps: usize,
}

impl Runner {
    fn new(dir: &Path, runner_os: &str, runner_arch: &str) -> Runner {
        let ws = dir.join("workspace");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(dir.join("event.json"), "{}").unwrap();
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("HOME", dir.join("home").display().to_string()),
            ("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_REPOSITORY", THEROCK.into()),
            ("GITHUB_REPOSITORY_OWNER", "ROCm".into()),
            ("GITHUB_EVENT_NAME", "push".into()),
            ("GITHUB_EVENT_PATH", dir.join("event.json").display().to_string()),
            ("GITHUB_REF", "refs/heads/main".into()),
            ("GITHUB_WORKSPACE", ws.display().to_string()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_ACTION_PATH", root().join("binary").display().to_string()),
            ("GITHUB_RUN_ID", "1".into()),
            ("RUNNER_OS", runner_os.into()),
            ("RUNNER_ARCH", runner_arch.into()),
            ("RUNNER_TEMP", dir.join("temp").display().to_string()),
            ("RUNNER_TOOL_CACHE", dir.join("toolcache").display().to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        std::fs::create_dir_all(dir.join("temp")).unwrap();
        Runner { dir: dir.to_path_buf(), ws, env, steps: 0 }
    }

    /// Runs one `shell: bash` step as the runner does (`bash --noprofile --norc -eo pipefail
    /// {0}` on a script file, in the workspace), with the step's env on top of the job's;
    /// returns the output and the step's outputs.
    async fn step(&mut self, run: &str, step_env: &BTreeMap<String, String>) -> (Output, BTreeMap<String, String>) {
        self.steps += 1;
        let files = self.dir.join(format!("step{}", self.steps));
        std::fs::create_dir_all(&files).unwrap();
        let script = files.join("script.sh");
        std::fs::write(&script, run).unwrap();
        let out_file = files.join("set_output");
        let mut c = Command::new("bash");
        c.env_clear()
            .envs(&self.env)
            .env("GITHUB_OUTPUT", &out_file)
            .env("GITHUB_STEP_SUMMARY", files.join("step_summary"))
            .env("GITHUB_ENV", files.join("set_env"))
            .env("GITHUB_PATH", files.join("add_path"))
            .envs(step_env)
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&self.ws)
            .stdin(Stdio::null());
        let o = tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap();
        (o, read_outputs(&out_file))
    }
}

/// The inputs as `with:` would give them: action.yml's defaults (the runner's values for the
/// `github.*` ones), then `given`.
fn inputs_with(given: &[(&str, &str)]) -> BTreeMap<String, String> {
    let a = action(&root().join("binary/action.yml"));
    let mut m: BTreeMap<String, String> = a
        .inputs
        .into_iter()
        .map(|(k, v)| {
            let d = match v.default.unwrap_or_default().as_str() {
                "${{ github.repository }}" => THEROCK.to_string(),
                "${{ github.token }}" => TOKEN.to_string(),
                d => d.to_string(),
            };
            (k, d)
        })
        .collect();
    for (k, v) in given {
        assert!(m.contains_key(*k), "no input {k}");
        m.insert(k.to_string(), v.to_string());
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")), all(target_os = "macos", target_arch = "aarch64"))),
    ignore = "no release asset for this host"
)]
async fn composite_installs_the_release_binary_and_runs_it_like_the_runner() {
    let (runner_os, runner_arch, asset) = host_runner().expect("a release asset for this host");
    let bed = Bed::new().await;
    let c = sha(61);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(6161, &c, THEROCK, WF))]).await;
    for (file, target, content) in [("base_lib_generic.tar.zst", "generic", "g"), ("blas_lib_gfx942.tar.zst", "gfx942", "t")] {
        bed.s3.put_artifact("therock-ci-artifacts", "6161-linux/", file, &simple_artifact(file.split('_').next().unwrap(), target, content), true);
    }

    let def = action(&root().join("binary/action.yml"));
    let (install, run) = (step(&def, "install"), step(&def, "run"));
    let home = bed.home.path();
    let release = home.join("release/v9.8.7");
    let digest = fake_release(&release, asset);
    let base = format!("file://{}", release.display());
    let inputs = inputs_with(&[("mode", "find"), ("repository", THEROCK), ("commit", &c), ("artifact-group", "gfx94X-dcgpu")]);
    let no_outputs = BTreeMap::new();
    let mut install_env: BTreeMap<String, String> = install.env.iter().map(|(k, v)| (k.clone(), expand(v, &inputs, &no_outputs))).collect();
    assert_eq!(install_env["THEROCK_ARTIFACTS_TOKEN"], TOKEN, "the download uses the job's token (input github-token)");
    // What a release commit says (scripts/release-action.sh); the assets come from file://.
    install_env.insert("THEROCK_ARTIFACTS_RELEASE".into(), "v9.8.7".into());
    install_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), base.clone());
    let install_run = install.run.clone().unwrap();

    // 1. Cold: downloaded, verified, cached under the tool cache's <version>/<arch>.
    let mut r = Runner::new(&home.join("runner"), runner_os, runner_arch);
    let t0 = std::time::Instant::now();
    let (o, out) = r.step(&install_run, &install_env).await;
    let cold = t0.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    let tool = home.join("runner/toolcache/therock-artifacts/9.8.7");
    let cached = tool.join(runner_arch.to_lowercase()).join(asset);
    assert_eq!(out.get("path").map(PathBuf::from), Some(cached.clone()), "{}", text(&o));
    assert_eq!(out.get("version").map(String::as_str), Some("9.8.7"));
    assert_eq!(sha256_hex(&std::fs::read(&cached).unwrap()), digest);
    assert!(tool.join(format!("{}.complete", runner_arch.to_lowercase())).is_file());
    assert!(String::from_utf8_lossy(&o.stdout).contains("verified"), "{}", text(&o));
    #[cfg(unix)]
    {
        assert!(std::fs::metadata(&cached).unwrap().permissions().mode() & 0o111 != 0, "executable");
    }
    assert!(!text(&o).contains(TOKEN), "the token is never printed");
    let leftovers: Vec<_> =
        std::fs::read_dir(&tool).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "temporary files left in the tool cache: {leftovers:?}");

    // 2. Cached: nothing downloaded (the release is gone), the cached copy re-hashed and used.
    std::fs::rename(&release, home.join("release/moved")).unwrap();
    let t0 = std::time::Instant::now();
    let (o, out) = r.step(&install_run, &install_env).await;
    let warm = t0.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("from the tool cache"), "{}", text(&o));
    assert_eq!(out["path"], cached.display().to_string());
    eprintln!("install.sh: cold {cold:?} (file:// copy + sha256 of a {} MB binary), cached {warm:?}", std::fs::metadata(&cached).unwrap().len() >> 20);
    std::fs::rename(home.join("release/moved"), &release).unwrap();

    // The remaining install cases use a small stand-in asset and tool caches of their own.
    let small = home.join("release/small");
    let small_digest = small_release(&small, asset, b"#!/bin/sh\necho stand-in\n");
    let mut small_env = install_env.clone();
    small_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), format!("file://{}/", small.display()));

    // 3. A damaged cached copy is replaced, not run.
    let mut r5 = Runner::new(&home.join("runner5"), runner_os, runner_arch);
    let (o, out5) = r5.step(&install_run, &small_env).await;
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(&out5["path"], b"#!/bin/sh\necho tampered\n").unwrap();
    let (o, _) = r5.step(&install_run, &small_env).await;
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("verified"), "{}", text(&o));
    assert_eq!(sha256_hex(&std::fs::read(&out5["path"]).unwrap()), small_digest);

    // 4. A download that does not match its .sha256 fails the step and caches nothing.
    let bad = home.join("release/bad");
    small_release(&bad, asset, b"#!/bin/sh\necho bad\n");
    std::fs::write(bad.join(format!("{asset}.sha256")), format!("{}  {asset}\n", sha256_hex(b"something else"))).unwrap();
    let mut bad_env = install_env.clone();
    bad_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), format!("file://{}", bad.display()));
    let mut r2 = Runner::new(&home.join("runner2"), runner_os, runner_arch);
    let (o, out) = r2.step(&install_run, &bad_env).await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("::error") && text(&o).contains("does not match its .sha256"), "{}", text(&o));
    assert!(!out.contains_key("path"));
    let tc2 = home.join("runner2/toolcache/therock-artifacts/9.8.7");
    assert!(!tc2.join(runner_arch.to_lowercase()).exists() && !tc2.join(format!("{}.complete", runner_arch.to_lowercase())).exists());
    // A missing asset and a runner with no build fail with a sentence naming them.
    bad_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), format!("file://{}", home.join("release/none").display()));
    let (o, _) = r2.step(&install_run, &bad_env).await;
    assert!(!o.status.success() && text(&o).contains(&format!("cannot download file://{}", home.join("release/none").display())), "{}", text(&o));
    let mut r3 = Runner::new(&home.join("runner3"), "macOS", "X64");
    let (o, _) = r3.step(&install_run, &install_env).await;
    assert!(!o.status.success() && text(&o).contains("RUNNER_OS='macOS' RUNNER_ARCH='X64'"), "{}", text(&o));
    // No pinned release (main): the newest release's digest decides whether the cache is current.
    let mut latest_env = small_env.clone();
    latest_env.insert("THEROCK_ARTIFACTS_RELEASE".into(), String::new());
    let mut r4 = Runner::new(&home.join("runner4"), runner_os, runner_arch);
    let (o, out2) = r4.step(&install_run, &latest_env).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(out2["path"].contains("/therock-artifacts/latest/"), "{out2:?}");
    let (o, _) = r4.step(&install_run, &latest_env).await;
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("from the tool cache"), "{}", text(&o));
    let newer = small_release(&small, asset, b"#!/bin/sh\necho newer release\n");
    let (o, _) = r4.step(&install_run, &latest_env).await;
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("verified"), "a newer release replaces the cached one: {}", text(&o));
    assert_eq!(sha256_hex(&std::fs::read(&out2["path"]).unwrap()), newer);

    // 5. The run step, with its env from binary/action.yml, against the test bed.
    let mut run_env: BTreeMap<String, String> =
        run.env.iter().map(|(k, v)| (k.clone(), expand(v, &inputs, &BTreeMap::from([("path".to_string(), cached.display().to_string())])))).collect();
    assert_eq!(run_env["INPUT_ARTIFACT-GROUP"], "gfx94X-dcgpu");
    assert_eq!(run_env["INPUT_IF-NOT-FOUND"], "fail", "defaults as the runner fills them");
    r.env.insert("GITHUB_API_URL".into(), bed.gh.uri());
    r.env.insert("GITHUB_SHA".into(), sha(62));
    r.env.insert("AWS_ENDPOINT_URL".into(), bed.s3.endpoint.clone());
    r.env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    r.env.insert("THEROCK_ARTIFACTS_CACHE".into(), bed.cache_dir().display().to_string());
    r.env.insert("THEROCK_ARTIFACTS_BACKOFF_MS".into(), "5".into());
    let t0 = std::time::Instant::now();
    let (o, out) = r.step(&run.run.clone().unwrap(), &run_env).await;
    eprintln!("run step (find, local GitHub and S3 stand-ins): {:?}", t0.elapsed());
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(so.lines().next(), Some(format!("::add-mask::{TOKEN}").as_str()), "the token is masked first: {so}");
    assert_eq!(out.get("found").map(String::as_str), Some("true"), "{}", text(&o));
    assert_eq!(out["commit"], c);
    assert_eq!(out["run-id"], "6161");
    assert_eq!(out["s3-uri"], "s3://therock-ci-artifacts/6161-linux/");
    let arts: Vec<String> = serde_json::from_str(&out["artifacts"]).unwrap();
    assert_eq!(arts, vec!["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst"]);
    let results: serde_json::Value = serde_json::from_str(&out["results"]).unwrap();
    assert_eq!(results["status"], json!("found"));

    // An input that fails the binary fails the step, naming the input.
    run_env.insert("INPUT_MODE".into(), "explode".into());
    let (o, out) = r.step(&run.run.clone().unwrap(), &run_env).await;
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("::error::input 'mode'"), "{}", text(&o));
    assert!(out.get("found").is_none_or(|f| f == "false"));

    // THEROCK_ARTIFACTS_BINARY: a local build, no download.
    let mut local_env = install_env.clone();
    local_env.insert("THEROCK_ARTIFACTS_BINARY".into(), bin());
    local_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), "file:///nonexistent".into());
    let (o, out) = r4.step(&install_run, &local_env).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(out["path"], bin());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(any(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")), all(target_os = "macos", target_arch = "aarch64"))),
    ignore = "no release asset for this host"
)]
async fn install_downloads_the_release_assets_with_the_job_token() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let (runner_os, runner_arch, asset) = host_runner().expect("a release asset for this host");
    let def = action(&root().join("binary/action.yml"));
    let install = step(&def, "install");
    let inputs = inputs_with(&[("artifact-group", "gfx94X-dcgpu")]);
    let env: BTreeMap<String, String> = install.env.iter().map(|(k, v)| (k.clone(), expand(v, &inputs, &BTreeMap::new()))).collect();
    let content = b"#!/bin/sh\necho release\n";
    let digest = sha256_hex(content);

    // GitHub's release download URLs, answering only requests that carry the job's token.
    let server = MockServer::start().await;
    let bearer = format!("Bearer {TOKEN}");
    for dir in ["download/v9.8.7", "latest/download"] {
        let at = format!("/ROCm/therock-artifacts-action/releases/{dir}/{asset}");
        Mock::given(method("GET"))
            .and(path(at.clone()))
            .and(header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(content.to_vec()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{at}.sha256")))
            .and(header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_string(format!("{digest} *{asset}\n")))
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut r = Runner::new(dir.path(), runner_os, runner_arch);
    r.env.insert("GITHUB_SERVER_URL".into(), server.uri());
    let mut pinned = env.clone();
    pinned.insert("THEROCK_ARTIFACTS_RELEASE".into(), "v9.8.7".into());
    let (o, out) = r.step(&install.run.clone().unwrap(), &pinned).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(TOKEN));
    assert_eq!(sha256_hex(&std::fs::read(&out["path"]).unwrap()), digest);
    assert!(out["path"].ends_with(&format!("/therock-artifacts/9.8.7/{}/{asset}", runner_arch.to_lowercase())), "{out:?}");
    // main's binary/action.yml pins nothing: the newest release.
    let (o, out) = r.step(&install.run.clone().unwrap(), &env).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(out["path"].contains("/therock-artifacts/latest/"), "{out:?}");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 4, "{reqs:?}");

    // The token goes to GITHUB_SERVER_URL only, never to another host.
    let other = MockServer::start().await;
    Mock::given(method("GET")).and(path(format!("/{asset}"))).respond_with(ResponseTemplate::new(200).set_body_bytes(content.to_vec())).mount(&other).await;
    Mock::given(method("GET"))
        .and(path(format!("/{asset}.sha256")))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("{digest}\n")))
        .mount(&other)
        .await;
    let mut elsewhere = pinned.clone();
    elsewhere.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), other.uri());
    let mut r2 = Runner::new(&dir.path().join("r2"), runner_os, runner_arch);
    r2.env.insert("GITHUB_SERVER_URL".into(), server.uri());
    let (o, _) = r2.step(&install.run.clone().unwrap(), &elsewhere).await;
    assert!(o.status.success(), "{}", text(&o));
    for q in other.received_requests().await.unwrap() {
        assert!(!q.headers.contains_key("authorization"), "the token went to {}", q.url);
    }

    // A server that refuses the token (a token of another GitHub instance, say) is asked again
    // without it.
    let refusing = MockServer::start().await;
    Mock::given(header("authorization", bearer.as_str())).respond_with(ResponseTemplate::new(401)).with_priority(1).mount(&refusing).await;
    for (p, body) in [
        (format!("/ROCm/therock-artifacts-action/releases/download/v9.8.7/{asset}"), content.to_vec()),
        (format!("/ROCm/therock-artifacts-action/releases/download/v9.8.7/{asset}.sha256"), format!("{digest}\n").into_bytes()),
    ] {
        Mock::given(method("GET")).and(path(p)).respond_with(ResponseTemplate::new(200).set_body_bytes(body)).mount(&refusing).await;
    }
    let mut r3 = Runner::new(&dir.path().join("r3"), runner_os, runner_arch);
    r3.env.insert("GITHUB_SERVER_URL".into(), refusing.uri());
    let (o, out) = r3.step(&install.run.clone().unwrap(), &pinned).await;
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("trying without it"), "{}", text(&o));
    assert_eq!(sha256_hex(&std::fs::read(&out["path"]).unwrap()), digest);
}

/// binary/action.yml on a Windows runner (RUNNER_OS=Windows), with the Windows build as the
/// release's asset: install.sh picks and caches the Windows asset, and the run step runs it (Wine
/// stands in for Windows' loader here; scripts/windows-check.sh builds the .exe and sets
/// THEROCK_ARTIFACTS_WINDOWS_EXE and the Wine prefix).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Wine and the Windows build (scripts/windows-check.sh runs this)"]
async fn composite_on_a_windows_runner_installs_and_runs_the_windows_exe() {
    let exe = PathBuf::from(std::env::var("THEROCK_ARTIFACTS_WINDOWS_EXE").expect("THEROCK_ARTIFACTS_WINDOWS_EXE: the Windows build"));
    let asset = "therock-artifacts-x86_64-pc-windows-msvc.exe";
    let bed = Bed::new().await;
    let c = sha(63);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(6363, &c, THEROCK, WF))]).await;
    for (file, target, content) in [("base_lib_generic.tar.zst", "generic", "g"), ("blas_lib_gfx1151.tar.zst", "gfx1151", "w")] {
        bed.s3.put_artifact("therock-ci-artifacts", "6363-windows/", file, &simple_artifact(file.split('_').next().unwrap(), target, content), true);
    }
    let release = bed.home.path().join("release/v9.8.7");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(&exe, release.join(asset)).unwrap();
    let digest = sha256_hex(&std::fs::read(&exe).unwrap());
    std::fs::write(release.join(format!("{asset}.sha256")), format!("{digest} *{asset}\n")).unwrap();

    let def = action(&root().join("binary/action.yml"));
    let (install, run) = (step(&def, "install"), step(&def, "run"));
    let inputs = inputs_with(&[("artifact-group", "gfx1151"), ("commit", &c), ("output-dir", "therock-dist")]);
    let mut install_env: BTreeMap<String, String> = install.env.iter().map(|(k, v)| (k.clone(), expand(v, &inputs, &BTreeMap::new()))).collect();
    install_env.insert("THEROCK_ARTIFACTS_RELEASE".into(), "v9.8.7".into());
    install_env.insert("THEROCK_ARTIFACTS_DOWNLOAD_BASE".into(), format!("file://{}", release.display()));
    let mut r = Runner::new(&bed.home.path().join("runner"), "Windows", "X64");
    let (o, out) = r.step(&install.run.clone().unwrap(), &install_env).await;
    assert!(o.status.success(), "{}", text(&o));
    let cached = bed.home.path().join("runner/toolcache/therock-artifacts/9.8.7/x64").join(asset);
    assert_eq!(out.get("path").map(PathBuf::from), Some(cached.clone()), "the Windows asset: {}", text(&o));

    let run_env: BTreeMap<String, String> = run.env.iter().map(|(k, v)| (k.clone(), expand(v, &inputs, &out))).collect();
    for (k, v) in [("GITHUB_API_URL", bed.gh.uri()), ("GITHUB_SHA", c.clone()), ("AWS_ENDPOINT_URL", bed.s3.endpoint.clone())] {
        r.env.insert(k.into(), v);
    }
    r.env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    r.env.insert("THEROCK_ARTIFACTS_CACHE".into(), bed.cache_dir().display().to_string());
    for k in ["WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES"] {
        if let Ok(v) = std::env::var(k) {
            r.env.insert(k.into(), v);
        }
    }
    let command = run.run.clone().unwrap();
    assert_eq!(command, r#""$THEROCK_ARTIFACTS_EXE" action"#);
    // Wine 8.0 drops the Unix environment's names holding '-' (INPUT_ARTIFACT-GROUP) when it
    // starts a Windows program, which a Windows runner passes as they are: a cmd script of the
    // step's env sets them on the Windows side first, then runs the command.
    let exe_win = format!("Z:{}", run_env["THEROCK_ARTIFACTS_EXE"].replace('/', "\\"));
    let mut script: String = run_env.iter().filter(|(k, _)| k.contains('-')).map(|(k, v)| format!("@set \"{k}={v}\"\r\n")).collect();
    script.push_str(&format!("@\"{exe_win}\" action\r\n"));
    let launch = bed.home.path().join("launch.cmd");
    std::fs::write(&launch, script).unwrap();
    assert_eq!(command, r#""$THEROCK_ARTIFACTS_EXE" action"#, "the command the script runs");
    let (o, out) = r.step(&format!("wine cmd /c 'Z:{}'", launch.display().to_string().replace('/', "\\")), &run_env).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(out.get("found").map(String::as_str), Some("true"), "{}", text(&o));
    assert_eq!(out["s3-prefix"], "6363-windows/", "platform windows from RUNNER_OS");
    let arts: Vec<String> = serde_json::from_str(&out["artifacts"]).unwrap();
    assert_eq!(arts, vec!["base_lib_generic.tar.zst", "blas_lib_gfx1151.tar.zst"]);
    assert!(!out["output-dir"].starts_with(r"\\?\"), "{}", out["output-dir"]);
    assert_eq!(std::fs::read_to_string(r.ws.join("therock-dist/share/blas/gfx1151.txt")).unwrap(), "w");
}
