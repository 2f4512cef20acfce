//! The runner's side: `INPUT_*` and the event payload, turned into the same `Raw` the command
//! line builds. Only the action's own inputs (mode, if-not-found, verify) are checked here;
//! everything else is `Config::build`'s to judge.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::config::raw::{BaselineRaw, Common, CompareRaw, FetchOptsRaw, FetchRaw, FindRaw, RequireRaw, SelectRaw, WalkRaw};
use crate::config::{Raw, RawCommand};

/// Inputs as the runner passes them: `INPUT_<NAME>`, upper-cased with hyphens kept; unset ones
/// arrive as empty strings, so everything is text first.
#[derive(Debug, Default, Deserialize)]
pub struct Inputs {
    pub mode: Option<String>,
    pub repository: Option<String>,
    pub commit: Option<String>,
    #[serde(rename = "run-id")]
    pub run_id: Option<String>,
    #[serde(rename = "artifact-group")]
    pub artifact_group: Option<String>,
    #[serde(rename = "amdgpu-targets")]
    pub amdgpu_targets: Option<String>,
    pub platform: Option<String>,
    pub workflow: Option<String>,
    #[serde(rename = "base-branch")]
    pub base_branch: Option<String>,
    #[serde(rename = "max-commits")]
    pub max_commits: Option<String>,
    pub include: Option<String>,
    pub exclude: Option<String>,
    #[serde(rename = "output-dir")]
    pub output_dir: Option<String>,
    pub extract: Option<String>,
    pub verify: Option<String>,
    #[serde(rename = "if-not-found")]
    pub if_not_found: Option<String>,
    #[serde(rename = "github-token")]
    pub github_token: Option<String>,
    #[serde(rename = "compare-to")]
    pub compare_to: Option<String>,
    #[serde(rename = "therock-repository")]
    pub therock_repository: Option<String>,
    #[serde(rename = "max-age-hours")]
    pub max_age_hours: Option<String>,
    #[serde(rename = "require-successful-run")]
    pub require_successful_run: Option<String>,
    #[serde(rename = "require-artifact")]
    pub require_artifact: Option<String>,
}

pub use crate::config::given;

fn lines(v: &Option<String>) -> Vec<String> {
    given(v).map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfNotFound {
    Fail,
    Warn,
    Ignore,
}

/// What the event payload says about a pull request.
#[derive(Debug, Default, Clone)]
pub struct PrEvent {
    pub head_sha: Option<String>,
    pub base_ref: Option<String>,
    pub head_repo: Option<String>,
}

pub fn read_event(name: &str, path: Option<&Path>) -> Result<PrEvent> {
    if !matches!(name, "pull_request" | "pull_request_target") {
        return Ok(PrEvent::default());
    }
    let path = path.ok_or_else(|| anyhow!("GITHUB_EVENT_PATH is not set for a {name} event"))?;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the event payload {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("the event payload {} is not valid JSON", path.display()))?;
    let pr = &v["pull_request"];
    if pr.is_null() {
        bail!("the {name} event payload {} has no pull_request object", path.display());
    }
    Ok(PrEvent {
        head_sha: pr["head"]["sha"].as_str().map(String::from),
        base_ref: pr["base"]["ref"].as_str().map(String::from),
        head_repo: pr["head"]["repo"]["full_name"].as_str().map(String::from),
    })
}

/// The runner's variables the action reads.
#[derive(Debug, Default, Clone)]
pub struct RunnerEnv {
    pub workspace: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    pub repository: Option<String>,
    pub sha: Option<String>,
}

impl RunnerEnv {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        RunnerEnv {
            workspace: var("GITHUB_WORKSPACE").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            repository: var("GITHUB_REPOSITORY"),
            sha: var("GITHUB_SHA"),
        }
    }
}

/// The action's own choices, checked here (they are not command-line settings).
pub struct Choices {
    pub if_not_found: IfNotFound,
}

fn choice<T: Copy>(input: &str, value: Option<String>, default: &str, options: &[(&str, T)]) -> Result<T, String> {
    let v = value.unwrap_or_else(|| default.to_string());
    options.iter().find(|(name, _)| *name == v).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        format!("input '{input}' is '{v}': expected {} or {last}", rest.join(", "))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Find,
    Baseline,
    Fetch,
    Compare,
}

