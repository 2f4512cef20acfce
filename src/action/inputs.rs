//! The runner's side: `INPUT_*` and the event payload, turned into the same `Raw` the command
//! line builds. Only the action's own inputs (mode, if-not-found, verify) are checked here;
//! everything else is `Config::build`'s to judge.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::config::raw::{BaselineRaw, Common, CompareRaw, FetchOptsRaw, FetchRaw, FindRaw, LatestRaw, ReleaseRaw, RequireRaw, SelectRaw, WalkRaw};
use crate::config::raw::{ReuseRaw, StageRaw};
use crate::config::{Raw, RawCommand};
use crate::domain::sha::is_sha_like;

/// Inputs as the runner passes them: `INPUT_<NAME>`, upper-cased with hyphens kept; unset ones
/// arrive as empty strings, so everything is text first.
#[derive(Debug, Default, Clone, Deserialize)]
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
    /// Upstream's spellings, accepted as aliases: TheRock's workflows call the groups
    /// `amdgpu_families`; the command line's flag is `--amdgpu-target`.
    #[serde(rename = "amdgpu_families")]
    pub amdgpu_families: Option<String>,
    #[serde(rename = "amdgpu-target")]
    pub amdgpu_target: Option<String>,
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
    /// A branch: mode `latest` looks at it; the other modes start from its head.
    pub branch: Option<String>,
    /// A branch, tag or commit, resolved in that order (as dawidd6/action-download-artifact).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// A pull request number: its head commit and base branch.
    pub pr: Option<String>,
    #[serde(rename = "dry-run")]
    pub dry_run: Option<String>,
    /// Mode `compare`: the two sides, named as `compare --from/--to` names them.
    pub from: Option<String>,
    #[serde(rename = "from-run-id")]
    pub from_run_id: Option<String>,
    pub to: Option<String>,
    #[serde(rename = "to-run-id")]
    pub to_run_id: Option<String>,
    /// A ROCm release tarball (`latest` or a version) instead of a CI run (modes find, fetch).
    pub release: Option<String>,
    /// Named component sets for a CI-artifact fetch (`base,blas,fft`).
    pub components: Option<String>,
    /// A BUILD_TOPOLOGY.toml stage whose inbound artifacts to find or fetch, or `all`.
    pub stage: Option<String>,
    /// Mode fetch: `--clean` / `--merge`.
    pub clean: Option<String>,
    pub merge: Option<String>,
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
    /// `Linux`, `Windows` or `macOS`.
    pub os: Option<String>,
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
            os: var("RUNNER_OS"),
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

fn boolean(input: &str, value: &Option<String>, default: &str) -> Result<bool, String> {
    choice(input, given(value), default, &[("true", true), ("false", false)])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Find,
    Latest,
    Baseline,
    Fetch,
    Compare,
    Reuse,
}

/// Where the commit asked about comes from, when the inputs name none: the caller's own
/// commit (the pull request's head, never the merge commit GITHUB_SHA names on a PR, else
/// GITHUB_SHA), or for another repository, where that commit means nothing, its default
/// branch's head (baseline, fetch); `find` there needs a commit named.
struct Start {
    commit: Option<String>,
    git_ref: Option<String>,
    default_branch_head: bool,
}

