use super::super::stage_impact::analyze;
use super::super::topology::tests::sample;
use super::*;

fn names(files: &[&str]) -> Vec<ArtifactName> {
    files.iter().map(|f| ArtifactName::parse(f).unwrap()).collect()
}

/// Every generic archive the compiler-runtime stage builds, and math-libs for gfx942.
fn baseline_run() -> Vec<ArtifactName> {
    let mut f: Vec<String> = ["sysdeps", "base", "amd-llvm", "core-runtime", "core-hip", "rocprofiler-sdk", "rocgdb", "prim"]
        .iter()
        .flat_map(|a| [format!("{a}_lib_generic.tar.zst"), format!("{a}_dev_generic.tar.zst")])
        .collect();
    f.extend(["blas_lib_gfx942.tar.zst", "blas_lib_gfx942:xnack+.tar.zst", "fft_lib_gfx942.tar.xz", "miopen_lib_gfx942.tar.zst"].map(String::from));
    f.iter().map(|n| ArtifactName::parse(n).unwrap()).collect()
}

fn gfx94x() -> Vec<ArtifactGroup> {
    vec![ArtifactGroup::parse("gfx94X-dcgpu").unwrap()]
}

#[test]
fn the_rebuilt_stages_take_what_they_consume_from_the_reused_ones() {
    let t = sample();
    let run = baseline_run();
    let refs: Vec<&ArtifactName> = run.iter().collect();
    let p = plan(&t, &analyze(&t, &["rocm-libraries".into()], Some("linux")), &refs, &gfx94x(), "linux");
    assert_eq!(p.rebuild_stages, ["cv-libs", "math-libs"]);
    assert!(p.reuse_stages.contains(&"compiler-runtime".to_string()));
    assert!(p.artifacts.contains(&"core-hip_lib_generic.tar.zst".to_string()) && p.artifacts.contains(&"core-hip_dev_generic.tar.zst".to_string()));
    assert!(!p.artifacts.iter().any(|a| a.starts_with("blas_")), "math-libs builds blas itself");
    assert!(!p.artifacts.iter().any(|a| a.starts_with("hipinfo-win")), "a windows artifact is not wanted on linux");
    assert!(p.missing_artifacts.is_empty(), "{:?}", p.missing_artifacts);
}

#[test]
fn target_specific_artifacts_are_wanted_per_target_with_a_base_arch_match() {
    let t = sample();
    let run = names(&["blas_lib_gfx942:xnack+.tar.zst", "blas_dev_gfx942.tar.zst"]);
    let refs: Vec<&ArtifactName> = run.iter().collect();
    let a = availability(t.artifact("blas").unwrap(), &refs, &gfx94x());
    assert_eq!(a.held, ["blas_lib_gfx942:xnack+.tar.zst", "blas_dev_gfx942.tar.zst"]);
    assert!(a.missing.is_empty());
    let two = vec![ArtifactGroup::parse("gfx94X-dcgpu").unwrap(), ArtifactGroup::parse("gfx950-dcgpu").unwrap()];
    let a = availability(t.artifact("blas").unwrap(), &refs, &two);
    assert_eq!(a.missing, ["blas_dev_gfx950", "blas_lib_gfx950"], "named per target with the components the run has elsewhere");
}

#[test]
fn a_missing_pair_rebuilds_the_stage_that_produces_it() {
    let t = sample();
    let run: Vec<ArtifactName> = baseline_run().into_iter().filter(|a| a.name != "rocgdb").collect();
    let refs: Vec<&ArtifactName> = run.iter().collect();
    let p = plan(&t, &analyze(&t, &["tools-tests-only-change/rocgdb-tests".into(), "third-party/x".into()], Some("linux")), &refs, &gfx94x(), "linux");
    // host-libs rebuilds (third-party); nothing there consumes rocgdb: nothing missing.
    assert!(p.missing_artifacts.is_empty());
    let i = analyze(&t, &["rocgdb".into()], Some("linux"));
    let mut i2 = i.clone();
    i2.causes.remove("debug-tools");
    let p = plan(&t, &i2, &refs, &gfx94x(), "linux");
    assert_eq!(p.missing_artifacts, ["rocgdb_*_generic"]);
    assert!(matches!(p.causes["debug-tools"], Cause::Unavailable { .. }));
    assert!(p.rebuild_stages.contains(&"debug-tools".to_string()));
}

#[test]
fn a_full_rebuild_reuses_nothing() {
    let t = sample();
    let run = baseline_run();
    let refs: Vec<&ArtifactName> = run.iter().collect();
    let p = plan(&t, &analyze(&t, &["build_tools/x.py".into()], Some("linux")), &refs, &gfx94x(), "linux");
    assert!(p.reuse_stages.is_empty() && p.artifacts.is_empty());
    assert_eq!(prebuilt_stages(&["a".into(), "b".into()]), "a,b");
}
