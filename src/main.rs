//! therock-artifacts: find, baseline, fetch and compare ROCm TheRock CI build artifacts.
//!
//! The flow: inputs (`cli` | `action`) -> `config` -> `app::run` (one `commands::*`, over
//! `resolve` -> `locate` -> `fetch`) -> typed `outcome` -> `report` -> `exit`. This file only
//! wires them: parse, run, print, exit status. The modules live in the library (`lib.rs`).

use therock_artifacts::{action, app, cli, commands, config, exit, report, say, sources};

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

use config::{Front, Output};
use exit::ExitStatus;

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
            let _ = e.print();
            // `--help` and `--version` are answers; a usage error is an error.
            return if e.use_stderr() { ExitStatus::Error } else { ExitStatus::Found }.into();
        }
    };
    match cli.command {
        cli::Cmd::Cache(c) => cache(c.op).into(),
        command => block_on(command.into_raw()).into(),
    }
}

/// The commands that need the async runtime (all but `cache`): `None` is the action.
fn block_on(raw: Option<config::Raw>) -> ExitStatus {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            say!("error: could not start the async runtime: {e}");
            return ExitStatus::Error;
        }
    };
    match raw {
        None => rt.block_on(action::main()),
        Some(raw) => rt.block_on(run(raw)),
    }
}

/// An error: on stderr, and as the error document with `--json`.
fn failed(msg: &str, output: Output, status: ExitStatus) -> ExitStatus {
    say!("error: {msg}");
    if output == Output::Json {
        println!("{}", report::json::error_document(msg));
    }
    status
}

fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `cache info | prune | clear`: no clients, no runtime.
fn cache(op: cli::CacheOp) -> ExitStatus {
    let output = Output::of(op.json(), false);
    let (op, cmd) = match op.build(&config::Facts::gather_env()) {
        Ok(x) => x,
        Err(e) => return failed(&e.worded(Front::Cli), output, ExitStatus::Error),
    };
    print(&report::render(&commands::cache::run(op, &cmd), output, ""));
    ExitStatus::Found
}

async fn run(raw: config::Raw) -> ExitStatus {
    let output = Output::of(raw.common.json, false);
    // The checkout's facts are asked of git directly: off the runtime's threads.
    let (raw, facts) = match tokio::task::spawn_blocking(move || {
        let checkout = if raw.needs_checkout() { sources::git::Checkout::discover() } else { None };
        let facts = config::Facts::gather(&raw, checkout);
        (raw, facts)
    })
    .await
    {
        Ok(x) => x,
        Err(e) => return failed(&format!("could not read the local checkout: {e}"), output, ExitStatus::Error),
    };
    let cfg = match config::Config::build(raw, facts) {
        Ok(c) => c,
        Err(e) => return failed(&e.worded(Front::Cli), output, ExitStatus::Error),
    };
    let (output, server_url) = (cfg.output, cfg.server_url.clone());
    match app::run(cfg, Front::Cli).await {
        Ok(o) => {
            print(&report::render(&*o, output, &server_url));
            if let Some(m) = o.message() {
                say!("{m}");
            }
            o.exit_status()
        }
        Err(e) => failed(&format!("{e:#}"), output, exit::classify(&e)),
    }
}
