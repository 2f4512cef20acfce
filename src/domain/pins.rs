//! The TheRock commit a super-repo commit builds against (therock-facts.md §5).

use serde::Deserialize;

use super::sha::{is_hex_commitish, CommitSha};
use std::collections::BTreeMap;

/// The files read for a pin, in order: the JSON file rocm-systems keeps since 2026-09 (it wins:
/// older files may linger with stale pins), the ci-env action, the top-level workflows, then the
/// reusable-workflow wrappers the JSON file's update script keeps in step.
pub const PIN_SOURCES: &[&str] = &[
    ".github/therock_ref.json",
    ".github/actions/ci-env/action.yml",
    ".github/workflows/therock-ci.yml",
    ".github/workflows/therock-ci-linux.yml",
    ".github/workflows/_therock_setup_multi_arch.yml",
    ".github/workflows/_therock_multi_arch_ci_linux.yml",
    ".github/workflows/_therock_multi_arch_ci_windows.yml",
];

/// The legacy "TheRock CI"'s own pin sources (facts §5), first found wins.
pub const LEGACY_SOURCES: &[&str] = &[".github/actions/ci-env/action.yml", ".github/workflows/therock-ci.yml", ".github/workflows/therock-ci-linux.yml"];
/// Where the bot writes `baseline-run-id` beside `therock-ref`.
pub const CI_ENV: &str = ".github/actions/ci-env/action.yml";

pub const CHECKOUT_STEP: &str = "Checkout TheRock repository";

/// What one source file says about the pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRead {
    /// A 40-hex commit.
    Pin { sha: CommitSha, baseline_run_id: Option<u64> },
    /// The file has no pin (no such output/step, an expression, a branch name): try the next.
    NoPin(String),
    /// The value looks like a commit but is not a full 40-hex SHA: bad input.
    Invalid(String),
}

#[derive(Deserialize)]
struct Action {
    #[serde(default)]
    outputs: BTreeMap<String, Output>,
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    value: Option<Scalar>,
}

#[derive(Deserialize)]
struct Workflow {
    #[serde(default)]
    jobs: BTreeMap<String, Job>,
}

#[derive(Deserialize)]
struct Job {
    /// A reusable workflow call (`ROCm/TheRock/.github/workflows/x.yml@<sha>`).
    #[serde(default)]
    uses: Option<String>,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct RefJson {
    #[serde(rename = "ref", default)]
    git_ref: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Step {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, Scalar>,
}

/// Any YAML scalar, kept as text (a SHA of digits only would otherwise parse as a number).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn classify(value: &str, what: &str) -> PinRead {
    let v = value.trim();
    if let Some(sha) = CommitSha::parse(v) {
        return PinRead::Pin { sha, baseline_run_id: None };
    }
    if v.is_empty() {
        return PinRead::NoPin(format!("{what} is empty"));
    }
    if v.contains("${{") {
        // `${{ inputs.NAME || '<sha>' }}`: an override input with the pin as its default.
        if let Some(sha) = override_default(v) {
            return PinRead::Pin { sha, baseline_run_id: None };
        }
        return PinRead::NoPin(format!("{what} is an expression ({v})"));
    }
    // Hex-only values of commit-like length are meant as a commit but are not a full SHA.
    if is_hex_commitish(v) {
        return PinRead::Invalid(format!("{what} is '{v}', which is not a 40-hex commit SHA"));
    }
    PinRead::NoPin(format!("{what} is a branch or tag name ({v}), not a pinned commit"))
}

/// The pin in `${{ inputs.NAME || '<40-hex>' }}` (either quote), and nothing else.
pub fn override_default(expr: &str) -> Option<CommitSha> {
    let inner = expr.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let (input, default) = inner.split_once("||")?;
    let input = input.trim().strip_prefix("inputs.")?;
    if input.is_empty() || !input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return None;
    }
    let d = default.trim();
    let quoted = (d.starts_with('\'') && d.ends_with('\'')) || (d.starts_with('"') && d.ends_with('"'));
    let sha = d.get(1..d.len().saturating_sub(1)).filter(|_| quoted && d.len() >= 2)?;
    CommitSha::parse(sha)
}

