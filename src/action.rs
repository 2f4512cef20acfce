//! Action mode: translates the runner's environment (INPUT_*, GITHUB_*) into the same `Raw`
//! the CLI builds, runs the same code, and reports through the runner's file commands.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{CommandKind, Config, Raw};
use crate::fetch::Done;
use crate::report::human_bytes;
use crate::resolve::{Baseline, Found};

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
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn lines(v: &Option<String>) -> Vec<String> {
    given(v).map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()).unwrap_or_default()
}

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfNotFound {
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

struct Env {
    workspace: Option<PathBuf>,
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
}

/// Builds the validated configuration from inputs and the runner's variables.
fn build(inputs: &Inputs, ev: &PrEvent) -> Result<(Config, IfNotFound, Env), String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let mode = given(&inputs.mode).unwrap_or_else(|| "fetch".into());
    let command = match mode.as_str() {
        "find" => CommandKind::Find,
        "baseline" => CommandKind::Baseline,
        "fetch" => CommandKind::Fetch,
        "compare" => CommandKind::Compare,
        o => return Err(format!("input 'mode' is '{o}': expected find, baseline, fetch or compare")),
    };
    let if_not_found = match given(&inputs.if_not_found).as_deref().unwrap_or("fail") {
        "fail" => IfNotFound::Fail,
        "warn" => IfNotFound::Warn,
        "ignore" => IfNotFound::Ignore,
        o => return Err(format!("input 'if-not-found' is '{o}': expected fail, warn or ignore")),
    };
    let verify = match given(&inputs.verify).as_deref().unwrap_or("true") {
        "true" => true,
        "false" => false,
        o => return Err(format!("input 'verify' is '{o}': expected true or false")),
    };
    if given(&inputs.artifact_group).is_none() {
        return Err("input 'artifact-group' is required: name at least one GPU family, e.g. gfx94X-dcgpu".into());
    }
    if let Some(e) = given(&inputs.extract) {
        crate::config::ExtractMode::parse(&e).map_err(|m| format!("input 'extract': {m}"))?;
    }
    let commit = given(&inputs.commit).or_else(|| ev.head_sha.clone()).or_else(|| var("GITHUB_SHA"));
    if let Some(c) = given(&inputs.commit) {
        if !(7..=40).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
            return Err(format!("input 'commit' is '{c}', which is not a commit SHA (7 to 40 hex digits)"));
        }
    }
    let workspace = var("GITHUB_WORKSPACE").map(PathBuf::from);
    let out_rel = given(&inputs.output_dir).unwrap_or_else(|| "therock-artifacts".into());
    let output_dir = match &workspace {
        Some(w) if !Path::new(&out_rel).is_absolute() => w.join(&out_rel),
        _ => PathBuf::from(&out_rel),
    };
    let raw = Raw {
        command,
        repo: given(&inputs.repository).or_else(|| var("GITHUB_REPOSITORY")),
        commit: if command == CommandKind::Compare { given(&inputs.commit) } else { commit },
        run_id: given(&inputs.run_id),
        groups: vec![given(&inputs.artifact_group).unwrap_or_default()],
        targets: given(&inputs.amdgpu_targets).into_iter().collect(),
        platform: Some(given(&inputs.platform).unwrap_or_else(|| "linux".into())),
        workflow: given(&inputs.workflow),
        json: true,
        base_branch: given(&inputs.base_branch).or_else(|| ev.base_ref.clone()),
        max_commits: given(&inputs.max_commits),
        therock_repo: given(&inputs.therock_repository),
        baseline: command == CommandKind::Fetch && given(&inputs.run_id).is_none(),
        output_dir: Some(output_dir.display().to_string()),
        include: lines(&inputs.include),
        exclude: lines(&inputs.exclude),
        extract: given(&inputs.extract),
        no_verify: !verify,
        to: given(&inputs.compare_to),
        token: given(&inputs.github_token),
        ..Raw::default()
    };
    if command == CommandKind::Compare && raw.to.is_none() {
        return Err("input 'compare-to' is required in compare mode".into());
    }
    let mut cfg = Config::build(raw, None).map_err(|e| format!("invalid input: {e}"))?;
    // In the action, `find` by commit does what the CLI does; `baseline`/`fetch` walk back.
    if command == CommandKind::Fetch && given(&inputs.run_id).is_some() {
        cfg.baseline = false;
    }
    Ok((cfg, if_not_found, Env { workspace, output: var("GITHUB_OUTPUT").map(PathBuf::from), summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from) }))
}

/// `name<<DELIM` blocks with a random delimiter that never occurs in the value.
pub fn output_block(name: &str, value: &str) -> String {
    let mut delim;
    loop {
        delim = format!("ghadelimiter_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        if !value.contains(&delim) {
            break;
        }
    }
    format!("{name}<<{delim}\n{value}\n{delim}\n")
}

fn append(path: &Path, text: &str, what: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).with_context(|| format!("cannot write {what} file {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {what} file {}", path.display()))
}

