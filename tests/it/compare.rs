//! `compare`: archive sizes and, with --deep, file sizes inside, between two commits.

use crate::common::*;
use serde_json::Value;

fn archive(line: &str, files: &[(&str, usize)]) -> Vec<u8> {
    let owned: Vec<(String, Vec<u8>)> = files.iter().map(|(p, n)| (format!("{line}/{p}"), vec![b'x'; *n])).collect();
    let members: Vec<Member> = owned.iter().map(|(p, d)| Member::File(p, d, 0o755)).collect();
    zst(&tar_bytes(&[line], &members))
}

/// Old: llvm (libLLVM 1000, clang 300), blas (librocblas 500), gone (x 10).
/// New: llvm (libLLVM 1500, clang 300, lld 40 added), blas (librocblas 200), fresh (y 10).
async fn two_runs(bed: &Bed) -> (String, String) {
    let (a, b) = (sha(1), sha(2));
    mount_commit_runs(&bed.gh, THEROCK, WF, &a, &[run_json(&RunSpec::ok(101, &a, THEROCK, WF))]).await;
    mount_commit_runs(&bed.gh, THEROCK, WF, &b, &[run_json(&RunSpec::ok(202, &b, THEROCK, WF))]).await;
    let l = "compiler/amd-llvm/stage";
    let m = "math-libs/BLAS/rocBLAS/stage";
    let old = [
        ("amd-llvm_lib_generic.tar.zst", archive(l, &[("lib/libLLVM.so", 1000), ("bin/clang", 300)])),
        ("rocBLAS_lib_gfx942.tar.zst", archive(m, &[("lib/librocblas.so", 500)])),
        ("gone_lib_gfx942.tar.zst", archive("gone/stage", &[("x", 10)])),
    ];
    let new = [
        ("amd-llvm_lib_generic.tar.zst", archive(l, &[("lib/libLLVM.so", 1500), ("bin/clang", 300), ("bin/lld", 40)])),
        ("rocBLAS_lib_gfx942.tar.zst", archive(m, &[("lib/librocblas.so", 200)])),
        ("fresh_lib_gfx942.tar.zst", archive("fresh/stage", &[("y", 10)])),
    ];
    for (f, d) in old {
        bed.s3.put_artifact(BUCKET, "101-linux/", f, &d, true);
    }
    for (f, d) in new {
        bed.s3.put_artifact(BUCKET, "202-linux/", f, &d, true);
    }
    (a, b)
}

