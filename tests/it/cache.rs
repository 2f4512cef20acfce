//! `cache info | prune | clear` and `THEROCK_ARTIFACTS_CACHE_MAX`: least recently used first,
//! never a blob a running fetch holds, and an empty, usable cache after a clear.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Three runs for three commits, each with one archive of `kb` KiB of noise; fetches all three
/// so the cache holds three blobs. Returns the blobs' paths, in fetch order.
async fn three_blobs(bed: &Bed, kb: usize) -> Vec<PathBuf> {
    let mut blobs = Vec::new();
    for i in 0..3u32 {
        let c = sha(10 + i);
        let run = 100 + i as u64;
        mount_commit_runs(&bed.gh, THEROCK, WF, &c, &[run_json(&RunSpec::ok(run, &c, THEROCK, WF))]).await;
        // Noise differing per commit, so every blob is its own.
        let mut content = noise((kb << 10) + i as usize);
        content.rotate_left(i as usize * 7);
        let data = zst(&tar_bytes(&["x/stage"], &[Member::File("x/stage/blob.bin", &content, 0o644)]));
        bed.s3.put_artifact("therock-ci-artifacts", &format!("{run}-linux/"), &format!("n{i}_lib_gfx942.tar.zst"), &data, true);
        let o = bed.run(&fetch_args(&c, bed.home.path().join(format!("o{i}")).to_str().unwrap(), &["--json"])).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        blobs.push(bed.cache_dir().join("blobs/sha256").join(stdout_json(&o)["archives"][0]["sha256"].as_str().unwrap()));
    }
    blobs
}

fn used(blob: &Path, days_ago: u64) {
    let f = std::fs::File::options().write(true).open(blob).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(days_ago * 86_400)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_by_size_and_age_takes_the_least_recently_used() {
    let bed = Bed::new().await;
    let blobs = three_blobs(&bed, 64).await;
    // Last use: blob 1 long ago, blob 0 a while ago, blob 2 just now.
    used(&blobs[1], 30);
    used(&blobs[0], 10);
    let size = std::fs::metadata(&blobs[0]).unwrap().len();

    let o = bed.run(&["cache", "info", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["entries"], 3);
    assert_eq!(d["cache_dir"], bed.cache_dir().to_str().unwrap());
    assert!(d["oldest_use"].as_i64().unwrap() < d["newest_use"].as_i64().unwrap());

    // A dry run removes nothing.
    let o = bed.run(&["cache", "prune", "--max-age", "20d", "--dry-run", "--json"]).await;
    assert_eq!(stdout_json(&o)["removed"].as_array().unwrap().len(), 1);
    assert!(blobs.iter().all(|b| b.exists()));
    // By age: only the blob unused for 30 days.
    let o = bed.run(&["cache", "prune", "--max-age", "20d", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!blobs[1].exists() && blobs[0].exists() && blobs[2].exists());
    // By size: room for one blob keeps the most recently used.
    let o = bed.run(&["cache", "prune", "--max-size", &format!("{}", size + size / 2), "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!blobs[0].exists() && blobs[2].exists(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = bed.run(&["cache", "prune"]).await;
    assert_eq!(code(&o), 2, "a prune needs a limit");
    assert!(stderr(&o).contains("--max-size"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_in_use_survives_a_prune_and_clear_leaves_a_usable_cache() {
    let bed = Bed::new().await;
    let blobs = three_blobs(&bed, 16).await;
    // Another fetch holds blob 0 (the lock a fetch takes on every blob it uses).
    let held = std::fs::File::open(&blobs[0]).unwrap();
    held.lock_shared().unwrap();
    let o = bed.run(&["cache", "prune", "--max-size", "0", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    assert_eq!(d["in_use"].as_array().unwrap().len(), 1, "{d}");
    assert!(blobs[0].exists() && !blobs[1].exists() && !blobs[2].exists());
    drop(held);

    let o = bed.run(&["cache", "clear"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!blobs[0].exists());
    assert_eq!(std::fs::read_dir(bed.cache_dir().join("blobs/sha256")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(bed.cache_dir().join("refs")).unwrap().count(), 0, "no reference outlives its blob");
    // Still usable: the next fetch fills it again.
    let c = sha(10);
    let o = bed.run(&fetch_args(&c, bed.home.path().join("again").to_str().unwrap(), &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(bed.cache_dir().join("blobs/sha256")).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_prunes_past_the_configured_maximum_but_keeps_what_it_used() {
    let bed = Bed::new().await;
    let blobs = three_blobs(&bed, 64).await;
    used(&blobs[0], 3);
    used(&blobs[1], 2);
    let size = std::fs::metadata(&blobs[2]).unwrap().len();
    // Fetch commit 0 again (its blob is used, so it is the newest), with room for two blobs.
    let mut cmd = bed.cmd();
    cmd.env("THEROCK_ARTIFACTS_CACHE_MAX", format!("{}", 2 * size + size / 2)).args(fetch_args(
        &sha(10),
        bed.home.path().join("o-again").to_str().unwrap(),
        &[],
    ));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("THEROCK_ARTIFACTS_CACHE_MAX"), "{}", stderr(&o));
    assert!(blobs[0].exists(), "used by this fetch");
    assert!(!blobs[1].exists(), "the least recently used went");
    assert!(blobs[2].exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_dry_run_names_the_archives_it_would_remove() {
    let bed = Bed::new().await;
    let blobs = three_blobs(&bed, 8).await;
    used(&blobs[1], 30);
    used(&blobs[0], 25);
    // A reference written before names were recorded: its blob is shown by its digest.
    let refs = bed.cache_dir().join("refs");
    for e in std::fs::read_dir(&refs).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        if text.contains("n0_lib_gfx942") {
            std::fs::write(e.path(), text.lines().next().unwrap().to_string() + "\n").unwrap();
        }
    }
    let o = bed.run(&["cache", "prune", "--max-age", "20d", "--dry-run"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let digest0 = blobs[0].file_name().unwrap().to_str().unwrap();
    assert!(text.contains("would remove 2 archives") && text.contains("n1_lib_gfx942.tar.zst") && text.contains(&format!("sha256:{digest0}")), "{text}");
    assert!(!text.contains("n2_lib_gfx942"), "{text}");
    let o = bed.run(&["cache", "prune", "--max-age", "20d", "--dry-run", "--json"]).await;
    let removed = stdout_json(&o)["removed"].clone();
    let names: Vec<&serde_json::Value> = removed.as_array().unwrap().iter().map(|e| &e["archives"]).collect();
    assert_eq!(names, [&serde_json::json!(["n1_lib_gfx942.tar.zst"]), &serde_json::json!([])]);
    assert!(blobs.iter().all(|b| b.exists()), "a dry run removes nothing");
}