/// Builds the `Raw` both front ends share, from inputs, the event and the runner's variables.
pub fn to_raw(inputs: &Inputs, ev: &PrEvent, env: &RunnerEnv) -> Result<(Raw, Choices), String> {
    let mode = choice(
        "mode",
        given(&inputs.mode),
        "fetch",
        &[("find", Mode::Find), ("baseline", Mode::Baseline), ("fetch", Mode::Fetch), ("compare", Mode::Compare)],
    )?;
    let if_not_found =
        choice("if-not-found", given(&inputs.if_not_found), "fail", &[("fail", IfNotFound::Fail), ("warn", IfNotFound::Warn), ("ignore", IfNotFound::Ignore)])?;
    // The action's contract (interface.md) requires a group in every mode, unlike `fetch` on the
    // command line, which takes every archive without one.
    if given(&inputs.artifact_group).is_none() {
        return Err("input 'artifact-group' is required: name at least one GPU family, e.g. gfx94X-dcgpu".into());
    }
    let verify = choice("verify", given(&inputs.verify), "true", &[("true", true), ("false", false)])?;
    let successful = choice("require-successful-run", given(&inputs.require_successful_run), "false", &[("true", true), ("false", false)])?;
    let require = RequireRaw { require_artifact: lines(&inputs.require_artifact), require_single_run: false, require_successful_run: successful };
    // The commit asked about: the input, else the pull request's head (never the merge commit
    // GITHUB_SHA names on a PR), else GITHUB_SHA.
    let commit = given(&inputs.commit).or_else(|| ev.head_sha.clone()).or_else(|| env.sha.clone());
    let out_rel = given(&inputs.output_dir).unwrap_or_else(|| "therock-artifacts".into());
    let output_dir = match &env.workspace {
        Some(w) if !Path::new(&out_rel).is_absolute() => w.join(&out_rel),
        _ => PathBuf::from(&out_rel),
    };
    let walk = WalkRaw {
        base_branch: given(&inputs.base_branch).or_else(|| ev.base_ref.clone()),
        max_commits: given(&inputs.max_commits),
        therock_repo: given(&inputs.therock_repository),
        pr: None,
        max_age_hours: given(&inputs.max_age_hours),
    };
    let command = match mode {
        Mode::Find => RawCommand::Find(FindRaw { commit, run_id: given(&inputs.run_id), require }),
        Mode::Baseline => RawCommand::Baseline(BaselineRaw { commit, run_id: given(&inputs.run_id), walk, require }),
        Mode::Fetch => RawCommand::Fetch(FetchRaw {
            commit,
            run_id: given(&inputs.run_id),
            // By run id the run is used as it is; by commit the baseline walk finds one.
            baseline: given(&inputs.run_id).is_none(),
            walk,
            require,
            output_dir: Some(output_dir.display().to_string()),
            fetch: FetchOptsRaw {
                select: SelectRaw { include: lines(&inputs.include), exclude: lines(&inputs.exclude), extract: given(&inputs.extract), ..SelectRaw::default() },
                no_verify: !verify,
                ..FetchOptsRaw::default()
            },
        }),
        Mode::Compare => {
            if given(&inputs.compare_to).is_none() {
                return Err("input 'compare-to' is required in compare mode".into());
            }
            RawCommand::Compare(CompareRaw {
                from: given(&inputs.commit),
                from_run_id: given(&inputs.run_id),
                to: given(&inputs.compare_to),
                ..CompareRaw::default()
            })
        }
    };
    let common = Common {
        repo: given(&inputs.repository).or_else(|| env.repository.clone()),
        artifact_group: given(&inputs.artifact_group).into_iter().collect(),
        amdgpu_target: given(&inputs.amdgpu_targets).into_iter().collect(),
        platform: Some(given(&inputs.platform).unwrap_or_else(|| "linux".into())),
        workflow: given(&inputs.workflow),
        json: true,
    };
    Ok((Raw { common, command, token: given(&inputs.github_token) }, Choices { if_not_found }))
}
