use super::*;

const A: &str = "0123456789abcdef0123456789abcdef01234567";
const B: &str = "fedcba9876543210fedcba9876543210fedcba98";
const F: &str = LIBRARIES_MULTI_ARCH;

/// A rocm-libraries-shaped multi-arch workflow: setup, linux and windows calls at `@{setup}`,
/// `@{linux}`, `@{windows}`, and a checkout of ROCm/TheRock at `ref: {checkout}`.
fn libraries(setup: &str, linux: &str, windows: &str, checkout: &str) -> String {
    format!(
        r#"# Update every TheRock ref below together.
name: TheRock Multi-Arch CI
on:
  pull_request:
  push:
    branches: [develop]
jobs:
  setup:
    uses: ROCm/TheRock/.github/workflows/setup_multi_arch.yml@{setup} # 2026-09-18
    with:
      external_repo: rocm-libraries
  linux:
    needs: setup
    uses: ROCm/TheRock/.github/workflows/multi_arch_ci_linux.yml@{linux} # 2026-09-18
    secrets: inherit
  windows:
    needs: setup
    uses: "ROCm/TheRock/.github/workflows/multi_arch_ci_windows.yml@{windows}"
  summary:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - name: Checkout TheRock
        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with:
          repository: "ROCm/TheRock"
          ref: {checkout} # 2026-09-18
          path: TheRock
      - name: Checkout something else
        uses: actions/checkout@v4
        with:
          ref: not-therock
          repository: ROCm/rocm-systems
"#
    )
}

fn pin(sha: &str, file: &str, line: usize) -> SuperPin {
    SuperPin::Pin { sha: sha.into(), at: PinAt { file: file.into(), line } }
}

