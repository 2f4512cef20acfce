use super::super::topology::tests::sample;
use super::*;

fn impact(inputs: &[&str], platform: Option<&str>) -> Impact {
    let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    analyze(&sample(), &inputs, platform)
}

#[test]
fn full_rebuild_when_a_path_is_under_github_build_tools_docs_or_scripts() {
    for p in [".github/workflows/ci.yml", "build_tools/x.py", "docs/a.md", "scripts/s.sh", "./build_tools/y.py", "build_tools"] {
        let i = impact(&[p, "rocm-libraries"], None);
        assert!(i.full_rebuild_required, "{p}");
        assert_eq!(i.rebuild_stages.len(), 8, "{p}: every stage");
        assert_eq!(i.rebuild_stages[0], "compiler-runtime", "file order");
        assert!(i.copy_stages.is_empty());
        assert!(i.reasons[0].contains(&normalize(p)), "{:?}", i.reasons);
    }
    assert!(!impact(&["docsy/x", "rocgdb"], None).full_rebuild_required, "a prefix is a whole directory");
}

#[test]
fn full_rebuild_when_the_topology_or_the_top_cmakelists_changes() {
    assert!(impact(&["BUILD_TOPOLOGY.toml"], None).full_rebuild_required);
    assert!(impact(&["CMakeLists.txt"], None).full_rebuild_required);
    assert!(!impact(&["rocgdb/CMakeLists.txt"], None).full_rebuild_required, "only the top one");
}

#[test]
fn full_rebuild_when_no_input_maps_to_a_source_set() {
    let i = impact(&["README.md", "unknown/file.c"], None);
    assert!(i.full_rebuild_required);
    assert_eq!(i.unmatched_inputs, ["README.md", "unknown/file.c"]);
    assert!(i.reasons[0].contains("no changed input maps"));
}

#[test]
fn an_input_maps_as_a_submodule_name_then_a_path_prefix_then_each_path_component() {
    let t = sample();
    assert_eq!(source_set_of(&t, "rocm-libraries", None), Some("rocm-libraries"));
    assert_eq!(source_set_of(&t, "third-party/fmt/format.h", None), Some("third-party"));
    assert_eq!(source_set_of(&t, "rocm-libraries/projects/rocBLAS/x.cpp", None), Some("rocm-libraries"));
    assert_eq!(source_set_of(&t, "patches/amd-mesa/0001.patch", None), Some("amd-mesa"), "any component");
    assert_eq!(source_set_of(&t, "third-partyish/x", None), None, "a prefix is a whole component");
}

#[test]
fn source_sets_map_to_groups_then_to_the_stages_that_build_them() {
    let i = impact(&["rocm-libraries"], None);
    assert!(!i.full_rebuild_required);
    assert_eq!(i.matched_source_sets, ["rocm-libraries"]);
    assert_eq!(i.impacted_groups, ["cv-libs", "math-libs", "ml-libs"]);
    assert_eq!(i.rebuild_stages, ["cv-libs", "math-libs"]);
    assert_eq!(i.copy_stages, ["compiler-runtime", "debug-tools", "host-libs", "media-libs", "profiler-apps", "tools-tests"]);
    assert_eq!(i.causes["math-libs"], Cause::Changed { input: "rocm-libraries".into(), source_set: "rocm-libraries".into() });
}

#[test]
fn downstream_a_stage_consuming_an_artifact_of_an_impacted_stage_is_impacted() {
    let i = impact(&["rocgdb"], None);
    assert_eq!(i.rebuild_stages, ["debug-tools", "tools-tests"]);
    assert_eq!(i.causes["tools-tests"], Cause::Consumes { artifact: "rocgdb".into(), from: "debug-tools".into() });
    let all = impact(&["rocm-systems"], None);
    assert_eq!(all.rebuild_stages.len(), 7, "rocm-systems feeds the compiler-runtime stage, so every stage but host-libs rebuilds");
    assert!(!all.full_rebuild_required, "by impact, not a full-rebuild trigger");
    let compiler = impact(&["llvm-project"], None);
    assert_eq!(compiler.rebuild_stages.len(), 7, "the compiler feeds every stage but host-libs");
}

#[test]
fn unmatched_inputs_are_listed_but_do_not_force_a_rebuild_when_others_map() {
    let i = impact(&["README.md", "rocgdb/gdb/x.c"], None);
    assert!(!i.full_rebuild_required);
    assert_eq!(i.unmatched_inputs, ["README.md"]);
    assert_eq!(i.rebuild_stages, ["debug-tools", "tools-tests"]);
}

#[test]
fn source_sets_disabled_on_a_platform_are_ignored_there() {
    let linux = impact(&["amd-mesa"], Some("linux"));
    assert_eq!(linux.rebuild_stages, ["media-libs"]);
    let windows = impact(&["amd-mesa"], Some("windows"));
    assert!(windows.full_rebuild_required, "nothing maps on windows");
    assert_eq!(windows.unmatched_inputs, ["amd-mesa"]);
}

#[test]
fn inputs_are_normalized_keeping_a_leading_dot_of_a_name() {
    assert_eq!(normalize(" ./rocgdb/x.c "), "rocgdb/x.c");
    assert_eq!(normalize(".github/x"), ".github/x");
    assert_eq!(impact(&["", "  "], None).changed_inputs, Vec::<String>::new());
}

/// A generated topology as big as TheRock's (885 lines, 11 stages, 73 artifacts): parse and
/// impact must take well under 10 ms. Prints the time; asserts nothing about it (machines vary).
#[test]
fn bench_parse_and_impact_of_a_real_sized_topology() {
    let text = super::super::topology::tests::real_sized();
    assert!(text.lines().count() >= 880, "{} lines", text.lines().count());
    let runs = 20;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let t = Topology::parse(&text).unwrap();
        let i = analyze(&t, &["s3/x.cpp".to_string(), "README.md".to_string()], Some("linux"));
        assert!(!i.full_rebuild_required);
    }
    let each = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    eprintln!("bench: parse + impact of a {}-line topology: {each:.3} ms", text.lines().count());
}