/// Reads `.github/therock_ref.json`: `{"ref": "<40-hex sha>", ...}`.
pub fn parse_ref_json(text: &str) -> Result<PinRead, String> {
    let j: RefJson = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    Ok(match j.git_ref {
        None | Some(serde_json::Value::Null) => PinRead::NoPin("no \"ref\"".into()),
        Some(serde_json::Value::String(s)) => classify(&s, "\"ref\""),
        Some(other) => PinRead::Invalid(format!("\"ref\" is {other}, not a commit SHA")),
    })
}

/// Reads a reusable-workflow wrapper: a job calling `ROCm/TheRock/...@<sha>`, else a step
/// checking out ROCm/TheRock at a `ref:`.
pub fn parse_wrapper(yaml: &str) -> Result<PinRead, String> {
    let wf: Workflow = serde_saphyr::from_str(yaml).map_err(|e| format!("not valid YAML: {e}"))?;
    for job in wf.jobs.values() {
        if let Some(u) = job.uses.as_deref().map(str::trim) {
            if u.to_ascii_lowercase().starts_with("rocm/therock/") {
                if let Some((_, at)) = u.rsplit_once('@') {
                    return Ok(classify(at, &format!("'uses: {u}'")));
                }
            }
        }
    }
    if let Some(r) = therock_checkouts(&wf).find_map(|step| step.with.get("ref")) {
        return Ok(classify(&r.text(), "the ROCm/TheRock checkout's ref"));
    }
    Ok(PinRead::NoPin("no call of a ROCm/TheRock workflow at a commit, no checkout of ROCm/TheRock".into()))
}

/// The 1-based line of `text` where the pin is written (for `path:line`).
pub fn pin_line(text: &str, sha: &str) -> Option<usize> {
    text.lines().position(|l| l.to_ascii_lowercase().contains(sha)).map(|i| i + 1)
}

/// Reads `.github/actions/ci-env/action.yml`: output `therock-ref` (and `baseline-run-id`).
pub fn parse_ci_env(yaml: &str) -> Result<PinRead, String> {
    let action: Action = serde_saphyr::from_str(yaml).map_err(|e| format!("not valid YAML: {e}"))?;
    let Some(value) = action.outputs.get("therock-ref").and_then(|o| o.value.as_ref()) else {
        return Ok(PinRead::NoPin("no output therock-ref".into()));
    };
    let mut read = classify(&value.text(), "output therock-ref");
    if let PinRead::Pin { baseline_run_id, .. } = &mut read {
        *baseline_run_id = action.outputs.get("baseline-run-id").and_then(|o| o.value.as_ref()).and_then(|v| v.text().trim().parse().ok());
    }
    Ok(read)
}

/// Reads a workflow's `Checkout TheRock repository` step (`ref:` of a checkout of ROCm/TheRock).
pub fn parse_checkout_step(yaml: &str) -> Result<PinRead, String> {
    let wf: Workflow = serde_saphyr::from_str(yaml).map_err(|e| format!("not valid YAML: {e}"))?;
    let Some(step) = therock_checkouts(&wf).find(|s| s.name.as_deref().map(str::trim) == Some(CHECKOUT_STEP)) else {
        return Ok(PinRead::NoPin(format!("no step named '{CHECKOUT_STEP}' checking out ROCm/TheRock")));
    };
    Ok(match step.with.get("ref") {
        Some(r) => classify(&r.text(), &format!("step '{CHECKOUT_STEP}' ref")),
        None => PinRead::NoPin(format!("step '{CHECKOUT_STEP}' has no ref")),
    })
}

/// The workflow's `actions/checkout` steps of ROCm/TheRock, in job order.
fn therock_checkouts(wf: &Workflow) -> impl Iterator<Item = &Step> {
    wf.jobs.values().flat_map(|job| &job.steps).filter(|step| {
        step.uses.as_deref().unwrap_or("").starts_with("actions/checkout")
            && step.with.get("repository").map(Scalar::text).unwrap_or_default().trim().eq_ignore_ascii_case("ROCm/TheRock")
    })
}

