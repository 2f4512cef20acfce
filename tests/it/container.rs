//! The action's image, run as the runner runs a container action: the unpacked image's root
//! filesystem, `/github/...` mounts, only the runner's variables. Needs an image root
//! (THEROCK_ARTIFACTS_ROOTFS, made by `scripts/container-check.sh`) and root for chroot, so
//! it is ignored unless asked for: that script builds the image and runs it with `--ignored`.

use crate::common::*;
use serde_json::json;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the image's root filesystem: scripts/container-check.sh builds it and runs this"]
async fn image_runs_the_action_like_the_runner() {
    let rootfs = std::env::var_os("THEROCK_ARTIFACTS_ROOTFS").map(PathBuf::from).expect("THEROCK_ARTIFACTS_ROOTFS not set: run scripts/container-check.sh");
    let bed = Bed::new().await;
    let c = sha(77);
    let wf = "multi_arch_ci.yml";
    mount_commit_runs(&bed.gh, "ROCm/TheRock", wf, &c, &[run_json(&RunSpec::ok(7700, &c, "ROCm/TheRock", wf))]).await;
    bed.s3.put_artifact("therock-ci-artifacts", "7700-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "in the image"), true);

    let gh = rootfs.join("github");
    let _ = std::fs::remove_dir_all(&gh);
    for d in ["workspace", "file_commands", "home", "workflow"] {
        std::fs::create_dir_all(gh.join(d)).unwrap();
    }
    chown(gh.join("workspace"), Some(1001), Some(127)).unwrap();
    std::fs::write(gh.join("workflow/event.json"), json!({"after": c}).to_string()).unwrap();
    let mut cmd = std::process::Command::new(if std::path::Path::new("/usr/sbin/chroot").exists() { "/usr/sbin/chroot" } else { "/usr/bin/chroot" });
    cmd.env_clear()
        .arg(&rootfs)
        .arg("/usr/local/bin/therock-artifacts")
        .arg("action")
        .envs([
            ("HOME", "/github/home"),
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_REPOSITORY", "ROCm/TheRock"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", "/github/workflow/event.json"),
            ("GITHUB_SHA", c.as_str()),
            ("GITHUB_WORKSPACE", "/github/workspace"),
            ("GITHUB_OUTPUT", "/github/file_commands/set_output_1"),
            ("GITHUB_STEP_SUMMARY", "/github/file_commands/step_summary_1"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_TEMP", "/home/runner/work/_temp"),
            ("INPUT_MODE", "fetch"),
            ("INPUT_REPOSITORY", "ROCm/TheRock"),
            ("INPUT_COMMIT", ""),
            ("INPUT_RUN-ID", ""),
            ("INPUT_ARTIFACT-GROUP", "gfx94X-dcgpu"),
            ("INPUT_AMDGPU-TARGETS", ""),
            ("INPUT_PLATFORM", "linux"),
            ("INPUT_WORKFLOW", ""),
            ("INPUT_BASE-BRANCH", ""),
            ("INPUT_MAX-COMMITS", "100"),
            ("INPUT_INCLUDE", ""),
            ("INPUT_EXCLUDE", ""),
            ("INPUT_OUTPUT-DIR", "therock-artifacts"),
            ("INPUT_EXTRACT", "flatten"),
            ("INPUT_VERIFY", "true"),
            ("INPUT_IF-NOT-FOUND", "fail"),
            ("INPUT_COMPARE-TO", ""),
            ("INPUT_THEROCK-REPOSITORY", "ROCm/TheRock"),
            ("INPUT_GITHUB-TOKEN", TOKEN),
        ])
        .env("GITHUB_API_URL", bed.gh.uri())
        .env("AWS_ENDPOINT_URL", &bed.s3.endpoint);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let so = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{so}\n{}", String::from_utf8_lossy(&o.stderr));
    let outputs = std::fs::read_to_string(gh.join("file_commands/set_output_1")).unwrap();
    assert!(outputs.contains("\ntrue\n") && outputs.contains("7700"), "{outputs}");
    let f = gh.join("workspace/therock-artifacts/share/blas/gfx942.txt");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "in the image");
    assert_eq!(std::fs::metadata(&f).unwrap().uid(), 1001);
    assert!(std::fs::read_to_string(gh.join("file_commands/step_summary_1")).unwrap().contains("TheRock artifacts"));
}
