//! The library behind the `therock-artifacts` binary: every module lives here, `main.rs` only
//! wires the front ends to `app::run` (a new module is declared here, not in `main.rs`).
//!
//! The library exists for two callers and promises nothing to anyone else: `main.rs`, which
//! needs the modules it wires (public, hidden from the docs), and the fuzz targets under `fuzz/`,
//! which reach the parsers of outsiders' text through the narrow `fuzzing` facade only. The rest
//! stays private, so the compiler still reports code nothing uses.

#[doc(hidden)]
pub mod action;
#[doc(hidden)]
pub mod app;
mod blocking;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod commands;
#[doc(hidden)]
pub mod config;
mod domain;
#[doc(hidden)]
pub mod exit;
mod fetch;
pub mod fuzzing;
mod interrupt;
#[doc(hidden)]
pub mod log;
mod outcome;
#[doc(hidden)]
pub mod report;
mod resolve;
mod retry;
mod s3;
#[doc(hidden)]
pub mod sources;
