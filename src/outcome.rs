//! What a command concluded, typed. `app` produces it; `report` renders it (JSON, human text,
//! Markdown); the action reads its fields for `$GITHUB_OUTPUT`.

use std::path::PathBuf;

use crate::bisect::{BisectReport, ExecReport};
use crate::compare::Comparison;
use crate::config::{ExtractMode, Subject};
use crate::domain::select::{Found, Hit};
use crate::fetch::{FetchReport, Planned};
use crate::resolve::Baseline;

/// How a fetch found its commit.
#[derive(Debug, Clone)]
pub enum Resolved {
    Found(Found),
    Baseline(Box<Baseline>),
}

impl Resolved {
    pub fn found(&self) -> &Found {
        match self {
            Resolved::Found(f) => f,
            Resolved::Baseline(b) => &b.found,
        }
    }
    pub fn baseline(&self) -> Option<&Baseline> {
        match self {
            Resolved::Baseline(b) => Some(b),
            Resolved::Found(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum FetchResult {
    /// The commit has no artifacts for every group.
    NotFound,
    /// `--include` / `--exclude` left nothing.
    NothingSelected,
    DryRun {
        output_dir: PathBuf,
        extract: ExtractMode,
        planned: Vec<Planned>,
    },
    Done(FetchReport),
}

#[derive(Debug, Clone)]
pub enum Compared {
    /// One side has no artifacts: `side` is `from` or `to`.
    MissingSide {
        side: &'static str,
        subject: Subject,
        found: Found,
    },
    Done(Box<Comparison>),
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// `find` and `latest`.
    Found(Found),
    Baseline(Baseline),
    Fetched {
        resolved: Resolved,
        result: FetchResult,
    },
    Compared(Compared),
    Bisected(Box<BisectReport>),
    Executed(ExecReport),
}

impl Outcome {
    /// The process's exit code: 0 found (an answer), 1 a valid "nothing"; `exec` passes on its
    /// command's code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Executed(e) => e.code,
            o => u8::from(!o.found()),
        }
    }

    /// Exit 0 (found) or 1 (a valid "nothing").
    pub fn found(&self) -> bool {
        match self {
            Outcome::Found(f) => f.found(),
            Outcome::Baseline(b) => b.found.found(),
            Outcome::Fetched { result, .. } => matches!(result, FetchResult::DryRun { .. } | FetchResult::Done(_)),
            Outcome::Compared(c) => matches!(c, Compared::Done(_)),
            Outcome::Bisected(b) => b.answer.is_some(),
            Outcome::Executed(e) => e.note.is_none(),
        }
    }

    /// The answer's `Found`, when the command resolved one.
    pub fn resolved(&self) -> Option<&Found> {
        match self {
            Outcome::Found(f) => Some(f),
            Outcome::Baseline(b) => Some(&b.found),
            Outcome::Fetched { resolved, .. } => Some(resolved.found()),
            Outcome::Compared(_) | Outcome::Bisected(_) | Outcome::Executed(_) => None,
        }
    }

    pub fn baseline(&self) -> Option<&Baseline> {
        match self {
            Outcome::Baseline(b) => Some(b),
            Outcome::Fetched { resolved, .. } => resolved.baseline(),
            _ => None,
        }
    }

    /// The result records, in order (hits and partial hits; both sides for a comparison).
    pub fn results(&self) -> Vec<&Hit> {
        match self {
            Outcome::Compared(Compared::Done(c)) => c.from.results().chain(c.to.results()).collect(),
            Outcome::Compared(Compared::MissingSide { .. }) => Vec::new(),
            o => o.resolved().map(|f| f.results().collect()).unwrap_or_default(),
        }
    }

    /// The commit whose artifacts were used: the baseline commit, else the first result's.
    pub fn commit(&self) -> Option<String> {
        if !self.found() {
            return None;
        }
        if let Some(b) = self.baseline() {
            return b.found.commit.clone();
        }
        self.results().first().map(|h| h.run.head_sha.clone())
    }

    /// Archive filenames: those fetched (or planned), else those of every result, each once.
    pub fn artifact_names(&self) -> Vec<String> {
        match self {
            Outcome::Fetched { result: FetchResult::Done(r), .. } => r.archives.iter().map(|a| a.filename.clone()).collect(),
            Outcome::Fetched { result: FetchResult::DryRun { planned, .. }, .. } => planned.iter().map(|p| p.name.filename.clone()).collect(),
            o => {
                let mut names: Vec<String> = Vec::new();
                for h in o.results() {
                    for (a, _) in &h.archives {
                        if !names.contains(&a.filename) {
                            names.push(a.filename.clone());
                        }
                    }
                }
                names
            }
        }
    }

    /// Where the artifacts went (fetch).
    pub fn output_dir(&self) -> Option<&PathBuf> {
        match self {
            Outcome::Fetched { result: FetchResult::Done(r), .. } => Some(&r.output_dir),
            Outcome::Fetched { result: FetchResult::DryRun { output_dir, .. }, .. } => Some(output_dir),
            _ => None,
        }
    }
}
