//! The process's exit status, decided in one place for both front ends.
//!
//! The codes are a contract (README "Exit codes"): 0 an answer, 1 a valid "nothing found", 2 an
//! error, 128 + the signal when SIGINT / SIGTERM stopped the run (130, 143), and for `exec` and
//! `bisect` the test's own code where it is passed on (125: this commit cannot be tested, as
//! `git bisect run` reads it; 128: the test was killed by a signal).

use std::process::ExitCode;

use crate::interrupt::Stopped;

/// `exec`: the commit has no artifacts, so `git bisect run` skips it.
pub const UNTESTABLE: u8 = 125;
/// `exec`: the test was killed by a signal (it has no exit code of its own).
pub const KILLED: u8 = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command has an answer.
    Found,
    /// 1: a valid "nothing" (no artifacts, nothing selected, no bisect answer).
    NotFound,
    /// 2: the command failed (usage, network, an unsafe archive, ...).
    Error,
    /// 128 + the signal's number: SIGINT (130) or SIGTERM (143) stopped the run.
    Interrupted(u8),
    /// A child's code passed on (`exec`), or 125 / 128 as above.
    External(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Found => 0,
            ExitStatus::NotFound => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted(signal) => 128u8.saturating_add(signal),
            ExitStatus::External(c) => c,
        }
    }

    /// 0 for an answer, 1 for a valid "nothing".
    pub fn of_found(found: bool) -> ExitStatus {
        if found {
            ExitStatus::Found
        } else {
            ExitStatus::NotFound
        }
    }

    /// The code a child's wait status passes on: its own, or 128 when a signal killed it.
    pub fn of_child(code: Option<i32>) -> ExitStatus {
        ExitStatus::External(code.map_or(KILLED, |c| c.clamp(0, 255) as u8))
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

/// The status a failed run exits with: interrupted when a signal stopped it, else an error.
pub fn classify(e: &anyhow::Error) -> ExitStatus {
    match e.chain().find_map(|c| c.downcast_ref::<Stopped>()) {
        Some(s) => ExitStatus::Interrupted(s.signal),
        None => ExitStatus::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_codes() {
        assert_eq!(ExitStatus::of_found(true).code(), 0);
        assert_eq!(ExitStatus::of_found(false).code(), 1);
        assert_eq!(classify(&anyhow::anyhow!("boom")).code(), 2);
        let stopped = anyhow::Error::new(Stopped { signal: 15, clean: true });
        assert_eq!(classify(&stopped).code(), 143);
        assert_eq!(classify(&stopped.context("while fetching")).code(), 143);
        assert_eq!(ExitStatus::Interrupted(2).code(), 130);
        assert_eq!(ExitStatus::of_child(Some(3)).code(), 3);
        assert_eq!(ExitStatus::of_child(Some(300)).code(), 255);
        assert_eq!(ExitStatus::of_child(None).code(), KILLED);
    }
}