#[test]
fn rocm_libraries_pins_that_agree_are_the_pin_at_the_setup_line() {
    let r = read_multi_arch_workflow(F, &libraries(A, A, A, A));
    assert_eq!(r.read, pin(A, F, 9));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn rocm_libraries_pins_that_disagree_warn_naming_both_lines_and_setup_wins() {
    let r = read_multi_arch_workflow(F, &libraries(A, B, A, A));
    assert_eq!(r.read, pin(A, F, 9));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let w = &r.warnings[0];
    assert!(w.contains(&format!("{F}:9")) && w.contains(&format!("{F}:14")) && w.contains(B), "{w}");
    assert!(w.contains("setup_multi_arch.yml"), "{w}");
    // The checkout's ref disagreeing too: one warning per disagreeing line.
    let r = read_multi_arch_workflow(F, &libraries(A, A, A, B));
    assert_eq!(r.read, pin(A, F, 9));
    assert!(r.warnings[0].contains(&format!("{F}:27")), "{:?}", r.warnings);
}

#[test]
fn a_ref_of_main_or_the_resolve_step_output_is_resolved_at_run_time() {
    let r = read_multi_arch_workflow(F, &libraries("main", "main", "main", "main"));
    assert_eq!(
        r.read,
        SuperPin::AtRunTime {
            branch: "main".into(),
            at: PinAt { file: F.into(), line: 9 },
            said: "uses: ROCm/TheRock/.github/workflows/setup_multi_arch.yml@main".into()
        }
    );
    assert!(r.warnings.is_empty());
    let expr = "${{ needs.resolve_therock_ref.outputs.therock_ref }}";
    let y = format!(
        "jobs:\n  resolve_therock_ref:\n    runs-on: ubuntu-24.04\n  setup:\n    uses: ROCm/TheRock/.github/workflows/setup_multi_arch.yml@main\n    with:\n      therock_ref: x\n  linux:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          repository: ROCm/TheRock\n          ref: {expr}\n"
    );
    let r = read_multi_arch_workflow(F, &y);
    assert!(matches!(&r.read, SuperPin::AtRunTime { branch, at, .. } if branch == "main" && at.line == 5), "{:?}", r.read);
    assert!(r.warnings.is_empty(), "main and the resolve step's output agree: {:?}", r.warnings);
    let only_expr = "jobs:\n  a:\n    steps:\n      - with:\n          ref: ${{ inputs.therock_ref_override || needs.resolve_therock_ref.outputs.therock_ref }}\n          repository: ROCm/TheRock\n";
    assert!(matches!(read_multi_arch_workflow(F, only_expr).read, SuperPin::AtRunTime { at: PinAt { line: 5, .. }, .. }));
}

#[test]
fn an_override_input_defaulting_to_a_sha_pins_that_sha() {
    let y = format!("jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          repository: ROCm/TheRock\n          ref: ${{{{ inputs.therock_ref_override || '{B}' }}}}\n");
    assert_eq!(read_multi_arch_workflow(F, &y).read, pin(B, F, 7));
}

#[test]
fn a_file_that_is_not_yaml_is_bad_input_and_the_next_source_is_tried() {
    let r = read_multi_arch_workflow(F, "jobs: [unclosed\n  x: {\n");
    let SuperPin::NoPin(s) = r.read else { panic!("{:?}", r.read) };
    assert!(s.contains(F) && s.contains("not a YAML workflow"), "{s}");
}

#[test]
fn a_pin_that_is_neither_a_sha_nor_a_branch_names_file_line_and_expectation() {
    for bad in ["abc1234", "0123456789abcdef0123456789abcdef0123456", "has space", "a..b"] {
        let y = format!("jobs:\n  setup:\n    uses: ROCm/TheRock/.github/workflows/setup_multi_arch.yml@{bad}\n");
        let SuperPin::Invalid(s) = read_multi_arch_workflow(F, &y).read else { panic!("{bad}") };
        assert!(s.contains(&format!("{F}:3")) && s.contains("expected a 40-hex TheRock commit SHA or a branch"), "{s}");
    }
}

#[test]
fn a_uses_of_another_owner_is_bad_input() {
    let y = format!("jobs:\n  setup:\n    uses: someone/TheRock/.github/workflows/setup_multi_arch.yml@{A}\n");
    let SuperPin::Invalid(s) = read_multi_arch_workflow(F, &y).read else { panic!() };
    assert!(s.contains(&format!("{F}:3")) && s.contains("someone/TheRock") && s.contains("expected ROCm/TheRock"), "{s}");
}

#[test]
fn a_workflow_naming_no_therock_has_no_pin() {
    let y = "jobs:\n  a:\n    uses: ./.github/workflows/_therock_setup_multi_arch.yml\n  b:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: main\n";
    assert!(matches!(read_multi_arch_workflow(F, y).read, SuperPin::NoPin(_)));
}

fn ref_json(r: &str) -> String {
    format!("{{\n  \"commit_date\": \"2026-09-18T07:13:59Z\",\n  \"ref\": {r},\n  \"updated_date\": \"2026-09-19T00:00:00Z\"\n}}\n")
}

fn wrapper(reusable: &str, r: &str) -> String {
    format!("on: workflow_call\njobs:\n  call:\n    uses: ROCm/TheRock/.github/workflows/{reusable}@{r} # 2026-09-18T07:13:59Z\n    secrets: inherit\n")
}

#[test]
fn rocm_systems_therock_ref_json_pins_with_its_line() {
    assert_eq!(read_ref_json(&ref_json(&format!("\"{A}\""))), pin(A, SYSTEMS_REF_JSON, 3));
    let w = [(SYSTEMS_WRAPPERS[0], Some(wrapper("setup_multi_arch.yml", A)))];
    let wr: Vec<(&str, Option<&str>)> = w.iter().map(|(f, t)| (*f, t.as_deref())).collect();
    let r = read_systems_multi_arch(Some(&ref_json(&format!("\"{A}\""))), &wr);
    assert_eq!(r.read, pin(A, SYSTEMS_REF_JSON, 3));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn rocm_systems_bad_ref_json_is_said_and_the_wrappers_answer() {
    let setup = wrapper("setup_multi_arch.yml", B);
    let linux = wrapper("multi_arch_ci_linux.yml", B);
    let wr = [(SYSTEMS_WRAPPERS[0], Some(setup.as_str())), (SYSTEMS_WRAPPERS[1], Some(linux.as_str())), (SYSTEMS_WRAPPERS[2], None)];
    for (json, says) in [("{\"commit_date\": \"x\"}".to_string(), "no \"ref\""), (ref_json("\"main\""), "expected a 40-hex"), ("{".into(), "is not JSON")] {
        let r = read_systems_multi_arch(Some(&json), &wr);
        assert_eq!(r.read, pin(B, SYSTEMS_WRAPPERS[0], 4), "{json}");
        assert!(r.warnings.iter().any(|w| w.contains(SYSTEMS_REF_JSON) && w.contains(says) && w.contains("trying the wrappers")), "{json}: {:?}", r.warnings);
    }
    assert!(matches!(read_ref_json("{\"updated_date\": \"x\"}"), SuperPin::NoPin(s) if s.contains("no \"ref\"")));
}

#[test]
fn rocm_systems_wrappers_that_drift_from_the_json_warn() {
    let linux = wrapper("multi_arch_ci_linux.yml", B);
    let r = read_systems_multi_arch(Some(&ref_json(&format!("\"{A}\""))), &[(SYSTEMS_WRAPPERS[1], Some(&linux))]);
    assert_eq!(r.read, pin(A, SYSTEMS_REF_JSON, 3));
    assert!(r.warnings[0].contains(&format!("{}:4", SYSTEMS_WRAPPERS[1])) && r.warnings[0].contains(B), "{:?}", r.warnings);
}

#[test]
fn rocm_systems_wrappers_on_main_are_resolved_at_run_time() {
    let setup = wrapper("setup_multi_arch.yml", "main");
    let r = read_systems_multi_arch(None, &[(SYSTEMS_WRAPPERS[0], Some(&setup))]);
    assert!(matches!(&r.read, SuperPin::AtRunTime { branch, at, .. } if branch == "main" && at.file == SYSTEMS_WRAPPERS[0] && at.line == 4), "{:?}", r.read);
    let none = read_systems_multi_arch(None, &[(SYSTEMS_WRAPPERS[0], None)]);
    assert!(matches!(&none.read, SuperPin::NoPin(s) if s.contains("not present")), "{:?}", none.read);
    let other = wrapper("setup_multi_arch.yml", "v1.0+x");
    assert!(matches!(read_systems_multi_arch(None, &[(SYSTEMS_WRAPPERS[0], Some(&other))]).read, SuperPin::Invalid(_)));
}
