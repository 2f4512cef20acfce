//! `bisect --plan`'s round, rendered: the matrix GitHub Actions runs and the state to hand back.

use serde::Serialize;
use serde_json::Value;

use super::json;
use super::Render;
use crate::commands::plan::{Job, PlanRound};
use crate::domain::bisect_plan::Sealed;
use crate::domain::run::short_sha;

#[derive(Serialize)]
struct Matrix<'a> {
    include: &'a [Job],
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    status: &'static str,
    round: usize,
    matrix: Matrix<'a>,
    state: &'a Sealed,
    candidates: usize,
    message: String,
}

fn sentence(p: &PlanRound) -> String {
    let commits: Vec<&str> = p.jobs.iter().map(|j| short_sha(&j.commit)).collect();
    format!(
        "round {} tests {} commit(s) at once ({}); run `exec` on each and call again with --state and one --result SHA=good|bad|skip per commit",
        p.round,
        p.jobs.len(),
        commits.join(", ")
    )
}

impl Render for PlanRound {
    fn json(&self, _server_url: &str) -> Value {
        json::value(&PlanDoc {
            status: "planned",
            round: self.round,
            matrix: Matrix { include: &self.jobs },
            state: &self.state,
            candidates: self.candidates,
            message: sentence(self),
        })
    }

    fn human(&self) -> String {
        let mut out = format!("{}.\n", super::format::upper_first(&sentence(self)));
        for j in &self.jobs {
            out.push_str(&format!("  {}  run {}\n", j.commit, j.run_id.map(|r| r.to_string()).unwrap_or_else(|| "-".into())));
        }
        out.push_str(&format!("state: {}\n", serde_json::to_string(&self.state).unwrap_or_default()));
        out
    }

    fn markdown(&self) -> String {
        let mut md = format!("## Bisect round {}\n\n| commit | run |\n|---|---|\n", self.round);
        for j in &self.jobs {
            md.push_str(&format!("| `{}` | {} |\n", short_sha(&j.commit), j.run_id.map(|r| r.to_string()).unwrap_or_default()));
        }
        md
    }
}
