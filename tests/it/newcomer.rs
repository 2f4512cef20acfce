//! What a newcomer trips on (issue 24, the command line): answers that do not contradict
//! themselves, "not found" that says why, aliases and help, dry runs, bisect hints.

use crate::common::*;

/// Two runs of one commit, each holding one of two groups.
async fn split_groups(bed: &Bed, c: &str) {
    let mut newer = RunSpec::ok(120, c, THEROCK, WF);
    newer.created_at = "2026-08-02T10:00:00Z".into();
    let mut older = RunSpec::ok(20, c, THEROCK, WF);
    older.created_at = "2026-08-01T10:00:00Z".into();
    mount_commit_runs(&bed.gh, THEROCK, WF, c, &[run_json(&newer), run_json(&older)]).await;
    bed.s3.put_artifact(BUCKET, "20-linux/", "blas_lib_gfx942.tar.zst", &simple_artifact("blas", "gfx942", "old"), true);
    bed.s3.put_artifact(BUCKET, "120-linux/", "blas_lib_gfx1100.tar.zst", &simple_artifact("blas", "gfx1100", "new"), true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_single_run_says_which_run_has_which_group_and_marks_results_rejected() {
    let bed = Bed::new().await;
    let c = sha(2401);
    split_groups(&bed, &c).await;
    let args = ["find", "--repo", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "gfx110X-all", "--platform", "linux", "--require-single-run"];
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let want = format!(
        "no single run of {} holds both gfx94X-dcgpu and gfx110X-all: run 20 has gfx94X-dcgpu, run 120 has gfx110X-all; drop --require-single-run to combine them",
        &c[..12]
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!out.contains("MISSING required artifacts"), "{out}");
    assert!(!out.contains("S3:"), "a rejected run is not shown as found: {out}");

    let o = bed.run(&[&args[..], &["--json"]].concat()).await;
    assert_eq!(code(&o), 1);
    let doc = stdout_json(&o);
    assert_eq!(doc["status"], "not_found");
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert!(r["rejected"].as_str().unwrap().starts_with("--require-single-run"), "{r}");
    }
    // Without the flag the groups combine and no record is marked.
    let o = bed.run(&args[..args.len() - 1]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bed.run(&[&args[..args.len() - 1], &["--json"]].concat()).await;
    assert!(stdout_json(&o)["results"][0].get("rejected").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_names_the_run_and_its_state() {
    let bed = Bed::new().await;
    // Still running, generic archives only so far.
    let c = sha(2402);
    let mut running = RunSpec::ok(29, &c, THEROCK, WF);
    running.status = "in_progress";
    running.conclusion = None;
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&running)]).await;
    bed.s3.put_artifact(BUCKET, "29-linux/", "base_lib_generic.tar.zst", &simple_artifact("base", "generic", "x"), true);
    let o = bed.run(&group_args("find", THEROCK, &c, &[])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("run 29 is still in_progress and holds only generic archives so far"), "{}", stderr(&o));

    // Cancelled before uploading anything.
    let c = sha(2403);
    let mut cancelled = RunSpec::ok(23, &c, THEROCK, WF);
    cancelled.conclusion = Some("cancelled");
    mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&cancelled)]).await;
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout_json(&o)["message"].as_str().unwrap().contains("run 23 was cancelled and uploaded nothing"), "{}", stdout_json(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_says_a_commit_does_not_exist_and_where_fork_runs_are() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let bed = Bed::new().await;
    let ghost = sha(0xdeadbeef);
    mount_commit_runs(&bed.gh, THEROCK, WF, &ghost, &[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{THEROCK}/commits/{ghost}")))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({"message": "No commit found for SHA"})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&group_args("find", THEROCK, &ghost, &[])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("commit {ghost} is not known to ROCm/TheRock on GitHub: it does not exist in ROCm/TheRock")), "{}", stderr(&o));

    // A fork: its pull-request runs are the upstream's.
    let fork = "contributor/TheRock";
    let c = sha(2404);
    mount_commit_runs(&bed.gh, fork, WF, &c, &[]).await;
    let o = bed.run(&group_args("find", fork, &c, &[])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("pull-request runs from forks are listed under the upstream repository: --repo ROCm/TheRock"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_spellings_short_flags_and_the_default_repository() {
    let bed = Bed::new().await;
    let c = sha(2405);
    one_run(&bed, 2405, &c, &[]).await;
    put_group(&bed, 2405);
    // No --repo outside a checkout: ROCm/TheRock, with a note.
    let o = bed.run(&["find", "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("using ROCm/TheRock"), "{}", stderr(&o));
    // -R, --amdgpu-targets, -D.
    let o = bed
        .run(&["find", "-R", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--amdgpu-targets", "gfx942", "--platform", "linux", "--json"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("using ROCm/TheRock"), "{}", stderr(&o));
    let out = bed.home.path().join("out");
    let o = bed.run(&["fetch", "-R", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "-D", out.to_str().unwrap()]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("lib").exists() || std::fs::read_dir(&out).unwrap().next().is_some());
    // -b and --therock-repository parse.
    let o = bed.run(&["latest", "-R", THEROCK, "-b", "no-such", "--help"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bed.run(&["baseline", "--therock-repository", THEROCK, "--help"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // --to-platform is hidden (only --platform's value is ever accepted) but still parses.
    let o = bed.run(&["compare", "--help"]).await;
    assert!(!String::from_utf8_lossy(&o.stdout).contains("--to-platform"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ref_git_does_not_know_is_not_a_revision_not_a_malformed_sha() {
    let bed = Bed::new().await;
    let work = bed.home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git_repo(&work, "https://github.com/ROCm/TheRock.git", 1);
    let o = bed.run(&["find", "--commit", "v1.0", "--artifact-group", "gfx94X-dcgpu"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("v1.0 is not a revision in this checkout"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("malformed"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_says_what_a_real_fetch_would_download_and_needs_no_output_dir() {
    let bed = Bed::new().await;
    let c = sha(2406);
    one_run(&bed, 2406, &c, &[]).await;
    put_group(&bed, 2406);
    let dry = ["fetch", "-R", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--dry-run"];
    let o = bed.run(&[&dry[..], &["--json"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert!(d["output_dir"].is_null(), "{d}");
    assert!(d["would_download_bytes"].as_u64().unwrap() > 0);
    assert!(d["archives"].as_array().unwrap().iter().all(|a| a["cached"] == false));
    // A real fetch, with one archive filtered out: the closing line counts both.
    let out = bed.home.path().join("out");
    let o = bed
        .run(&[
            "fetch",
            "-R",
            THEROCK,
            "--commit",
            &c,
            "--artifact-group",
            "gfx94X-dcgpu",
            "--platform",
            "linux",
            "-D",
            out.to_str().unwrap(),
            "--exclude",
            "^base_",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("fetched 1 archives (1 filtered out) into"), "{}", stderr(&o));
    let o = bed.run(&["fetch", "-R", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "-D", out.to_str().unwrap()]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Now everything is cached.
    let o = bed.run(&[&dry[..], &["--json"]].concat()).await;
    let d = stdout_json(&o);
    assert_eq!(d["would_download_bytes"], 0, "{d}");
    assert!(d["archives"].as_array().unwrap().iter().all(|a| a["cached"] == true), "{d}");
    let o = bed.run(&dry).await;
    assert!(String::from_utf8_lossy(&o.stdout).contains("would download 0 B"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_describes_every_flag_and_argument_errors_stay_json() {
    let bed = Bed::new().await;
    for cmd in ["find", "latest", "baseline", "fetch", "compare", "bisect", "exec"] {
        let o = bed.run(&[cmd, "--help"]).await;
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(!text.contains("Scenario"), "{cmd}: {text}");
        assert!(text.contains("Examples:") && text.contains("Exit codes:"), "{cmd}: {text}");
        // Every option line (`--flag <V>`) is followed by a description line.
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.trim_start().starts_with('-') && l.contains("--") {
                let next = lines.get(i + 1).map_or("", |n| n.trim());
                assert!(!next.is_empty() && !next.starts_with('-'), "{cmd}: {l} has no description");
            }
        }
    }
    let o = bed.run(&["fetch", "--help"]).await;
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("[possible values: flatten, per-artifact, archives, bootstrap]"), "{text}");
    assert!(text.contains("[possible values: linux, windows]"), "{text}");
    let o = bed.run(&["latest", "--help"]).await;
    assert!(!String::from_utf8_lossy(&o.stdout).contains("whose successful runs"));

    let o = bed.run(&["find", "--json", "--no-such-flag"]).await;
    assert_eq!(code(&o), 2);
    let doc = stdout_json(&o);
    assert_eq!(doc["status"], "error");
    assert!(doc["error"].as_str().unwrap().contains("--no-such-flag"), "{doc}");
    let o = bed.run(&["fetch", "--json", "--extract", "flat"]).await;
    assert_eq!(code(&o), 2);
    assert_eq!(stdout_json(&o)["status"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisect_suggests_swapping_good_and_bad_and_a_missing_double_dash() {
    let bed = Bed::new().await;
    let main = history(2410, 6);
    mount_history(&bed.gh, THEROCK, &main, 0).await;
    mount_history(&bed.gh, THEROCK, &main, 5).await;
    // --good is the newer commit: main[5] (oldest) was given as bad.
    let args = ["bisect", "-R", THEROCK, "--good", &main[0], "--bad", &main[5], "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--", "true"];
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("swap --good and --bad"), "{}", stderr(&o));
    // A good commit of another history: no such suggestion.
    let stranger = sha(0xabcdef);
    let o = bed.run(&["bisect", "-R", THEROCK, "--good", &stranger, "--bad", &main[0], "--artifact-group", "gfx94X-dcgpu", "--", "true"]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(!stderr(&o).contains("swap"), "{}", stderr(&o));

    // The test command without `--`.
    let o = bed.run(&["bisect", "--good", &main[5], "--bad", &main[0], "./run-test.sh"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("hint: put `--` before the test command"), "{}", stderr(&o));
    let o = bed.run(&["exec", "--commit", &main[0]]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("hint: put `--` before the test command"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_prune_dry_run_lists_what_would_go_and_info_gives_iso_times() {
    let bed = Bed::new().await;
    let c = sha(2420);
    one_run(&bed, 2420, &c, &[]).await;
    put_group(&bed, 2420);
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let blobs: Vec<_> = std::fs::read_dir(bed.cache_dir().join("blobs/sha256")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(blobs.len(), 2);
    let old = std::fs::File::options().write(true).open(&blobs[0]).unwrap();
    old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(20 * 86_400)).unwrap();
    let digest = blobs[0].file_name().unwrap().to_string_lossy().to_string();

    let o = bed.run(&["cache", "prune", "--max-age", "2w", "--dry-run"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("would remove 1 archives") && text.contains(&digest), "{text}");
    assert!(!text.contains(&blobs[1].file_name().unwrap().to_string_lossy().to_string()), "{text}");
    assert!(blobs[0].exists(), "a dry run removes nothing");

    let o = bed.run(&["cache", "info", "--json"]).await;
    let d = stdout_json(&o);
    let at = d["oldest_use_at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T', "{d}");
    assert!(d["oldest_use"].is_i64(), "the Unix seconds stay: {d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_hides_unchanged_archives_unless_all_and_top_limits_every_table() {
    let bed = Bed::new().await;
    let (a, b) = (sha(2430), sha(2431));
    let same = simple_artifact("base", "generic", "same");
    one_run(&bed, 2430, &a, &[("base_lib_generic.tar.zst", same.clone()), ("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "small"))]).await;
    one_run(&bed, 2431, &b, &[("base_lib_generic.tar.zst", same), ("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", &"big".repeat(4000)))]).await;
    let args = ["compare", "-R", THEROCK, "--from", &a, "--to", &b, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"];
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("blas_lib_gfx942") && !text.contains("base_lib_generic"), "{text}");
    assert!(text.contains("unchanged not shown (--all shows them)"), "{text}");
    let o = bed.run(&[&args[..], &["--all"]].concat()).await;
    assert!(String::from_utf8_lossy(&o.stdout).contains("base_lib_generic"));
    let o = bed.run(&[&args[..], &["--markdown"]].concat()).await;
    let md = String::from_utf8_lossy(&o.stdout).to_string();
    let folded = md.find("<details><summary>1 unchanged</summary>").expect(&md);
    assert!(md[folded..].contains("base_lib_generic"), "{md}");
    // --top 0: every table empty, with the count of what is left out.
    let o = bed.run(&[&args[..], &["--top", "0", "--all"]].concat()).await;
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!text.contains("blas_lib_gfx942") && text.contains("... 2 more"), "{text}");
    // JSON keeps every archive.
    let o = bed.run(&[&args[..], &["--json"]].concat()).await;
    assert_eq!(stdout_json(&o)["comparison"]["archives"].as_array().unwrap().len(), 2, "{}", stdout_json(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_pattern_takes_globs_as_gh_run_download_does() {
    let bed = Bed::new().await;
    let c = sha(2440);
    one_run(&bed, 2440, &c, &[]).await;
    put_group(&bed, 2440);
    let args = ["fetch", "-R", THEROCK, "--commit", &c, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--dry-run", "--json"];
    let o = bed.run(&[&args[..], &["--pattern", "blas_*_gfx94*"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let names: Vec<_> = stdout_json(&o)["archives"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["blas_lib_gfx942.tar.zst"]);
    let o = bed.run(&[&args[..], &["--pattern", "blas_["]].concat()).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--pattern") && stderr(&o).contains("invalid glob 'blas_['"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_says_what_it_fetches_first_then_a_progress_line_at_once_with_total_percent_and_rate() {
    let bed = Bed::new().await;
    let c = sha(2450);
    one_run(&bed, 2450, &c, &[]).await;
    put_group(&bed, 2450);
    let out = bed.home.path().join("out");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    // The lookup's result, before any byte: how many archives, how much, from which run of which commit.
    let opening = err.find("fetching 2 archives, ").expect(&err);
    assert!(err[opening..].lines().next().unwrap().ends_with(&format!(", from run 2450 of {}", &c[..7])), "{err}");
    // Not a terminal (a CI log): the first progress line at once (a small fetch ends long before
    // the next one, 10 s later), with the total, the percent and the rate.
    let progress = err.find("progress: 0 B of ").expect(&err);
    assert!(opening < progress, "the lookup first, then the progress: {err}");
    let line = err[progress..].lines().next().unwrap();
    assert!(line.contains(" (0 %), 0 B/s, 0/2 archives, 0 B from cache"), "{line}");
    assert!(progress < err.find("fetched 2 archives").unwrap(), "{err}");
}

/// `script` (util-linux, in every Debian) runs `bin args` on a pseudo-terminal, with the bed's
/// environment; what the terminal showed, escape sequences and all.
#[cfg(unix)]
async fn on_a_terminal(bed: &Bed, args: &[&str]) -> (i32, String) {
    let base = bed.cmd();
    let mut c = std::process::Command::new("script");
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let quoted: Vec<String> = std::iter::once(bin()).chain(args.iter().map(|a| a.to_string())).map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    c.current_dir(base.get_current_dir().unwrap()).env("TERM", "xterm").args(["-qec", &quoted.join(" "), "/dev/null"]);
    let o = run_cmd(c).await;
    (code(&o), String::from_utf8_lossy(&o.stdout).into_owned())
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_a_spinner_while_github_is_asked_and_no_ci_lines() {
    let bed = Bed::new().await;
    let c = sha(2451);
    one_run(&bed, 2451, &c, &[]).await;
    put_group(&bed, 2451);
    let out = bed.home.path().join("out");
    let (rc, shown) = on_a_terminal(&bed, &fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(rc, 0, "{shown}");
    assert!(shown.contains("asking GitHub about ROCm/TheRock"), "the spinner: {shown}");
    assert!(shown.contains("fetching 2 archives, ") && shown.contains("fetched 2 archives"), "{shown}");
    assert!(!shown.contains("progress: "), "a terminal gets a bar, not a CI log's lines: {shown}");
    // In a pipe (stderr not a terminal) no spinner is drawn.
    let o = bed.run(&group_args("find", THEROCK, &c, &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("asking GitHub"), "{}", stderr(&o));
}