fn outputs(o: &crate::Outcome) -> Vec<(&'static str, String)> {
    let doc = serde_json::Value::Object(o.doc.clone());
    let first = doc["results"].get(0).cloned().unwrap_or(serde_json::Value::Null);
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let commit = doc["baseline_commit"].as_str().map(String::from).unwrap_or_else(|| s(&first["git_commit_sha"]));
    let mut artifacts: Vec<String> = Vec::new();
    if let Some(arr) = doc["archives"].as_array() {
        artifacts = arr.iter().filter_map(|a| a["filename"].as_str().map(String::from)).collect();
    } else if let Some(rs) = doc["results"].as_array() {
        for r in rs {
            for f in r["artifact_filenames"].as_array().into_iter().flatten() {
                if let Some(f) = f.as_str() {
                    if !artifacts.iter().any(|a| a == f) {
                        artifacts.push(f.to_string());
                    }
                }
            }
        }
    }
    let mut v = vec![
        ("found", o.found.to_string()),
        ("commit", if o.found { commit } else { String::new() }),
        ("run-id", s(&first["workflow_run_id"])),
        ("run-url", s(&first["workflow_run_html_url"])),
        ("bucket", s(&first["s3_bucket"])),
        ("s3-prefix", s(&first["s3_path"])),
        ("s3-uri", s(&first["s3_uri"])),
        ("s3-index-url", s(&first["s3_index_url"])),
        ("artifacts", serde_json::to_string(&artifacts).unwrap_or_else(|_| "[]".into())),
        ("results", doc.to_string()),
    ];
    if let Some(d) = doc["output_dir"].as_str() {
        v.push(("output-dir", d.to_string()));
    }
    if let Some(c) = doc.get("comparison") {
        v.push(("comparison", c.to_string()));
    }
    v
}

/// Gives the extracted tree the owner of the workspace (container actions run as root; later
/// steps run as the runner user).
#[cfg(unix)]
fn chown_like_workspace(dir: &Path, workspace: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(workspace).with_context(|| format!("cannot read GITHUB_WORKSPACE {}", workspace.display()))?;
    let (uid, gid) = (m.uid(), m.gid());
    fn walk(p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid))?;
        let md = std::fs::symlink_metadata(p)?;
        if md.is_dir() {
            for e in std::fs::read_dir(p)? {
                walk(&e?.path(), uid, gid)?;
            }
        }
        Ok(())
    }
    let own = std::fs::symlink_metadata(dir)?;
    if own.uid() == uid && own.gid() == gid {
        return Ok(());
    }
    walk(dir, uid, gid).with_context(|| format!("cannot give {} the owner of the workspace", dir.display()))
}

#[cfg(not(unix))]
fn chown_like_workspace(_dir: &Path, _workspace: &Path) -> Result<()> {
    Ok(())
}

fn fail(msg: &str) -> ExitCode {
    println!("::error::{}", escape_data(msg));
    ExitCode::from(2)
}

pub async fn main() -> ExitCode {
    let inputs: Inputs = match envy::prefixed("INPUT_").from_env() {
        Ok(i) => i,
        Err(e) => return fail(&format!("cannot read the action inputs: {e}")),
    };
    // Mask the token before anything else is printed.
    for t in [given(&inputs.github_token), std::env::var("GITHUB_TOKEN").ok(), std::env::var("GH_TOKEN").ok()].into_iter().flatten() {
        if !t.trim().is_empty() {
            println!("::add-mask::{}", t.trim());
        }
    }
    let event_name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    let ev = match read_event(&event_name, std::env::var_os("GITHUB_EVENT_PATH").map(PathBuf::from).as_deref()) {
        Ok(e) => e,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let (cfg, if_not_found, env) = match build(&inputs, &ev) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    if let Some(o) = &env.output {
        if let Err(e) = append(o, "", "GITHUB_OUTPUT") {
            return fail(&format!("{e:#}"));
        }
    }
    if std::env::var("RUNNER_DEBUG").as_deref() == Ok("1") {
        println!("::debug::repository {} subject {:?} groups {:?}", cfg.repo, cfg.subject, cfg.groups.iter().map(|g| &g.name).collect::<Vec<_>>());
    }
    if ev.head_repo.as_deref().is_some_and(|h| !h.eq_ignore_ascii_case(&cfg.repo.full())) {
        println!("Pull request from fork {}", ev.head_repo.as_deref().unwrap_or(""));
    }
    println!("::group::therock-artifacts {:?} for {}", cfg.command, cfg.repo);
    let result = crate::execute(cfg.clone()).await;
    println!("::endgroup::");
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if let Some(o) = &env.output {
                let _ = append(o, &output_block("found", "false"), "GITHUB_OUTPUT");
            }
            return fail(&format!("{e:#}"));
        }
    };
    print!("{}", outcome.human);
    if let (Some(dir), Some(ws)) = (outcome.doc.get("output_dir").and_then(|v| v.as_str()), &env.workspace) {
        let dir = Path::new(dir);
        if outcome.found && dir.exists() && !outcome.doc.contains_key("dry_run") {
            if let Err(e) = chown_like_workspace(dir, ws) {
                println!("::warning::{}", escape_data(&format!("{e:#}")));
            }
        }
    }
    if let Some(o) = &env.output {
        let text: String = outputs(&outcome).iter().map(|(k, v)| output_block(k, v)).collect();
        if let Err(e) = append(o, &text, "GITHUB_OUTPUT") {
            return fail(&format!("{e:#}"));
        }
    }
    if let Some(s) = &env.summary {
        let mut md = outcome.summary.clone();
        clamp_summary(&mut md, 900 * 1024);
        if let Err(e) = append(s, &md, "GITHUB_STEP_SUMMARY") {
            println!("::warning::{}", escape_data(&format!("{e:#}")));
        }
    }
    if outcome.found {
        return ExitCode::SUCCESS;
    }
    let msg = outcome.message.clone().unwrap_or_else(|| "no artifacts found".into());
    match if_not_found {
        IfNotFound::Fail => {
            println!("::error::{}", escape_data(&msg));
            ExitCode::from(1)
        }
        IfNotFound::Warn => {
            println!("::warning::{}", escape_data(&msg));
            ExitCode::SUCCESS
        }
        IfNotFound::Ignore => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
    }
}

