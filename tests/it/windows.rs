//! Windows semantics (issue 27): run natively by `cargo test` everywhere, and under Wine by
//! scripts/windows-check.sh, where the same archives meet Windows' file names and share modes.
//! Each test states both outcomes; the tests that only mean something on Windows are
//! `#[cfg(windows)]`.

use crate::common::*;
use std::path::Path;

async fn fetch_one(bed: &Bed, run: u64, c: &str, name: &str, data: Vec<u8>) {
    one_run(bed, run, c, &[(name, data)]).await
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(o))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colon_in_an_archive_name_is_mapped_in_archives_and_per_artifact_modes_and_the_cache() {
    let bed = Bed::new().await;
    let c = sha(2701);
    let name = "rccl_lib_gfx942:xnack+.tar.zst";
    fetch_one(&bed, 2701, &c, name, simple_artifact("rccl", "gfx942", "r")).await;
    let local = if cfg!(windows) { "rccl_lib_gfx942%3Axnack+.tar.zst" } else { name };
    let out = bed.home.path().join("archives");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &["--extract", "archives"])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n == local), "{local} in {names:?}");
    assert!(!cfg!(windows) || !names.iter().any(|n| n.contains(':')), "no name with ':' (an alternate data stream on NTFS): {names:?}");
    let per = bed.home.path().join("per");
    let o = bed.run(&fetch_args(&c, per.to_str().unwrap(), &["--extract", "per-artifact"])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    let stem = local.split(".tar").next().unwrap();
    assert!(per.join(stem).join("rccl/stage/share/rccl/gfx942.txt").is_file(), "{:?}", walk(&per));
    for p in walk(&bed.cache_dir()) {
        assert!(!p.file_name().unwrap().to_string_lossy().contains(':'), "the cache names blobs by digest: {}", p.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_names_and_trailing_dots_or_spaces_are_refused_on_windows_naming_the_member() {
    let bed = Bed::new().await;
    for (i, bad) in ["CON", "nul", "aux.txt", "lib.", "lib "].iter().enumerate() {
        let run = 2710 + i as u32;
        let c = sha(run);
        let member = format!("blas/stage/share/{bad}");
        let data = zst(&tar_bytes(&["blas/stage"], &[Member::File("blas/stage/share/ok.txt", b"ok", 0o644), Member::File(&member, b"x", 0o644)]));
        fetch_one(&bed, run.into(), &c, "blas_lib_gfx942.tar.zst", data).await;
        let out = bed.home.path().join(format!("out{i}"));
        let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
        if cfg!(windows) {
            assert_eq!(code(&o), 2, "{bad}: {}", text(&o));
            assert!(stderr(&o).contains(&format!("member '{member}'")) && stderr(&o).contains("Windows cannot hold"), "{bad}: {}", text(&o));
            assert!(!out.join("share/ok.txt").exists(), "nothing of the archive is committed");
        } else {
            assert_eq!(code(&o), 0, "{bad}: {}", text(&o));
            assert!(out.join("share").join(bad).is_file());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_become_copies_of_their_targets_on_windows() {
    let bed = Bed::new().await;
    let c = sha(2720);
    let members = [
        Member::File("blas/stage/lib/libfoo.so.1", b"elf", 0o755),
        Member::Symlink("blas/stage/lib/libfoo.so", "libfoo.so.1"),
        Member::File("blas/stage/share/doc/a.txt", b"a", 0o644),
        Member::Symlink("blas/stage/share/doc/b", "a.txt"),
        Member::Symlink("blas/stage/include/docs", "../share/doc"),
    ];
    fetch_one(&bed, 2720, &c, "blas_lib_gfx942.tar.zst", zst(&tar_bytes(&["blas/stage"], &members))).await;
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    for (p, content) in [("lib/libfoo.so", "elf"), ("include/docs/a.txt", "a"), ("include/docs/b", "a"), ("share/doc/b", "a")] {
        assert_eq!(std::fs::read_to_string(out.join(p)).unwrap(), content, "{p}");
    }
    let link = std::fs::symlink_metadata(out.join("lib/libfoo.so")).unwrap();
    assert_eq!(link.file_type().is_symlink(), !cfg!(windows), "a symlink elsewhere, a copy on Windows");
    let dir = std::fs::symlink_metadata(out.join("include/docs")).unwrap();
    assert_eq!(dir.is_dir(), cfg!(windows), "a directory link becomes a directory on Windows");

    // A link to nothing the archive holds cannot be copied: refused, naming it.
    let c = sha(2721);
    let dangling = [Member::File("blas/stage/lib/x", b"x", 0o644), Member::Symlink("blas/stage/lib/gone.so", "libgone.so.1")];
    fetch_one(&bed, 2721, &c, "blas_lib_gfx942.tar.zst", zst(&tar_bytes(&["blas/stage"], &dangling))).await;
    let out2 = bed.home.path().join("out2");
    let o = bed.run(&fetch_args(&c, out2.to_str().unwrap(), &[])).await;
    if cfg!(windows) {
        assert_eq!(code(&o), 2, "{}", text(&o));
        assert!(stderr(&o).contains("symlink 'lib/gone.so' -> 'libgone.so.1' leads to nothing the archive holds"), "{}", text(&o));
    } else {
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_differ_only_in_case_are_one_path_where_the_file_system_folds_case() {
    // Issue 21 item 13: `d/esc` is a link, and `d/Esc/x` is written through it on a file system
    // that folds case; the tree model folds too, and refuses it.
    let bed = Bed::new().await;
    let c = sha(2730);
    let members =
        [Member::File("blas/stage/d/sub/f", b"f", 0o644), Member::Symlink("blas/stage/d/esc", "sub"), Member::File("blas/stage/d/Esc/x", b"x", 0o644)];
    fetch_one(&bed, 2730, &c, "blas_lib_gfx942.tar.zst", zst(&tar_bytes(&["blas/stage"], &members))).await;
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    if cfg!(any(windows, target_os = "macos")) {
        assert_eq!(code(&o), 2, "{}", text(&o));
        // Refused either as going through the link or as naming it under another spelling.
        let e = stderr(&o);
        assert!(e.contains("blas/stage/d/Esc/x") && (e.contains("goes through the symlink") || e.contains("under another spelling")), "{}", text(&o));
    } else {
        assert_eq!(code(&o), 0, "{}", text(&o));
        assert!(out.join("d/Esc/x").is_file() && std::fs::symlink_metadata(out.join("d/esc")).unwrap().file_type().is_symlink());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_longer_than_260_characters_are_written() {
    let bed = Bed::new().await;
    let c = sha(2740);
    let deep = format!("blas/stage/{}/leaf.txt", vec!["d".repeat(60); 5].join("/"));
    fetch_one(&bed, 2740, &c, "blas_lib_gfx942.tar.zst", zst(&tar_bytes(&["blas/stage"], &[Member::File(&deep, b"deep", 0o644)]))).await;
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    let file = out.join(deep.strip_prefix("blas/stage/").unwrap());
    assert!(file.as_os_str().len() > 260, "{}", file.display());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "deep");
    // Paths are printed as their users write them, never in the verbatim \\?\ form.
    assert!(!text(&o).contains(r"\\?\"), "{}", text(&o));
    assert!(text(&o).contains(&dunce_like(&out)), "{}", text(&o));
}

/// The output directory as the tool prints it: its real path, in the form its users write.
fn dunce_like(p: &Path) -> String {
    let real = std::fs::canonicalize(p).unwrap().display().to_string();
    real.strip_prefix(r"\\?\").map(String::from).unwrap_or(real)
}

#[cfg(windows)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_another_process_holds_open_fails_the_commit_naming_it_and_the_output_stays() {
    use std::os::windows::fs::OpenOptionsExt;
    let bed = Bed::new().await;
    let (c1, c2) = (sha(2750), sha(2751));
    fetch_one(&bed, 2750, &c1, "blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "old")).await;
    fetch_one(&bed, 2751, &c2, "blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "new")).await;
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c1, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    let held = out.join("share/blas/gfx942.txt");
    // Another process's handle without FILE_SHARE_DELETE, as an editor or a running program has.
    let f = std::fs::OpenOptions::new().read(true).share_mode(1 /* FILE_SHARE_READ */).open(&held).unwrap();
    let t0 = std::time::Instant::now();
    // Another commit over the first: layered on purpose (--merge), so the commit replaces the file.
    let o = bed.run(&fetch_args(&c2, out.to_str().unwrap(), &["--merge"])).await;
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(stderr(&o).contains("used by another process"), "{}", text(&o));
    assert!(stderr(&o).contains("gfx942.txt") || stderr(&o).contains("share"), "names what is held: {}", text(&o));
    assert!(t0.elapsed() >= std::time::Duration::from_secs(2), "retried a while first");
    drop(f);
    assert_eq!(std::fs::read_to_string(&held).unwrap(), "old", "the output was put back as it was");
    // Released, the same fetch goes through.
    let o = bed.run(&fetch_args(&c2, out.to_str().unwrap(), &["--merge"])).await;
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&held).unwrap(), "new");
}

/// Action mode as a Windows runner starts it: `RUNNER_OS=Windows`, drive-letter paths with
/// backslashes for the workspace, `RUNNER_TEMP` and the file commands.
#[cfg(windows)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_mode_on_a_windows_runner_fetches_the_windows_artifacts() {
    let bed = Bed::new().await;
    let c = sha(2760);
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(2760, &c, THEROCK, WF))]).await;
    for (file, target) in [("base_lib_generic.tar.zst", "generic"), ("blas_lib_gfx1151.tar.zst", "gfx1151")] {
        bed.s3.put_artifact(BUCKET, "2760-windows/", file, &simple_artifact(file.split('_').next().unwrap(), target, "w"), true);
    }
    // C:\users\...\Temp\.tmpXXXX\a\work: a drive letter and backslashes, as the runner's D:\a\...
    let root = bed.home.path().join("a");
    let (ws, temp, files) = (root.join("work"), root.join("_temp"), root.join("_runner_file_commands"));
    for d in [&ws, &temp, &files] {
        std::fs::create_dir_all(d).unwrap();
    }
    let shown = ws.display().to_string();
    assert!(shown.as_bytes().get(1) == Some(&b':') && shown.contains('\\'), "{shown}");
    std::fs::write(root.join("event.json"), "{}").unwrap();
    let mut c_ = std::process::Command::new(bin());
    c_.env_clear().envs(crate::action::default_inputs(THEROCK));
    let env = [
        ("CI", "true".to_string()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_REPOSITORY", THEROCK.into()),
        ("GITHUB_EVENT_NAME", "push".into()),
        ("GITHUB_EVENT_PATH", root.join("event.json").display().to_string()),
        ("GITHUB_SHA", c.clone()),
        ("GITHUB_REF", "refs/heads/main".into()),
        ("GITHUB_WORKSPACE", shown.clone()),
        ("GITHUB_OUTPUT", files.join("set_output_1").display().to_string()),
        ("GITHUB_STEP_SUMMARY", files.join("step_summary_1").display().to_string()),
        ("GITHUB_ENV", files.join("set_env_1").display().to_string()),
        ("GITHUB_API_URL", bed.gh.uri()),
        ("GITHUB_SERVER_URL", "https://github.com".into()),
        ("RUNNER_OS", "Windows".into()),
        ("RUNNER_ARCH", "X64".into()),
        ("RUNNER_TEMP", temp.display().to_string()),
        ("SYSTEMROOT", std::env::var("SYSTEMROOT").unwrap_or_default()),
        ("AWS_ENDPOINT_URL", bed.s3.endpoint.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("THEROCK_ARTIFACTS_CACHE", bed.cache_dir().display().to_string()),
        ("THEROCK_ARTIFACTS_BACKOFF_MS", "5".into()),
        ("INPUT_ARTIFACT-GROUP", "gfx1151".into()),
        ("INPUT_OUTPUT-DIR", "therock-dist".into()),
    ];
    c_.envs(env).arg("action").current_dir(&ws);
    // (Not run_cmd: action mode prints the token once, in its ::add-mask:: command.)
    let o = tokio::task::spawn_blocking(move || c_.output().unwrap()).await.unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let outputs = std::fs::read_to_string(files.join("set_output_1")).unwrap();
    assert!(outputs.contains("2760-windows/"), "platform windows from RUNNER_OS: {outputs}");
    let od = dunce_like(&ws.join("therock-dist"));
    assert!(outputs.contains(&od), "output-dir as a Windows user writes it ({od}): {outputs}");
    assert!(!outputs.contains(r"\\?\"), "{outputs}");
    assert_eq!(std::fs::read_to_string(ws.join("therock-dist/share/blas/gfx1151.txt")).unwrap(), "w");
    assert!(std::fs::read_to_string(files.join("step_summary_1")).unwrap().contains("blas_lib_gfx1151.tar.zst"));
}