fn size_of(bed: &Bed, key: &str) -> i64 {
    std::fs::metadata(bed.s3.root.path().join(BUCKET).join(key)).unwrap().len() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_and_deep_comparison() {
    let bed = Bed::new().await;
    let (a, b) = two_runs(&bed).await;
    let o = bed.run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &b, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = stdout_json(&o);
    let c = &d["comparison"];
    let rows = c["archives"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    // Sorted by absolute delta.
    let deltas: Vec<i64> = rows.iter().map(|r| r["delta"].as_i64().unwrap()).collect();
    let mut sorted = deltas.clone();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.abs()));
    assert_eq!(deltas, sorted);
    let by = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by("gone_lib_gfx942")["change"], "removed");
    assert_eq!(by("fresh_lib_gfx942")["change"], "added");
    let llvm = by("amd-llvm_lib_generic");
    assert_eq!(llvm["from"], size_of(&bed, "101-linux/amd-llvm_lib_generic.tar.zst"));
    assert_eq!(llvm["to"], size_of(&bed, "202-linux/amd-llvm_lib_generic.tar.zst"));
    let total_from: i64 =
        ["amd-llvm_lib_generic", "rocBLAS_lib_gfx942", "gone_lib_gfx942"].iter().map(|n| size_of(&bed, &format!("101-linux/{n}.tar.zst"))).sum();
    let total_to: i64 =
        ["amd-llvm_lib_generic", "rocBLAS_lib_gfx942", "fresh_lib_gfx942"].iter().map(|n| size_of(&bed, &format!("202-linux/{n}.tar.zst"))).sum();
    assert_eq!(c["total"]["from"], total_from);
    assert_eq!(c["total"]["to"], total_to);
    assert_eq!(c["total"]["delta"], total_to - total_from);
    let names: Vec<&str> = c["totals_by_name"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"amd-llvm") && names.contains(&"rocBLAS"), "{names:?}");

    // --deep: inner files, uncompressed sizes from tar headers.
    let o =
        bed.run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &b, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--deep", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files: Vec<Value> = stdout_json(&o)["comparison"]["files"].as_array().unwrap().clone();
    let summary: Vec<(String, i64, String)> =
        files.iter().map(|f| (f["name"].as_str().unwrap().to_string(), f["delta"].as_i64().unwrap(), f["change"].as_str().unwrap().to_string())).collect();
    assert_eq!(
        summary,
        vec![
            ("compiler/amd-llvm/stage/lib/libLLVM.so".to_string(), 500, "changed".to_string()),
            ("math-libs/BLAS/rocBLAS/stage/lib/librocblas.so".to_string(), -300, "changed".to_string()),
            ("compiler/amd-llvm/stage/bin/lld".to_string(), 40, "added".to_string()),
            ("fresh/stage/y".to_string(), 10, "added".to_string()),
            ("gone/stage/x".to_string(), -10, "removed".to_string()),
        ],
        "unchanged files (clang) are left out; ordered by absolute delta"
    );
    // --filter on member paths (shared libraries).
    let o = bed
        .run(&[
            "compare",
            "--repo",
            THEROCK,
            "--from",
            &a,
            "--to",
            &b,
            "--artifact-group",
            "gfx94X-dcgpu",
            "--platform",
            "linux",
            "--deep",
            "--filter",
            r"\.so$",
            "--json",
        ])
        .await;
    let files = stdout_json(&o)["comparison"]["files"].as_array().unwrap().len();
    assert_eq!(files, 2);

    // Human and markdown forms.
    let o = bed.run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &b, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("amd-llvm_lib_generic") && text.contains("removed") && text.contains("added"), "{text}");
    let o = bed.run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &b, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--markdown"]).await;
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("| name | from | to | delta | delta % | change |"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_side_and_platform_mismatch() {
    let bed = Bed::new().await;
    let (a, _) = two_runs(&bed).await;
    let ghost = sha(9);
    mount_commit_runs(&bed.gh, THEROCK, WF, &ghost, &[]).await;
    let o = bed.run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &ghost, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"]).await;
    assert_eq!(code(&o), 1);
    assert_eq!(stdout_json(&o)["missing_side"], "to");
    assert!(stderr(&o).contains("'to' side"), "{}", stderr(&o));
    let o = bed.run(&["compare", "--repo", THEROCK, "--from", &ghost, "--to", &a, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux"]).await;
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("'from' side"), "{}", stderr(&o));
    let o = bed
        .run(&["compare", "--repo", THEROCK, "--from", &a, "--to", &a, "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--to-platform", "windows"])
        .await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("both sides must be of one platform"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_by_run_ids() {
    let bed = Bed::new().await;
    let (a, b) = two_runs(&bed).await;
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(101, &a, THEROCK, WF))).await;
    mount_run(&bed.gh, THEROCK, &run_json(&RunSpec::ok(202, &b, THEROCK, WF))).await;
    let o = bed
        .run(&["compare", "--repo", THEROCK, "--from-run-id", "101", "--to-run-id", "202", "--artifact-group", "gfx94X-dcgpu", "--platform", "linux", "--json"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let c = &stdout_json(&o)["comparison"];
    assert_eq!(c["from"]["commit"], a);
    assert_eq!(c["to"]["run_ids"], serde_json::json!(["202"]));
}
