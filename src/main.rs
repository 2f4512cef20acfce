//! therock-artifacts: find, baseline, fetch and compare ROCm TheRock CI build artifacts.
//!
//! The flow: inputs (`cli` | `action`) -> `config` -> `app` (`resolve` -> `locate` ->
//! `fetch` | `compare`) -> typed `outcome` -> `report`. This file only wires them.

mod action;
mod app;
mod bisect;
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

/// glibc gives each thread that allocates an arena of its own (up to 8 per core) and keeps what
/// they free in it: with a decoder thread per stream, tens of MiB of peak RSS for nothing (the
/// benchmark's cold fetch: 175-199 MiB with the default, 130-155 MiB with two arenas, same speed).
/// musl's allocator has no arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fewer_malloc_arenas() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: glibc's mallopt takes two ints and may be called at any time; it is called first
    // thing in main, before any other thread exists.
    unsafe {
        mallopt(M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fewer_malloc_arenas() {}

fn main() -> ExitCode {
    fewer_malloc_arenas();
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
    if let cli::Cmd::Cache(c) = &cli.command {
        return run_cache(c.op.clone());
    }
    match cli.command.into_raw() {
        None => rt.block_on(action::main()),
        Some(raw) => rt.block_on(run_cli(raw)),
    }
}

/// `cache info | prune | clear`: no GitHub, no S3, only the cache directory.
fn run_cache(op: cli::CacheOp) -> ExitCode {
    use cli::CacheOp;
    let facts = config::Facts::gather_env();
    let (json, built) = match &op {
        CacheOp::Info { json } | CacheOp::Clear { json } => (*json, config::CacheCommand::build(None, None, false, &facts, false)),
        CacheOp::Prune { max_size, max_age, dry_run, json } => {
            (*json, config::CacheCommand::build(max_size.as_deref(), max_age.as_deref(), *dry_run, &facts, true))
        }
    };
    let cmd = match built {
        Ok(c) => c,
        Err(e) => return print_error(&e.worded(config::Front::Cli), json),
    };
    let cache = fetch::Cache::new(cmd.dir.clone());
    let (doc, text) = match op {
        CacheOp::Info { .. } => {
            let s = cache.stats();
            (report::cache::stats_json(&s), report::cache::stats_text(&s))
        }
        CacheOp::Prune { .. } => {
            let p = cache.prune(cmd.max_size, cmd.max_age, cmd.dry_run);
            (report::cache::pruned_json(&p), report::cache::pruned_text(&p))
        }
        CacheOp::Clear { .. } => {
            let p = cache.clear();
            (report::cache::pruned_json(&p), report::cache::pruned_text(&p))
        }
    };
    if json {
        println!("{doc}");
    } else {
        print!("{text}");
    }
    ExitCode::SUCCESS
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
    let checkout = if raw.needs_checkout() { git::Checkout::discover() } else { None };
    let facts = config::Facts::gather(&raw, checkout);
    let cfg = match config::Config::build(raw, facts) {
        Ok(c) => c,
        Err(e) => return print_error(&e.worded(config::Front::Cli), json),
    };
    let server_url = cfg.server_url.clone();
    let work = async {
        match app::App::new(cfg, json).await {
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
            let _ = if json {
                writeln!(stdout, "{}", report::json::document(&o, &server_url))
            } else {
                write!(stdout, "{}", log::escape_controls(&report::human::text(&o)))
            };
            if let Some(m) = report::message(&o) {
                crate::say!("{m}");
            }
            ExitCode::from(o.exit_code())
        }
        Err(e) => print_error(&format!("{e:#}"), json),
    }
}