/// Parses the file at `path` (one of `PIN_SOURCES`).
pub fn parse_source(path: &str, text: &str) -> Result<PinRead, String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file {
        "therock_ref.json" => parse_ref_json(text),
        "action.yml" => parse_ci_env(text),
        f if f.starts_with("_therock_") => parse_wrapper(text),
        _ => parse_checkout_step(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn ci_env_shape() {
        let y = format!(
            "name: ci-env\noutputs:\n  therock-ref:\n    description: TheRock commit\n    value: \"{SHA}\" # 2026-07-01 commit\n  baseline-run-id:\n    value: \"123456\"\nruns:\n  using: composite\n  steps: []\n"
        );
        assert_eq!(parse_ci_env(&y).unwrap(), PinRead::Pin { sha: CommitSha::parse(SHA).unwrap(), baseline_run_id: Some(123456) });
        let y = "outputs:\n  therock-ref:\n    value: ${{ inputs.ref }}\n";
        assert!(matches!(parse_ci_env(y).unwrap(), PinRead::NoPin(_)));
        let y = "outputs:\n  therock-ref:\n    value: abc1234\n";
        assert!(matches!(parse_ci_env(y).unwrap(), PinRead::Invalid(_)));
        assert!(matches!(parse_ci_env("outputs: {}\n").unwrap(), PinRead::NoPin(_)));
        assert!(parse_ci_env("outputs: [unclosed\n").is_err());
    }

    #[test]
    fn the_json_pin_file_and_its_wrappers() {
        let j = format!("{{\n  \"ref\": \"{SHA}\",\n  \"commit_date\": \"2026-10-01\",\n  \"updated_date\": \"2026-10-02\"\n}}\n");
        assert_eq!(parse_source(PIN_SOURCES[0], &j).unwrap(), PinRead::Pin { sha: CommitSha::parse(SHA).unwrap(), baseline_run_id: None });
        assert_eq!(pin_line(&j, SHA), Some(2), "the file and line are reported");
        assert!(matches!(parse_ref_json("{\"ref\": \"main\"}").unwrap(), PinRead::NoPin(_)));
        assert!(matches!(parse_ref_json("{\"ref\": 12}").unwrap(), PinRead::Invalid(_)));
        assert!(parse_ref_json("{").is_err());
        let w = format!("on: workflow_call\njobs:\n  linux:\n    uses: ROCm/TheRock/.github/workflows/multi_arch_ci_linux.yml@{SHA}\n    secrets: inherit\n");
        assert_eq!(parse_source(PIN_SOURCES[5], &w).unwrap(), PinRead::Pin { sha: CommitSha::parse(SHA).unwrap(), baseline_run_id: None });
        let w = "on: workflow_call\njobs:\n  linux:\n    uses: ROCm/TheRock/.github/workflows/x.yml@main\n";
        assert!(matches!(parse_wrapper(w).unwrap(), PinRead::NoPin(_)), "a branch is not a pin");
    }

    #[test]
    fn an_override_input_with_the_pin_as_default_pins_the_default() {
        for expr in [format!("${{{{ inputs.therock_ref_override || '{SHA}' }}}}"), format!("${{{{inputs.x||\"{SHA}\"}}}}")] {
            assert_eq!(classify(&expr, "ref"), PinRead::Pin { sha: CommitSha::parse(SHA).unwrap(), baseline_run_id: None }, "{expr}");
        }
        for expr in ["${{ inputs.ref }}", "${{ github.sha || 'x' }}", &format!("${{{{ needs.a.outputs.b || '{SHA}' }}}}")] {
            assert!(matches!(classify(expr, "ref"), PinRead::NoPin(_)), "{expr}");
        }
    }

    #[test]
    fn checkout_step_shape() {
        let y = format!(
            r#"name: TheRock CI
on:
  pull_request:
  push:
    branches: [develop]
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - name: Checkout TheRock repository
        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          repository: "ROCm/TheRock"
          path: "TheRock"
          ref: {SHA} # 2026-01-10 commit
"#
        );
        assert_eq!(parse_checkout_step(&y).unwrap(), PinRead::Pin { sha: CommitSha::parse(SHA).unwrap(), baseline_run_id: None });
        let branch = y.replace(SHA, "main");
        assert!(matches!(parse_checkout_step(&branch).unwrap(), PinRead::NoPin(_)));
        let expr = y.replace(SHA, "${{ needs.setup.outputs.ref }}");
        assert!(matches!(parse_checkout_step(&expr).unwrap(), PinRead::NoPin(_)));
    }
}
