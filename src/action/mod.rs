//! Action mode: translates the runner's environment (INPUT_*, GITHUB_*) into the same `Raw`
//! the CLI builds, runs the same app, and reports the typed outcome through the runner's file
//! commands.

mod commands;
mod inputs;
mod words;

use std::path::PathBuf;

use crate::commands::fetch::FetchResult;
use crate::config::{Config, Facts, Front, Output};
use crate::exit::{self, ExitStatus};
use crate::outcome::Outcome;
use crate::report;
use commands::{append, chown_like_workspace, clamp_summary, escape_data, output_block};
use inputs::{read_event, IfNotFound, Inputs, RunnerEnv};

fn fail(msg: &str) -> ExitStatus {
    println!("::error::{}", escape_data(msg));
    ExitStatus::Error
}

/// The step's outputs, from the outcome's typed fields.
fn outputs(o: &Outcome, doc: &serde_json::Value) -> Vec<(&'static str, String)> {
    let results = o.results();
    let first = results.first();
    let of_first = |f: &dyn Fn(&crate::domain::select::Hit) -> String| first.map(|h| f(h)).unwrap_or_default();
    let mut v = vec![
        ("found", o.found().to_string()),
        ("commit", o.commit().unwrap_or_default()),
        ("run-id", of_first(&|h| h.run.id.to_string())),
        ("run-url", of_first(&|h| h.run.html_url.clone().unwrap_or_default())),
        ("bucket", of_first(&|h| h.location.bucket.clone())),
        ("s3-prefix", of_first(&|h| h.location.prefix())),
        ("s3-uri", of_first(&|h| h.location.s3_uri())),
        ("s3-index-url", of_first(&|h| h.location.index_url())),
        ("artifacts", serde_json::to_string(&o.artifact_names()).unwrap_or_else(|_| "[]".into())),
        ("results", doc.to_string()),
    ];
    if let Some(d) = o.output_dir() {
        v.push(("output-dir", d.display().to_string()));
    }
    if let Some(c) = doc.get("comparison") {
        v.push(("comparison", c.to_string()));
    }
    // What a baseline substituted: the commit asked about, why the baseline and how far back.
    if let Some(b) = o.baseline() {
        v.push(("head-commit", b.commit.clone()));
        v.push(("reason", b.reason.map(|r| r.as_str().to_string()).unwrap_or_default()));
        v.push(("distance", b.distance.map(|d| d.to_string()).unwrap_or_default()));
    } else if let Some(c) = o.resolved().and_then(|f| f.commit.clone()) {
        v.push(("head-commit", c));
    }
    if let Some(version) = doc.get("release").and_then(|r| r.get("version")).and_then(|v| v.as_str()) {
        v.push(("version", version.to_string()));
    }
    if let Outcome::Reused(r) = o {
        v.push(("rebuild-stages", r.rebuild_stages().join(",")));
        v.push(("prebuilt-stages", crate::domain::stage_reuse::prebuilt_stages(r.reuse_stages())));
    }
    if let Some(b) = o.baseline().filter(|b| b.found.found()) {
        v.push(("baseline-run-id", b.found.results().next().map(|h| h.run.id.to_string()).unwrap_or_default()));
    }
    v
}

/// A step that cannot run or failed: `found=false`, the message as `error-message` and in the
/// step summary, then `::error::`.
fn refuse(msg: &str, env: &RunnerEnv) -> ExitStatus {
    if let Some(o) = &env.output {
        let _ = append(o, &format!("{}{}", output_block("found", "false"), output_block("error-message", msg)), "GITHUB_OUTPUT");
    }
    if let Some(s) = &env.summary {
        let _ = append(s, &report::markdown::error_summary(msg), "GITHUB_STEP_SUMMARY");
    }
    fail(msg)
}

