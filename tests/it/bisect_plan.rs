//! `bisect --plan --ways K`: a parallel bisection, one round per call, each round a matrix of
//! commits GitHub Actions tests at once; the answer is the one the sequential bisect gives.

use crate::bisect::{bisect_args, history_with_flip};
use crate::common::*;
use serde_json::Value;

fn plan_args<'a>(good: &'a str, bad: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["bisect", "--repo", THEROCK, "--good", good, "--bad", bad, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--plan", "--json"];
    v.extend_from_slice(extra);
    v
}

/// What a GPU runner's `exec` would say of commit `sha` (index `i`, oldest first).
fn verdict(main: &[String], sha: &str, flip: usize, skip: &str) -> &'static str {
    let i = 19 - main.iter().position(|m| m == sha).expect("a commit of the history");
    if sha == skip {
        "skip"
    } else if i >= flip {
        "bad"
    } else {
        "good"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ways_reach_the_sequential_answer_in_three_rounds_skipping_what_has_no_artifacts() {
    let bed = Bed::new().await;
    let (flip, no_runs) = (11usize, [7usize]);
    let main = history_with_flip(&bed, 400, flip, &no_runs).await;
    let (good, bad) = (main[19].clone(), main[0].clone());
    let skip = main[19 - (flip - 1)].clone();
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let sf = state_file.to_str().unwrap();

    // The sequential answer, with the commit before the flip saying "skip".
    let mut cmd = bed.cmd();
    cmd.env("SKIP_COMMIT", &skip).args(bisect_args(&good, &bad, &["--json"]));
    let seq = stdout_json(&run_cmd(cmd).await);
    assert_eq!(seq["status"], "found", "{seq}");

    let o = bed.run(&plan_args(&good, &bad, &["--ways", "3"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut doc = stdout_json(&o);
    let no_artifacts = &main[19 - 7];
    let mut rounds = 0;
    while doc["status"] == "planned" {
        rounds += 1;
        assert_eq!(doc["round"], rounds, "{doc}");
        let jobs = doc["matrix"]["include"].as_array().unwrap().clone();
        assert!(!jobs.is_empty() && jobs.len() <= 3, "{doc}");
        assert!(jobs.iter().all(|j| j["run_id"].is_u64() && j["commit"] != *no_artifacts), "no job for a commit without artifacts: {doc}");
        std::fs::write(&state_file, doc.to_string()).unwrap();
        let results: Vec<String> = jobs.iter().map(|j| j["commit"].as_str().unwrap()).map(|c| format!("{c}={}", verdict(&main, c, flip, &skip))).collect();
        let mut args = vec!["bisect", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--plan", "--json", "--state", sf];
        for r in &results {
            args.extend(["--result", r.as_str()]);
        }
        let o = bed.run(&args).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        doc = stdout_json(&o);
        assert!(rounds <= 5, "runaway: {doc}");
    }
    assert!(rounds <= 3, "ceil(log4 20) = 3 rounds, took {rounds}");
    assert_eq!(doc["status"], "found", "{doc}");
    for k in ["first_bad", "last_good", "skipped", "commits"] {
        assert_eq!(doc[k], seq[k], "{k}: plan {doc}\nsequential {seq}");
    }
    assert_eq!(doc["skipped"], serde_json::json!([skip]));
    assert!(doc["without_artifacts"].as_array().unwrap().iter().any(|w| w["commit"] == *no_artifacts));
    assert!(doc["message"].as_str().unwrap().contains("the first bad commit with artifacts is"), "{doc}");
}

/// Round 1's document, written to a file; its path.
async fn first_round(bed: &Bed, good: &str, bad: &str, dir: &std::path::Path) -> (Value, std::path::PathBuf) {
    let o = bed.run(&plan_args(good, bad, &["--ways", "2"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = stdout_json(&o);
    let f = dir.join("round1.json");
    std::fs::write(&f, doc.to_string()).unwrap();
    (doc, f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_edited_state_and_results_outside_the_round_are_refused() {
    let bed = Bed::new().await;
    let main = history_with_flip(&bed, 500, 9, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (doc, f) = first_round(&bed, &main[19], &main[0], dir.path()).await;
    let fs = f.to_str().unwrap();
    let planned = doc["matrix"]["include"][0]["commit"].as_str().unwrap().to_string();
    let refused = |o: &std::process::Output, what: &str| {
        assert_eq!(code(o), 2, "{what}: {}", stderr(o));
        assert!(stderr(o).contains(what), "{what}: {}", stderr(o));
        assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
    };

    // A result for a commit the round does not test.
    let outside = format!("{}=good", &main[1][..12]);
    let o =
        bed.run(&["bisect", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--plan", "--state", fs, "--result", &outside]).await;
    refused(&o, "which round 1 does not test");

    // The state edited by hand.
    let mut edited = doc.clone();
    edited["state"]["results"] = serde_json::json!([{"commit": planned, "verdict": "good"}]);
    let e = dir.path().join("edited.json");
    std::fs::write(&e, edited.to_string()).unwrap();
    let o = bed.run(&["bisect", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--plan", "--state", e.to_str().unwrap()]).await;
    refused(&o, "edited by hand");

    // The state of another range.
    let result = format!("{planned}=bad");
    let o = bed.run(&plan_args(&main[18], &main[0], &["--state", fs, "--result", &result])).await;
    refused(&o, "belongs to another range");

    // A malformed result, and a test command next to --plan.
    let o = bed.run(&["bisect", "--repo", THEROCK, "--artifact-group", "gfx94X-dcgpu", "--plan", "--state", fs, "--result", "maybe"]).await;
    refused(&o, "SHA=good|bad|skip");
    let o = bed.run(&plan_args(&main[19], &main[0], &["--", "true"])).await;
    refused(&o, "--plan runs no test");
}