fn summary_head(f: &Found, b: Option<&Baseline>) -> String {
    let mut md = String::from("## TheRock artifacts\n\n");
    if let Some(b) = b {
        md.push_str(&format!("- Commit asked about: `{}`\n", b.commit));
        if let Some(p) = &b.therock_ref {
            md.push_str(&format!("- Pinned TheRock commit: `{p}` ({})\n", b.pin_source.as_deref().unwrap_or("")));
        }
        if f.found() {
            md.push_str(&format!(
                "- Baseline: `{}` in {} (reason **{}**, distance {})\n",
                f.commit.as_deref().unwrap_or(""),
                f.repo.full(),
                b.reason.unwrap_or(""),
                b.distance.unwrap_or(0)
            ));
        }
    } else if let Some(c) = &f.commit {
        md.push_str(&format!("- Commit: `{c}` in {}\n", f.repo.full()));
    }
    for s in &f.slots {
        match &s.hit {
            Some(h) => md.push_str(&format!(
                "- `{}`: run [{}]({}) ({}), `{}`\n",
                s.group.name,
                h.run.id,
                h.run.html_url.clone().unwrap_or_default(),
                h.run.status_text(),
                h.location.s3_uri()
            )),
            None => md.push_str(&format!("- `{}`: **not found**\n", s.group.name)),
        }
    }
    if !f.found() {
        if let Some(n) = &f.note {
            md.push_str(&format!("\n{n}\n"));
        }
    }
    md
}

/// Keeps a step summary far under GitHub's 1 MiB limit, cutting at a line (or at least a
/// character) boundary.
fn clamp_summary(md: &mut String, limit: usize) {
    if md.len() <= limit {
        return;
    }
    let mut cut = limit;
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = md[..cut].rfind('\n') {
        cut = nl + 1;
    }
    md.truncate(cut);
    md.push_str("\n(truncated)\n");
}

pub fn summary_found(f: &Found, b: Option<&Baseline>) -> String {
    let mut md = summary_head(f, b);
    let mut rows = Vec::new();
    for s in &f.slots {
        if let Some(h) = &s.hit {
            for (a, size) in &h.archives {
                if !rows.iter().any(|(n, _): &(String, u64)| n == &a.filename) {
                    rows.push((a.filename.clone(), *size));
                }
            }
        }
    }
    if !rows.is_empty() {
        md.push_str("\n| archive | size |\n|---|---:|\n");
        for (n, s) in rows.iter().take(2000) {
            md.push_str(&format!("| `{n}` | {} |\n", human_bytes(*s)));
        }
    }
    md.push('\n');
    md
}

pub fn summary_fetch(f: &Found, b: Option<&Baseline>, done: &[Done], downloaded: u64, secs: f64) -> String {
    let mut md = summary_head(f, b);
    md.push_str(&format!(
        "\nFetched {} archives in {secs:.1} s ({} downloaded).\n\n| archive | size | verified | cached |\n|---|---:|:-:|:-:|\n",
        done.len(),
        human_bytes(downloaded)
    ));
    for d in done.iter().take(2000) {
        let (n, s, v, c) = d.row();
        md.push_str(&format!("| `{n}` | {} | {} | {} |\n", human_bytes(s), if v { "yes" } else { "no" }, if c { "yes" } else { "no" }));
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_clamped_at_a_boundary() {
        let mut md = "| é |\n".repeat(100_000);
        clamp_summary(&mut md, 1001);
        assert!(md.len() <= 1001 + 20 && md.ends_with("(truncated)\n"), "{}", md.len());
        assert!(md.trim_end_matches("\n(truncated)\n").ends_with("| é |\n"));
    }

    #[test]
    fn escaping_and_blocks() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        let b = output_block("results", "line1\nline2");
        let mut it = b.lines();
        let head = it.next().unwrap();
        let delim = head.strip_prefix("results<<").unwrap();
        assert_eq!(it.next().unwrap(), "line1");
        assert_eq!(it.next().unwrap(), "line2");
        assert_eq!(it.next().unwrap(), delim);
    }
}
