//! Bisect and exec, rendered: JSON, human text, Markdown (for a pull request comment).

use serde::Serialize;
use serde_json::Value;

use super::format::{code, text, upper_first};
use super::json::{self, Status};
use super::Render;
use crate::commands::bisect::{Answer, BisectReport, Step};
use crate::commands::exec::ExecReport;
use crate::domain::run::{short_sha, Commit};

#[derive(Serialize)]
struct CommitDoc<'a> {
    sha: &'a str,
    subject: &'a Option<String>,
    author_date: &'a Option<String>,
}

impl<'a> From<&'a Commit> for CommitDoc<'a> {
    fn from(c: &'a Commit) -> Self {
        CommitDoc { sha: &c.sha, subject: &c.subject, author_date: &c.author_date }
    }
}

#[derive(Serialize)]
struct WithoutArtifacts<'a> {
    commit: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct AnswerDoc<'a> {
    first_bad: Option<CommitDoc<'a>>,
    last_good: Option<CommitDoc<'a>>,
    commits: Vec<CommitDoc<'a>>,
    skipped: &'a [String],
}

#[derive(Serialize)]
struct BisectDoc<'a> {
    status: Status,
    good: &'a str,
    bad: &'a str,
    candidates: usize,
    steps: &'a [Step],
    without_artifacts: Vec<WithoutArtifacts<'a>>,
    #[serde(flatten)]
    answer: Option<AnswerDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The TheRock bump the super-repo range came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    bump: Option<&'a crate::commands::bump::Bump>,
}

#[derive(Serialize)]
struct ExecDoc<'a> {
    status: Status,
    commit: &'a str,
    run_id: Option<String>,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// "the first bad commit with artifacts is X; the change is in the N commits from Y to X".
fn sentence(b: &BisectReport, a: &Answer) -> String {
    let bad = match &a.first_bad {
        Some(c) => format!("the first bad commit with artifacts is {}", short_sha(&c.sha)),
        None => format!("every commit with artifacts tested good; the first bad one is {} itself, which has none", short_sha(&b.bad)),
    };
    let good = a.last_good.as_ref().map(|c| short_sha(&c.sha).to_string()).unwrap_or_else(|| format!("{} (the given good commit)", short_sha(&b.good)));
    let mut s = format!("{bad}; the change is in the {} commit(s) after {good} up to it", a.commits.len());
    if !a.skipped.is_empty() {
        s.push_str(&format!(" ({} of them could not be tested)", a.skipped.len()));
    }
    s
}

fn line(c: &Commit) -> String {
    format!("{}  {}  {}", short_sha(&c.sha), c.author_date.as_deref().unwrap_or(""), c.subject.as_deref().unwrap_or(""))
}

fn human(b: &BisectReport) -> String {
    let Some(a) = &b.answer else { return String::new() };
    let mut out = String::new();
    if let Some(m) = &b.bump {
        out.push_str(&format!(
            "TheRock {}..{} moved {} ({}): bisected its range.\n",
            short_sha(&m.good_therock),
            short_sha(&m.bad_therock),
            m.submodule,
            m.repo
        ));
    }
    out.push_str(&format!("{}.\n", upper_first(&sentence(b, a))));
    for c in &a.commits {
        out.push_str(&format!("  {}\n", line(c)));
    }
    out.push_str(&format!("{} test run(s) over {} commit(s) with artifacts", b.steps.len(), b.candidates));
    if !b.without_artifacts.is_empty() {
        out.push_str(&format!("; {} commit(s) without artifacts skipped", b.without_artifacts.len()));
    }
    out.push('\n');
    out
}

fn markdown(b: &BisectReport) -> String {
    let mut md = String::from("## Bisect with TheRock CI artifacts\n\n");
    match &b.answer {
        None => md.push_str(&format!("No answer: {}\n", text(b.note.as_deref().unwrap_or("")))),
        Some(a) => {
            md.push_str(&format!("{}.\n\n| commit | date | subject |\n|---|---|---|\n", text(&upper_first(&sentence(b, a)))));
            for c in &a.commits {
                md.push_str(&format!(
                    "| {} | {} | {} |\n",
                    code(short_sha(&c.sha)),
                    text(c.author_date.as_deref().unwrap_or("")),
                    text(c.subject.as_deref().unwrap_or(""))
                ));
            }
            md.push_str(&format!("\n{} test run(s); {} commit(s) without artifacts skipped.\n", b.steps.len(), b.without_artifacts.len()));
        }
    }
    md
}

impl Render for BisectReport {
    fn json(&self, _server_url: &str) -> Value {
        let answer = self.answer.as_ref().map(|a| AnswerDoc {
            first_bad: a.first_bad.as_ref().map(CommitDoc::from),
            last_good: a.last_good.as_ref().map(CommitDoc::from),
            commits: a.commits.iter().map(CommitDoc::from).collect(),
            skipped: &a.skipped,
        });
        json::value(&BisectDoc {
            status: Status::of(self.answer.is_some()),
            good: &self.good,
            bad: &self.bad,
            candidates: self.candidates,
            steps: &self.steps,
            without_artifacts: self.without_artifacts.iter().map(|(commit, reason)| WithoutArtifacts { commit, reason }).collect(),
            answer,
            message: self.note.clone().or_else(|| self.answer.as_ref().map(|a| sentence(self, a))),
            bump: self.bump.as_ref(),
        })
    }

    fn human(&self) -> String {
        human(self)
    }

    fn markdown(&self) -> String {
        markdown(self)
    }

    fn message(&self) -> Option<String> {
        match self.answer {
            Some(_) => None,
            None => Some(self.note.clone().unwrap_or_else(|| "no answer".into())),
        }
    }
}

impl Render for ExecReport {
    fn json(&self, _server_url: &str) -> Value {
        json::value(&ExecDoc {
            status: Status::of(self.note.is_none()),
            commit: &self.commit,
            run_id: self.run_id.map(|r| r.to_string()),
            exit_code: self.status.code(),
            message: self.note.as_deref(),
        })
    }

    fn human(&self) -> String {
        String::new()
    }

    fn markdown(&self) -> String {
        String::new()
    }

    fn message(&self) -> Option<String> {
        self.note.clone()
    }
}
