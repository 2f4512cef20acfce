use super::super::stage_impact::analyze;
use super::super::topology::tests::sample;
use super::*;

/// Every archive the sample's stages build, generic and for gfx942, less `without`.
fn run(without: &[&str]) -> Vec<ArtifactName> {
    let mut f: Vec<String> = ["sysdeps", "base", "amd-llvm", "core-runtime", "core-hip", "rocprofiler-sdk", "rocgdb", "prim", "hipinfo-win"]
        .iter()
        .flat_map(|a| [format!("{a}_lib_generic.tar.zst"), format!("{a}_dev_generic.tar.zst")])
        .collect();
    f.extend(["blas_lib_gfx942.tar.zst", "fft_lib_gfx942.tar.zst", "miopen_lib_gfx942.tar.zst"].map(String::from));
    f.retain(|n| !without.contains(&n.as_str()));
    f.iter().map(|n| ArtifactName::parse(n).unwrap()).collect()
}

fn gfx94x() -> Vec<ArtifactGroup> {
    vec![ArtifactGroup::parse("gfx94X-dcgpu").unwrap()]
}

/// The decision for a `rocm-libraries` change over `(platform, run id, archives)`.
fn decide_for(sides: &[(&str, Option<u64>, &[ArtifactName])]) -> Decision {
    let t = sample();
    let groups = gfx94x();
    let impacts: Vec<Impact> = sides.iter().map(|(p, _, _)| analyze(&t, &["rocm-libraries".into()], Some(p))).collect();
    let refs: Vec<Vec<&ArtifactName>> = sides.iter().map(|(_, _, a)| a.iter().collect()).collect();
    let s: Vec<Side> = sides
        .iter()
        .zip(&impacts)
        .zip(&refs)
        .map(|(((p, id, _), impact), archives)| Side { platform: p, run_id: *id, input: Some(PlanInput { topo: &t, impact, archives, groups: &groups }) })
        .collect();
    decide(&s)
}

#[test]
fn one_platform_decides_as_its_own_plan() {
    let linux = run(&[]);
    let d = decide_for(&[("linux", Some(7), &linux)]);
    assert_eq!(d.rebuild_stages, ["cv-libs", "math-libs"]);
    assert_eq!(d.own, d.settled);
    assert_eq!(d.reuse_stages, d.own[0].as_ref().unwrap().reuse_stages);
    assert!(d.blocked.is_none());
}

#[test]
fn a_stage_is_reused_only_if_every_platform_can_reuse_it() {
    let (linux, windows) = (run(&[]), run(&["core-hip_lib_generic.tar.zst", "core-hip_dev_generic.tar.zst"]));
    let d = decide_for(&[("linux", Some(7), &linux), ("windows", Some(7), &windows)]);
    let own_linux = d.own[0].as_ref().unwrap();
    assert!(own_linux.reuse_stages.contains(&"compiler-runtime".to_string()), "linux alone reuses it");
    assert!(d.own[1].as_ref().unwrap().rebuild_stages.contains(&"compiler-runtime".to_string()), "windows lacks core-hip");
    assert_eq!(d.rebuild_stages, ["compiler-runtime", "cv-libs", "math-libs"]);
    assert!(!d.reuse_stages.contains(&"compiler-runtime".to_string()));
    let settled_linux = d.settled[0].as_ref().unwrap();
    assert_eq!(settled_linux.causes["compiler-runtime"], Cause::Elsewhere { platforms: vec!["windows".into()] });
    assert!(!settled_linux.artifacts.iter().any(|a| a.starts_with("core-hip_")), "linux builds core-hip now: {:?}", settled_linux.artifacts);
    assert!(own_linux.artifacts.iter().any(|a| a.starts_with("core-hip_")));
}

#[test]
fn a_stage_rebuilt_for_another_platform_takes_its_inputs_from_this_one_too() {
    // Windows lacks rocprofiler-sdk, which math-libs consumes: compiler-runtime moves there.
    // Linux then rebuilds compiler-runtime too, so neither fetches its archives.
    let (linux, windows) = (run(&[]), run(&["rocprofiler-sdk_lib_generic.tar.zst", "rocprofiler-sdk_dev_generic.tar.zst"]));
    let d = decide_for(&[("linux", Some(7), &linux), ("windows", Some(7), &windows)]);
    assert!(d.rebuild_stages.contains(&"compiler-runtime".to_string()));
    for p in d.settled.iter().flatten() {
        assert!(!p.artifacts.iter().any(|a| a.starts_with("rocprofiler-sdk_")), "{:?}", p.artifacts);
        assert!(p.rebuild_stages == d.rebuild_stages, "every platform's plan under the decision rebuilds the same stages");
    }
}

#[test]
fn different_baseline_runs_reuse_nothing() {
    let (linux, windows) = (run(&[]), run(&[]));
    let d = decide_for(&[("linux", Some(7), &linux), ("windows", Some(8), &windows)]);
    assert!(d.reuse_stages.is_empty());
    assert_eq!(d.rebuild_stages.len(), 8);
    let why = d.blocked.unwrap();
    assert!(why.contains("linux: run 7") && why.contains("windows: run 8"), "{why}");
}

#[test]
fn a_platform_without_a_baseline_run_reuses_nothing_anywhere() {
    let linux = run(&[]);
    let d = decide_for(&[("linux", Some(7), &linux), ("windows", None, &linux)]);
    assert!(d.reuse_stages.is_empty());
    assert!(d.blocked.unwrap().starts_with("windows has no baseline run"));
    assert_eq!(common_run(&[("linux", Some(3)), ("windows", Some(3))]), Ok(3));
}
