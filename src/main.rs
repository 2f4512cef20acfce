//! therock-artifacts: find, baseline, fetch and compare ROCm TheRock CI build artifacts.
//!
//! The flow: inputs -> `config` -> `resolve` -> `locate` -> `fetch` -> `report`.

mod action;
mod cli;
mod compare;
mod config;
mod domain;
mod fetch;
mod git;
mod github;
mod locate;
mod report;
mod resolve;
mod s3;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

use config::{CommandKind, Config, Raw};

/// What a command concluded, before it is printed.
pub struct Outcome {
    pub found: bool,
    pub doc: serde_json::Map<String, serde_json::Value>,
    pub human: String,
    /// For the action: the markdown summary and extra outputs.
    pub summary: String,
    pub message: Option<String>,
}

pub async fn execute(cfg: Config) -> anyhow::Result<Outcome> {
    let kind = cfg.command;
    let ctx = resolve::context(cfg).await?;
    let out = match kind {
        CommandKind::Find | CommandKind::Latest => {
            let f = if kind == CommandKind::Find { ctx.find().await? } else { ctx.latest().await? };
            Outcome {
                found: f.found(),
                doc: report::found_doc(&f),
                human: report::human_found(&f),
                summary: action::summary_found(&f, None),
                message: not_found_message(&f),
            }
        }
        CommandKind::Baseline => {
            let b = ctx.baseline().await?;
            Outcome {
                found: b.found.found(),
                doc: report::baseline_doc(&b),
                human: report::human_baseline(&b),
                summary: action::summary_found(&b.found, Some(&b)),
                message: not_found_message(&b.found),
            }
        }
        CommandKind::Fetch => fetch::run(&ctx).await?,
        CommandKind::Compare => compare::run(&ctx).await?,
    };
    if std::env::var_os("THEROCK_ARTIFACTS_DEBUG_REQUESTS").is_some() {
        eprintln!("github requests: {}, s3 listings: {}", ctx.gh.requests_made(), ctx.loc.listed.load(std::sync::atomic::Ordering::Relaxed));
    }
    Ok(out)
}

fn not_found_message(f: &resolve::Found) -> Option<String> {
    if f.found() {
        return None;
    }
    let missing: Vec<&str> = f.slots.iter().filter(|s| s.hit.is_none()).map(|s| s.group.name.as_str()).collect();
    let what = match &f.commit {
        Some(c) => format!("commit {c} of {}", f.repo.full()),
        None => f.repo.full(),
    };
    Some(match &f.note {
        Some(n) => format!("no artifacts found for {} ({n})", missing.join(", ")),
        None => format!("no artifacts found for group(s) {} at {what} (workflow {})", missing.join(", "), f.workflow),
    })
}

pub fn print_outcome(o: &Outcome, json: bool) {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if json {
        let _ = writeln!(lock, "{}", serde_json::Value::Object(o.doc.clone()));
    } else {
        let _ = write!(lock, "{}", o.human);
    }
    if let Some(m) = &o.message {
        eprintln!("{m}");
    }
}

fn error_doc(msg: &str) -> String {
    serde_json::json!({"status": "error", "results": [], "error": msg}).to_string()
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(raw) = cli.command.into_raw() else {
        return rt.block_on(action::main());
    };
    let json = raw.json;
    rt.block_on(run_cli(raw, json))
}

async fn run_cli(raw: Raw, json: bool) -> ExitCode {
    let cfg = match Config::build(raw, git::Checkout::discover()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            if json {
                println!("{}", error_doc(&e));
            }
            return ExitCode::from(2);
        }
    };
    match execute(cfg).await {
        Ok(o) => {
            print_outcome(&o, json);
            ExitCode::from(if o.found { 0 } else { 1 })
        }
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("error: {msg}");
            if json {
                println!("{}", error_doc(&msg));
            }
            ExitCode::from(2)
        }
    }
}
