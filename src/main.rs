//! therock-artifacts: find, baseline, fetch and compare ROCm TheRock CI build artifacts.
//!
//! The flow: inputs (`cli` | `action`) -> `config` -> `app` (`resolve` -> `locate` ->
//! `fetch` | `compare`) -> typed `outcome` -> `report`. This file only wires them.

mod action;
mod app;
mod cli;
mod compare;
mod config;
mod domain;
mod fetch;
mod git;
mod github;
mod interrupt;
mod locate;
mod log;
mod outcome;
mod report;
mod resolve;
mod s3;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

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
            crate::say!("error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command.into_raw() {
        None => rt.block_on(action::main()),
        Some(raw) => rt.block_on(run_cli(raw)),
    }
}

fn print_error(msg: &str, json: bool) -> ExitCode {
    crate::say!("error: {msg}");
    if json {
        println!("{}", report::json::error_document(msg));
    }
    ExitCode::from(2)
}

async fn run_cli(raw: config::Raw) -> ExitCode {
    let json = raw.common.json;
    let facts = config::Facts::gather(&raw, git::Checkout::discover());
    let cfg = match config::Config::build(raw, facts) {
        Ok(c) => c,
        Err(e) => return print_error(&e.worded(config::Front::Cli), json),
    };
    let server_url = cfg.server_url.clone();
    let work = async {
        match app::App::new(cfg).await {
            Ok(app) => app.run().await,
            Err(e) => Err(e),
        }
    };
    let outcome = match interrupt::run_until_signal(work, std::time::Duration::from_secs(10)).await {
        Ok(o) => o,
        Err(stopped) => {
            let msg = stopped.message();
            crate::say!("error: {msg}");
            if json {
                println!("{}", report::json::error_document(&msg));
            }
            return ExitCode::from(stopped.code);
        }
    };
    match outcome {
        Ok(o) => {
            let mut stdout = std::io::stdout().lock();
            let _ = if json { writeln!(stdout, "{}", report::json::document(&o, &server_url)) } else { write!(stdout, "{}", report::human::text(&o)) };
            if let Some(m) = report::message(&o) {
                crate::say!("{m}");
            }
            ExitCode::from(if o.found() { 0 } else { 1 })
        }
        Err(e) => print_error(&format!("{e:#}"), json),
    }
}
