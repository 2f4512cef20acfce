//! Bisect and exec, rendered: JSON, human text, Markdown (for a pull request comment).

use serde_json::{json, Map, Value};

use crate::bisect::{Answer, BisectReport, ExecReport};
use crate::domain::run::{short_sha, Commit};

fn commit_json(c: &Commit) -> Value {
    json!({"sha": c.sha, "subject": c.subject, "author_date": c.author_date})
}

pub fn json(b: &BisectReport) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(if b.answer.is_some() { "found" } else { "not_found" }));
    m.insert("good".into(), json!(b.good));
    m.insert("bad".into(), json!(b.bad));
    m.insert("candidates".into(), json!(b.candidates));
    m.insert("steps".into(), json!(b.steps));
    m.insert("without_artifacts".into(), json!(b.without_artifacts.iter().map(|(c, why)| json!({"commit": c, "reason": why})).collect::<Vec<_>>()));
    if let Some(a) = &b.answer {
        m.insert("first_bad".into(), json!(a.first_bad.as_ref().map(commit_json)));
        m.insert("last_good".into(), json!(a.last_good.as_ref().map(commit_json)));
        m.insert("commits".into(), json!(a.commits.iter().map(commit_json).collect::<Vec<_>>()));
        m.insert("skipped".into(), json!(a.skipped));
        m.insert("message".into(), json!(sentence(b, a)));
    }
    if let Some(n) = &b.note {
        m.insert("message".into(), json!(n));
    }
    m
}

pub fn exec_json(e: &ExecReport) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(if e.note.is_none() { "found" } else { "not_found" }));
    m.insert("commit".into(), json!(e.commit));
    m.insert("run_id".into(), json!(e.run_id.map(|r| r.to_string())));
    m.insert("exit_code".into(), json!(e.code));
    if let Some(n) = &e.note {
        m.insert("message".into(), json!(n));
    }
    m
}

/// "the first bad commit with artifacts is X; the change is in the N commits from Y to X".
pub fn sentence(b: &BisectReport, a: &Answer) -> String {
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

pub fn human(b: &BisectReport) -> String {
    let Some(a) = &b.answer else { return String::new() };
    let mut out = format!("{}.\n", upper_first(&sentence(b, a)));
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

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

pub fn markdown(b: &BisectReport, code: impl Fn(&str) -> String, text: impl Fn(&str) -> String) -> String {
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
