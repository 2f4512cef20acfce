use super::*;

/// The test topology (tests/fixtures), also used by the integration tests.
pub const SAMPLE: &str = include_str!("../../tests/fixtures/BUILD_TOPOLOGY.toml");

pub fn sample() -> Topology {
    Topology::parse(SAMPLE).unwrap()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn stages_keep_file_order() {
    let t = sample();
    assert_eq!(t.stage_names()[..3], ["compiler-runtime", "math-libs", "cv-libs"]);
    assert!(t.stage("math-libs").unwrap().per_arch);
}

#[test]
fn produced_is_every_artifact_of_the_stage_groups() {
    let t = sample();
    assert_eq!(t.produced("math-libs"), set(&["blas", "fft", "miopen", "prim"]));
    assert_eq!(t.produced("nonexistent"), BTreeSet::new());
}

#[test]
fn inbound_is_dependency_groups_and_artifact_deps_transitively_minus_produced() {
    let t = sample();
    // hip-runtime and profiler-core (dependency groups of math-libs), their artifacts' deps
    // transitively; ml-libs depends on math-libs, which the stage produces itself.
    assert_eq!(t.inbound("math-libs"), set(&["amd-llvm", "base", "core-hip", "core-runtime", "hipinfo-win", "rocprofiler-sdk", "sysdeps"]));
    // No dependency group: only its artifact's deps, transitively.
    assert_eq!(t.inbound("tools-tests"), set(&["amd-llvm", "rocgdb", "sysdeps"]));
    assert_eq!(t.inbound("compiler-runtime"), BTreeSet::new(), "everything it consumes it builds itself");
}

#[test]
fn artifacts_disabled_on_a_platform_or_of_another_platform_are_not_built_there() {
    let t = sample();
    assert!(!t.artifact("mesa").unwrap().built_on("windows"));
    assert!(t.artifact("mesa").unwrap().built_on("linux"));
    assert!(!t.artifact("hipinfo-win").unwrap().built_on("linux"));
}

#[test]
fn text_that_is_not_toml_names_the_line() {
    let e = Topology::parse("[metadata]\nversion = \"2.0\"\n[build_stages.x\n").unwrap_err();
    assert_eq!(e.table, "the file");
    assert!(e.why.starts_with("is not TOML (line 3)"), "{e}");
}

#[test]
fn another_schema_version_is_refused() {
    let e = Topology::parse("[metadata]\nversion = \"1.0\"\n").unwrap_err();
    assert_eq!((e.table.as_str(), e.why.contains("\"1.0\"")), ("[metadata]", true), "{e}");
    let e = Topology::parse("[build_stages.a]\n").unwrap_err();
    assert!(e.why.contains("no version"), "{e}");
}

#[test]
fn a_dependency_cycle_names_its_table_and_path() {
    let text = SAMPLE
        .replace("[artifact_groups.sysdeps]\ntype = \"generic\"", "[artifact_groups.sysdeps]\ntype = \"generic\"\nartifact_group_deps = [\"hip-runtime\"]");
    let e = Topology::parse(&text).unwrap_err();
    assert!(e.table.starts_with("[artifact_groups."), "{e}");
    assert!(e.why.contains("dependency cycle") && e.why.contains("sysdeps"), "{e}");
    let text = SAMPLE
        .replace("[artifacts.sysdeps]\nartifact_group = \"sysdeps\"", "[artifacts.sysdeps]\nartifact_group = \"sysdeps\"\nartifact_deps = [\"core-hip\"]");
    let e = Topology::parse(&text).unwrap_err();
    assert!(e.table.starts_with("[artifacts.") && e.why.contains("amd-llvm"), "{e}");
}

#[test]
fn a_dangling_reference_names_the_table_and_the_name() {
    let text = SAMPLE.replace("artifact_groups = [\"cv-libs\"]", "artifact_groups = [\"cv-libz\"]");
    let e = Topology::parse(&text).unwrap_err();
    assert_eq!(e.to_string(), "[build_stages.cv-libs]: names artifact group 'cv-libz', which the file does not define");
    let text = SAMPLE.replace("artifact_deps = [\"blas\"]", "artifact_deps = [\"blass\"]");
    let e = Topology::parse(&text).unwrap_err();
    assert_eq!(e.table, "[artifacts.miopen]");
    let text = SAMPLE.replace("source_sets = [\"third-party\"]", "source_sets = [\"3rd-party\"]");
    assert_eq!(Topology::parse(&text).unwrap_err().table, "[artifact_groups.host-libs]");
}

#[test]
fn a_table_of_the_wrong_shape_names_itself() {
    let text = SAMPLE.replace("submodules = [\"rocgdb\"]", "submodules = \"rocgdb\"");
    let e = Topology::parse(&text).unwrap_err();
    assert_eq!(e.table, "[source_sets.debug-tools]");
}

/// A topology as big as TheRock's at 89553ce (885 lines: 11 source sets, 11 stages, 25 groups,
/// 73 artifacts, with comments and descriptions), generated.
pub fn real_sized() -> String {
    let mut t = String::from("# generated\n[metadata]\nversion = \"2.0\"\ndescription = \"generated\"\n\n");
    for i in 0..11 {
        t += &format!("# source set {i}\n[source_sets.s{i}]\ndescription = \"set {i}\"\nsubmodules = [\"s{i}\", \"s{i}-extra\"]\n\n");
    }
    for i in 0..11 {
        let groups: Vec<String> = (0..25).filter(|g| g % 11 == i).map(|g| format!("\"g{g}\"")).collect();
        t += &format!("# stage {i}\n[build_stages.st{i}]\ndescription = \"stage {i}\"\nartifact_groups = [{}]\ntype = \"generic\"\n\n", groups.join(", "));
    }
    for g in 0..25 {
        let deps = if g == 0 { String::new() } else { format!("\"g{}\"", g / 2) };
        t += &format!(
            "# group {g}\n[artifact_groups.g{g}]\ndescription = \"group {g}\"\ntype = \"generic\"\nartifact_group_deps = [{deps}]\nsource_sets = [\"s{}\"]\n\n",
            g % 11
        );
    }
    for a in 0..73 {
        let deps = if a < 3 { String::new() } else { format!("\"a{}\", \"a{}\"", a / 3, a / 2) };
        t += &format!(
            "# artifact {a}\n[artifacts.a{a}]\nartifact_group = \"g{}\"\ntype = \"target-neutral\"\nartifact_deps = [{deps}]\ndisable_platforms = []\n\n",
            a % 25
        );
    }
    while t.lines().count() < 885 {
        t += "# padding, as the real file's comments\n";
    }
    t
}