pub async fn main() -> ExitStatus {
    let inputs: Inputs = match envy::prefixed("INPUT_").from_env() {
        Ok(i) => i,
        Err(e) => return fail(&format!("cannot read the action inputs: {e}")),
    };
    crate::log::set_action_mode();
    // Mask the token before anything else is printed: each line of it, should it hold several.
    let tokens = [
        ("input 'github-token'", inputs::given(&inputs.github_token)),
        ("GITHUB_TOKEN", std::env::var("GITHUB_TOKEN").ok()),
        ("GH_TOKEN", std::env::var("GH_TOKEN").ok()),
    ];
    for (_, t) in &tokens {
        for line in t.iter().flat_map(|t| t.split(['\n', '\r'])).map(str::trim).filter(|l| !l.is_empty()) {
            println!("::add-mask::{line}");
        }
    }
    if let Some((source, _)) = tokens.iter().find(|(_, t)| t.as_deref().is_some_and(|t| t.trim().contains(['\n', '\r']))) {
        return fail(&format!("the GitHub token in {source} holds a line break; pass the token alone"));
    }
    let token_source = tokens.iter().find(|(_, t)| t.as_deref().is_some_and(|t| !t.trim().is_empty())).map(|(s, _)| *s);
    let env = RunnerEnv::from_env();
    let event_name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    let ev = match read_event(&event_name, std::env::var_os("GITHUB_EVENT_PATH").map(PathBuf::from).as_deref()) {
        Ok(e) => e,
        Err(e) => return refuse(&format!("{e:#}"), &env),
    };
    let (raw, choices) = match inputs::to_raw(&inputs, &ev, &env) {
        Ok(x) => x,
        Err(e) => return refuse(&e, &env),
    };
    let facts = Facts::gather(&raw, None);
    let cfg = match Config::build(raw, facts) {
        Ok(c) => c,
        Err(e) => return refuse(&words::in_action_terms(&e.worded(Front::Action)), &env),
    };
    if let Some(o) = &env.output {
        if let Err(e) = append(o, "", "GITHUB_OUTPUT") {
            return fail(&format!("{e:#}"));
        }
    }
    if std::env::var("RUNNER_DEBUG").as_deref() == Ok("1") {
        let groups: Vec<&str> = cfg.query.groups.iter().map(|g| g.name.as_str()).collect();
        println!("::debug::{}", escape_data(&format!("repository {} command {:?} groups {groups:?}", cfg.query.repo, cfg.command)));
    }
    if let Some(h) = ev.head_repo.as_deref().filter(|h| !h.eq_ignore_ascii_case(&cfg.query.repo.full())) {
        crate::log::stdout_text(&format!("Pull request from fork {h}\n"));
    }
    println!("::group::therock-artifacts {} for {}", cfg.command.name(), cfg.query.repo);
    let server_url = cfg.server_url.clone();
    let result = crate::app::run(cfg, Front::Action).await;
    println!("::endgroup::");
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return failed(&e, &env, token_source),
    };
    report_outcome(&outcome, &env, &server_url, choices.if_not_found)
}

/// A run that failed: `found=false` and the error in the summary; a signal only says so.
fn failed(e: &anyhow::Error, env: &RunnerEnv, token_source: Option<&str>) -> ExitStatus {
    let msg = words::failure(e, token_source);
    let status = exit::classify(e);
    if let ExitStatus::Interrupted(_) = status {
        println!("::error::{}", escape_data(&msg));
        return status;
    }
    refuse(&msg, env)
}

fn report_outcome(outcome: &Outcome, env: &RunnerEnv, server_url: &str, if_not_found: IfNotFound) -> ExitStatus {
    crate::log::stdout_text(&report::render(&**outcome, Output::Human, server_url));
    if let (Outcome::Fetched(f), Some(ws)) = (outcome, &env.workspace) {
        if let FetchResult::Done(r) = &f.result {
            if r.output_dir.exists() {
                if let Err(e) = chown_like_workspace(&r.output_dir, ws) {
                    println!("::warning::{}", escape_data(&format!("{e:#}")));
                }
            }
        }
    }
    if let (Outcome::Release(r), Some(ws)) = (outcome, &env.workspace) {
        if let Some(d) = crate::commands::Conclusion::output_dir(r.as_ref()).filter(|d| d.exists()) {
            if let Err(e) = chown_like_workspace(d, ws) {
                println!("::warning::{}", escape_data(&format!("{e:#}")));
            }
        }
    }
    let doc = outcome.json(server_url);
    if let Some(o) = &env.output {
        let text: String = outputs(outcome, &doc).iter().map(|(k, v)| output_block(k, v)).collect();
        if let Err(e) = append(o, &text, "GITHUB_OUTPUT") {
            return fail(&format!("{e:#}"));
        }
    }
    if let Some(s) = &env.summary {
        let mut md = report::render(&**outcome, Output::Markdown, server_url);
        clamp_summary(&mut md, 900 * 1024);
        if let Err(e) = append(s, &md, "GITHUB_STEP_SUMMARY") {
            println!("::warning::{}", escape_data(&format!("{e:#}")));
        }
    }
    if outcome.found() {
        return ExitStatus::Found;
    }
    let msg = words::in_action_terms(&outcome.message().unwrap_or_else(|| "no artifacts found".into()));
    if let Some(o) = &env.output {
        let _ = append(o, &output_block("error-message", &msg), "GITHUB_OUTPUT");
    }
    match if_not_found {
        IfNotFound::Fail => {
            println!("::error::{}", escape_data(&msg));
            ExitStatus::NotFound
        }
        IfNotFound::Warn => {
            println!("::warning::{}", escape_data(&msg));
            ExitStatus::Found
        }
        IfNotFound::Ignore => {
            crate::log::stdout_text(&format!("{msg}\n"));
            ExitStatus::Found
        }
    }
}
