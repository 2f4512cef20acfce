//! SIGINT / SIGTERM (a CI job cancelled by a newer push, Ctrl-C): the whole process learns it
//! from one flag, every wait that could last notices, and the run unwinds through its normal
//! failure path, which removes staging trees and partial downloads.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

fn notify() -> &'static tokio::sync::Notify {
    static N: OnceLock<tokio::sync::Notify> = OnceLock::new();
    N.get_or_init(tokio::sync::Notify::new)
}

/// Has the process been told to stop?
pub fn cancelled() -> bool {
    SIGNAL.load(Ordering::Relaxed) != 0
}

/// Resolves once the process has been told to stop.
pub async fn wait() {
    loop {
        let n = notify().notified();
        if cancelled() {
            return;
        }
        n.await;
    }
}

/// The signal received (0: none); `exit::ExitStatus::Interrupted` turns it into 128 + it.
fn received() -> u8 {
    SIGNAL.load(Ordering::Relaxed).clamp(0, 127) as u8
}

pub fn signal_name() -> &'static str {
    match SIGNAL.load(Ordering::Relaxed) {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

fn raise(sig: i32) {
    SIGNAL.store(sig, Ordering::Relaxed);
    notify().notify_waiters();
}

/// Listens for SIGINT and SIGTERM (Ctrl-C on Windows); resolves with the signal's number.
pub async fn listen() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => raise(2),
            _ = term.recv() => raise(15),
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return std::future::pending().await;
        }
        raise(2);
    }
    received()
}

/// How a signal ended a run: an error whose exit status is `Interrupted` (`exit::classify`).
#[derive(Debug)]
pub struct Stopped {
    pub signal: u8,
    /// Whether the work unwound (and cleaned up after itself) within the grace period.
    pub clean: bool,
}

impl Stopped {
    pub fn message(&self) -> String {
        let what = if self.clean { "its temporary files were removed" } else { "a later fetch removes what it left" };
        format!("interrupted by {}; {what}", signal_name())
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Stopped {}

/// Runs `work` until it ends, or, after a signal, until it has unwound (at most `grace`).
pub async fn run_until_signal<T>(work: impl std::future::Future<Output = T>, grace: Duration) -> Result<T, Stopped> {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => Ok(out),
        signal = listen() => {
            crate::say!("{}: stopping and cleaning up", signal_name());
            let clean = tokio::time::timeout(grace, &mut work).await.is_ok();
            Err(Stopped { signal, clean })
        }
    }
}