fn start(inputs: &Inputs, ev: &PrEvent, env: &RunnerEnv, mode: Mode) -> Result<Start, String> {
    let (commit, git_ref, branch) = (given(&inputs.commit), given(&inputs.git_ref), given(&inputs.branch));
    let named: Vec<&str> = [
        ("commit", commit.is_some()),
        ("ref", git_ref.is_some()),
        ("branch", branch.is_some()),
        ("run-id", given(&inputs.run_id).is_some()),
        ("pr", given(&inputs.pr).is_some()),
    ]
    .iter()
    .filter(|(_, g)| *g)
    .map(|(n, _)| *n)
    .collect();
    if named.len() > 1 {
        return Err(format!("inputs {} each name the commit asked about: give only one of them", quoted(&named)));
    }
    if let Some(c) = &commit {
        if !is_sha_like(c) {
            return Err(format!(
                "input 'commit' is '{c}', which is not a commit SHA (7 to 40 hexadecimal digits): for a branch, tag or other ref give it as input 'ref' (ref: {c}), or use mode: latest with branch: {c}"
            ));
        }
    }
    let git_ref = git_ref.or_else(|| branch.map(|b| format!("heads/{b}")));
    if !named.is_empty() {
        return Ok(Start { commit, git_ref, default_branch_head: false });
    }
    let own = given(&inputs.repository).zip(env.repository.clone()).is_none_or(|(r, own)| r.eq_ignore_ascii_case(&own));
    if own {
        return Ok(Start { commit: ev.head_sha.clone().or_else(|| env.sha.clone()), git_ref: None, default_branch_head: false });
    }
    let (repo, own) = (given(&inputs.repository).unwrap_or_default(), env.repository.clone().unwrap_or_default());
    match mode {
        Mode::Baseline | Mode::Fetch | Mode::Reuse => Ok(Start { commit: None, git_ref: None, default_branch_head: true }),
        Mode::Find => Err(format!(
            "input 'repository' names {repo}, not this workflow's repository {own}, so GITHUB_SHA (a commit of {own}) means nothing there: give input 'commit', 'ref' or 'run-id', or use mode: latest (or baseline, which starts from {repo}'s default branch)"
        )),
        Mode::Latest | Mode::Compare => Ok(Start { commit: None, git_ref: None, default_branch_head: false }),
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// A `platform` input naming more than one (mode reuse): `both`, or a list.
fn several(p: &str) -> bool {
    p.trim().eq_ignore_ascii_case("both") || p.trim().contains([',', ' ', '\n'])
}

/// `linux` or `windows`: the input, else the runner's OS (`Windows` runners fetch Windows
/// builds; every other runner, Linux ones).
fn platform(inputs: &Inputs, env: &RunnerEnv) -> String {
    given(&inputs.platform)
        .unwrap_or_else(|| if env.os.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("windows")) { "windows".into() } else { "linux".into() })
}

fn output_dir(inputs: &Inputs, env: &RunnerEnv) -> PathBuf {
    let out_rel = given(&inputs.output_dir).unwrap_or_else(|| "therock-artifacts".into());
    match &env.workspace {
        Some(w) if !Path::new(&out_rel).is_absolute() => w.join(&out_rel),
        _ => PathBuf::from(&out_rel),
    }
}

/// The two sides of `compare`: `from`/`to` (and their run ids), with the older `commit` and
/// `compare-to` accepted for `from` and `to`.
fn compare(inputs: &Inputs) -> Result<CompareRaw, String> {
    let side = |new: &Option<String>, new_name: &str, old: &Option<String>, old_name: &str| match (given(new), given(old)) {
        (Some(a), Some(b)) if a != b => Err(format!("inputs '{new_name}' and '{old_name}' name the same side of the comparison: give only '{new_name}'")),
        (a, b) => Ok(a.or(b)),
    };
    let from = side(&inputs.from, "from", &inputs.commit, "commit")?;
    let from_run_id = side(&inputs.from_run_id, "from-run-id", &inputs.run_id, "run-id")?;
    let to = side(&inputs.to, "to", &inputs.compare_to, "compare-to")?;
    let to_run_id = given(&inputs.to_run_id);
    if from.is_none() && from_run_id.is_none() {
        return Err("mode compare needs input 'from' (a commit) or 'from-run-id'".into());
    }
    if to.is_none() && to_run_id.is_none() {
        return Err("mode compare needs input 'to' (a commit) or 'to-run-id'".into());
    }
    Ok(CompareRaw { from, from_run_id, to, to_run_id, ..CompareRaw::default() })
}

/// An input and its alias as one value: either alone, or both when they say the same (the
/// runner passes every declared input, unset ones as empty strings).
fn one_of(input: &str, value: &Option<String>, alias: &str, aliased: &Option<String>) -> Result<Option<String>, String> {
    match (given(value), given(aliased)) {
        (Some(a), Some(b)) if a.trim() != b.trim() => Err(format!("inputs '{input}' ({a}) and '{alias}' ({b}) name one setting: give one of them")),
        (a, b) => Ok(a.or(b)),
    }
}

/// Builds the `Raw` both front ends share, from inputs, the event and the runner's variables.
pub fn to_raw(inputs: &Inputs, ev: &PrEvent, env: &RunnerEnv) -> Result<(Raw, Choices), String> {
    let folded = Inputs {
        artifact_group: one_of("artifact-group", &inputs.artifact_group, "amdgpu_families", &inputs.amdgpu_families)?,
        amdgpu_targets: one_of("amdgpu-targets", &inputs.amdgpu_targets, "amdgpu-target", &inputs.amdgpu_target)?,
        ..inputs.clone()
    };
    let inputs = &folded;
    let mode = choice(
        "mode",
        given(&inputs.mode),
        "fetch",
        &[
            ("find", Mode::Find),
            ("latest", Mode::Latest),
            ("baseline", Mode::Baseline),
            ("fetch", Mode::Fetch),
            ("compare", Mode::Compare),
            ("reuse", Mode::Reuse),
        ],
    )?;
    let if_not_found =
        choice("if-not-found", given(&inputs.if_not_found), "fail", &[("fail", IfNotFound::Fail), ("warn", IfNotFound::Warn), ("ignore", IfNotFound::Ignore)])?;
    // The action's contract (interface.md) requires a group in every mode, unlike `fetch` on the
    // command line, which takes every archive without one.
    if given(&inputs.artifact_group).is_none() {
        return Err("input 'artifact-group' is required: name at least one GPU family, e.g. gfx94X-dcgpu".into());
    }
    let verify = boolean("verify", &inputs.verify, "true")?;
    let dry_run = boolean("dry-run", &inputs.dry_run, "false")?;
    let successful = boolean("require-successful-run", &inputs.require_successful_run, "false")?;
    let require = RequireRaw { require_artifact: lines(&inputs.require_artifact), require_single_run: false, require_successful_run: successful };
    // A release tarball is no commit's: the event's commit does not stand in for one.
    let releasing = given(&inputs.release).is_some();
    if releasing && !matches!(mode, Mode::Find | Mode::Fetch) {
        return Err("input 'release' applies to modes find and fetch".into());
    }
    let st = if mode == Mode::Compare || mode == Mode::Latest || releasing { None } else { Some(start(inputs, ev, env, mode)?) };
    let command = match mode {
        Mode::Compare => RawCommand::Compare(compare(inputs)?),
        Mode::Latest => latest(inputs, require)?,
        _ => lookup(
            inputs,
            ev,
            env,
            (mode, st.as_ref().and_then(|s| s.commit.clone()).or_else(|| given(&inputs.commit).filter(|_| releasing))),
            require,
            (verify, dry_run),
        )?,
    };
    let common = Common {
        repo: given(&inputs.repository).or_else(|| env.repository.clone()),
        artifact_group: given(&inputs.artifact_group).into_iter().collect(),
        amdgpu_target: given(&inputs.amdgpu_targets).into_iter().collect(),
        // Mode reuse takes several (`linux,windows`, `both`): they go to ReuseRaw::platforms.
        platform: Some(platform(inputs, env)).filter(|p| mode != Mode::Reuse || !several(p)),
        workflow: given(&inputs.workflow),
        json: true,
        git_ref: st.as_ref().and_then(|s| s.git_ref.clone()),
        default_branch_head: st.is_some_and(|s| s.default_branch_head),
    };
    Ok((Raw { common, command, token: given(&inputs.github_token) }, Choices { if_not_found }))
}

/// Mode `latest`: the newest commit of `branch` (or `ref`) with artifacts.
fn latest(inputs: &Inputs, require: RequireRaw) -> Result<RawCommand, String> {
    if let Some(n) = ["commit", "run-id", "pr"].iter().zip([&inputs.commit, &inputs.run_id, &inputs.pr]).find(|(_, v)| given(v).is_some()).map(|(n, _)| n) {
        return Err(format!(
            "input '{n}' names one commit; mode latest finds the newest one on a branch: give input 'branch' (or 'ref') instead, or use mode find"
        ));
    }
    if given(&inputs.branch).is_some() && given(&inputs.git_ref).is_some() {
        return Err("inputs 'branch' and 'ref' both name the branch of mode latest: give only 'branch'".into());
    }
    // `ref` is a branch or a commit, resolved once (as `latest --ref`).
    Ok(RawCommand::Latest(LatestRaw {
        branch: given(&inputs.branch),
        git_ref: given(&inputs.git_ref),
        run_id: None,
        max_commits: given(&inputs.max_commits),
        require,
    }))
}

/// Modes `find`, `baseline` and `fetch`, about `commit` (or the ref in `Common`).
fn lookup(
    inputs: &Inputs,
    ev: &PrEvent,
    env: &RunnerEnv,
    (mode, commit): (Mode, Option<String>),
    require: RequireRaw,
    (verify, dry_run): (bool, bool),
) -> Result<RawCommand, String> {
    if mode == Mode::Find && given(&inputs.pr).is_some() {
        return Err("input 'pr' works in modes baseline and fetch (find looks up one commit: give input 'commit' or 'ref')".into());
    }
    let walk = WalkRaw {
        // A branch named is also the branch walked; else the pull request's base.
        base_branch: given(&inputs.base_branch).or_else(|| given(&inputs.branch)).or_else(|| ev.base_ref.clone()),
        max_commits: given(&inputs.max_commits),
        therock_repo: given(&inputs.therock_repository),
        therock_workflow: None,
        pr: given(&inputs.pr),
        max_age_hours: given(&inputs.max_age_hours),
    };
    let run_id = given(&inputs.run_id);
    let release = ReleaseRaw { release: given(&inputs.release), tests: false };
    let stage = StageRaw { stage: given(&inputs.stage), ..StageRaw::default() };
    Ok(match mode {
        Mode::Find => RawCommand::Find(FindRaw { commit, run_id, require, release, stage }),
        Mode::Reuse => RawCommand::Reuse(ReuseRaw {
            commit,
            walk,
            require,
            changed: Vec::new(),
            platforms: given(&inputs.platform).filter(|p| several(p)).into_iter().collect(),
        }),
        Mode::Baseline => RawCommand::Baseline(BaselineRaw { commit, run_id, walk, require }),
        _ => RawCommand::Fetch(FetchRaw {
            commit,
            // By run id the run is used as it is; by commit the baseline walk finds one.
            baseline: run_id.is_none() && release.release.is_none(),
            reuse: false,
            run_id,
            walk,
            require,
            output_dir: Some(output_dir(inputs, env).display().to_string()),
            fetch: FetchOptsRaw {
                select: SelectRaw { include: lines(&inputs.include), exclude: lines(&inputs.exclude), extract: given(&inputs.extract), ..SelectRaw::default() },
                no_verify: !verify,
                dry_run,
                components: given(&inputs.components).into_iter().collect(),
                stage,
                clean: boolean("clean", &inputs.clean, "false")?,
                merge: boolean("merge", &inputs.merge, "false")?,
                ..FetchOptsRaw::default()
            },
            release,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        let mut m: serde_json::Map<String, serde_json::Value> =
            [("artifact-group", "gfx94X-dcgpu"), ("repository", "ROCm/TheRock")].iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
        for (k, v) in pairs {
            m.insert(k.to_string(), (*v).into());
        }
        serde_json::from_value(serde_json::Value::Object(m)).unwrap()
    }

    fn env(os: &str) -> RunnerEnv {
        RunnerEnv { repository: Some("ROCm/TheRock".into()), sha: Some("a".repeat(40)), os: Some(os.into()), ..RunnerEnv::default() }
    }

    #[test]
    fn platform_defaults_to_the_runners_os() {
        let (raw, _) = to_raw(&inputs(&[]), &PrEvent::default(), &env("Windows")).unwrap();
        assert_eq!(raw.common.platform.as_deref(), Some("windows"));
        let (raw, _) = to_raw(&inputs(&[]), &PrEvent::default(), &env("macOS")).unwrap();
        assert_eq!(raw.common.platform.as_deref(), Some("linux"));
        let (raw, _) = to_raw(&inputs(&[("platform", "linux")]), &PrEvent::default(), &env("Windows")).unwrap();
        assert_eq!(raw.common.platform.as_deref(), Some("linux"));
    }

    #[test]
    fn mode_reuse_takes_several_platforms_and_other_modes_one() {
        for several in ["linux,windows", "both"] {
            let (raw, _) = to_raw(&inputs(&[("mode", "reuse"), ("platform", several)]), &PrEvent::default(), &env("Linux")).unwrap();
            assert_eq!(raw.common.platform, None, "{several}");
            let RawCommand::Reuse(r) = raw.command else { panic!("{several}") };
            assert_eq!(r.platforms, [several]);
        }
        let (raw, _) = to_raw(&inputs(&[("mode", "reuse"), ("platform", "windows")]), &PrEvent::default(), &env("Linux")).unwrap();
        assert_eq!(raw.common.platform.as_deref(), Some("windows"));
        let (raw, _) = to_raw(&inputs(&[("mode", "find"), ("platform", "both")]), &PrEvent::default(), &env("Linux")).unwrap();
        assert_eq!(raw.common.platform.as_deref(), Some("both"), "refused later as an unknown platform");
    }

    #[test]
    fn another_repository_starts_from_its_default_branch_not_the_callers_sha() {
        let e = RunnerEnv { repository: Some("me/app".into()), ..env("Linux") };
        let (raw, _) = to_raw(&inputs(&[]), &PrEvent::default(), &e).unwrap();
        assert!(raw.common.default_branch_head);
        assert!(matches!(&raw.command, RawCommand::Fetch(f) if f.commit.is_none()));
        assert!(to_raw(&inputs(&[("mode", "find")]), &PrEvent::default(), &e).is_err_and(|m| m.contains("'commit', 'ref' or 'run-id'")));
        let (raw, _) = to_raw(&inputs(&[]), &PrEvent::default(), &env("Linux")).unwrap();
        assert!(matches!(&raw.command, RawCommand::Fetch(f) if f.commit.as_deref() == Some(&*"a".repeat(40))), "its own repository: GITHUB_SHA");
    }

    #[test]
    fn one_input_names_the_commit_and_a_branch_is_a_ref() {
        let both = to_raw(&inputs(&[("commit", "abcdef1"), ("ref", "v1")]), &PrEvent::default(), &env("Linux"));
        assert!(both.is_err_and(|m| m.contains("'commit', 'ref'")));
        let (raw, _) = to_raw(&inputs(&[("branch", "release/7.1")]), &PrEvent::default(), &env("Linux")).unwrap();
        assert_eq!(raw.common.git_ref.as_deref(), Some("heads/release/7.1"));
        assert!(matches!(&raw.command, RawCommand::Fetch(f) if f.commit.is_none() && f.walk.base_branch.as_deref() == Some("release/7.1")));
        let (raw, _) = to_raw(&inputs(&[("mode", "latest"), ("ref", "release/7.1")]), &PrEvent::default(), &env("Linux")).unwrap();
        assert!(
            matches!(&raw.command, RawCommand::Latest(l) if l.git_ref.as_deref() == Some("release/7.1") && l.branch.is_none()),
            "ref is resolved once, as latest --ref"
        );
    }

    #[test]
    fn compare_takes_from_and_to_and_the_older_names() {
        let (raw, _) = to_raw(&inputs(&[("mode", "compare"), ("commit", "abcdef1"), ("compare-to", "abcdef2")]), &PrEvent::default(), &env("Linux")).unwrap();
        assert!(matches!(&raw.command, RawCommand::Compare(c) if c.from.as_deref() == Some("abcdef1") && c.to.as_deref() == Some("abcdef2")));
        let clash = to_raw(&inputs(&[("mode", "compare"), ("from", "abcdef1"), ("commit", "abcdef3"), ("to", "abcdef2")]), &PrEvent::default(), &env("Linux"));
        assert!(clash.is_err_and(|m| m.contains("'from' and 'commit'")));
    }
}
