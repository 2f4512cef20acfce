//! therock-artifacts: find, baseline, fetch and compare ROCm TheRock CI build artifacts.
//!
//! The flow: inputs (`cli` | `action`) -> `config` -> `app::run` (one `commands::*`, over
//! `resolve` -> `locate` -> `fetch`) -> typed `outcome` -> `report` -> `exit`. This file only
//! wires them: parse, run, print, exit status. The modules live in the library (`lib.rs`).

use therock_artifacts::{action, app, cli, commands, config, exit, log, report, say, sources};

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
            if let Some(hint) = missing_dashes_hint(&e) {
                crate::say!("{hint}");
            }
            // `--help` and `--version` are answers; a usage error is an error, and with
            // `--json` anywhere on the line still one JSON document on stdout.
            if e.use_stderr() && std::env::args_os().any(|a| a == "--json") {
                println!("{}", report::json::error_document(&usage_error(&e)));
            }
            return if e.use_stderr() { ExitStatus::Error } else { ExitStatus::Found }.into();
        }
    };
    match cli.command {
        cli::Cmd::Cache(c) => cache(c.op).into(),
        command => block_on(command.into_raw()).into(),
    }
}

/// `bisect` / `exec` without `--` before the test command: clap sees the command as an
/// unexpected argument (or misses it); say what to write.
fn missing_dashes_hint(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.iter().find(|a| !a.starts_with('-')).filter(|c| *c == "bisect" || *c == "exec")?;
    let kinds = matches!(e.kind(), ErrorKind::UnknownArgument | ErrorKind::MissingRequiredArgument);
    (kinds && !args.iter().any(|a| a == "--"))
        .then(|| format!("hint: put `--` before the test command: therock-artifacts {cmd} [OPTIONS] -- ./run-test.sh ARGS"))
}

/// clap's usage error in one line, without its `error: ` prefix and usage block.
fn usage_error(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments");
    first.trim().trim_start_matches("error:").trim().to_string()
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
    if let Some(note) = config::default_repo_note(&raw, &facts) {
        crate::say!("{note}");
    }
    let cfg = match config::Config::build(raw, facts) {
        Ok(c) => c,
        Err(e) => return failed(&e.worded(Front::Cli), output, ExitStatus::Error),
    };
    let (output, server_url) = (cfg.output, cfg.server_url.clone());
    match app::run(cfg, Front::Cli).await {
        Ok(o) => {
            let text = report::render(&*o, output, &server_url);
            // Text from outside (commit subjects, API messages) must not drive the terminal.
            if output == Output::Json {
                print(&text);
            } else {
                print(&log::escape_controls(&text));
            }
            if let Some(m) = o.message() {
                say!("{m}");
            }
            o.exit_status()
        }
        Err(e) => failed(&format!("{e:#}"), output, exit::classify(&e)),
    }
}
