//! What a command concluded: one variant per command, each holding that command's own outcome
//! type (in `commands/`). Everything a front end asks of an outcome goes through `Render`
//! (JSON, text, Markdown, message) and its supertrait `commands::Conclusion` (found, exit
//! status, the action's outputs), reached by deref: a new command adds one arm here.

use std::ops::Deref;

use crate::commands::bisect::BisectReport;
use crate::commands::compare::Compared;
use crate::commands::contains::ContainsReport;
use crate::commands::exec::ExecReport;
use crate::commands::fetch::Fetched;
use crate::commands::plan::PlanRound;
use crate::commands::release::Released;
use crate::commands::reuse::Reused;
use crate::commands::stage::StageFound;
use crate::domain::select::Found;
use crate::report::Render;
use crate::resolve::Baseline;

#[derive(Debug, Clone)]
pub enum Outcome {
    /// `find` and `latest`.
    Found(Found),
    Baseline(Box<Baseline>),
    Fetched(Box<Fetched>),
    Compared(Compared),
    Bisected(Box<BisectReport>),
    Executed(ExecReport),
    /// `find --release` and `fetch --release`.
    Release(Box<Released>),
    Reused(Box<Reused>),
    /// `find --stage`.
    Staged(Box<StageFound>),
    /// `bisect --plan`: the next round.
    Planned(Box<PlanRound>),
    Contains(Box<ContainsReport>),
}

impl Deref for Outcome {
    type Target = dyn Render;

    fn deref(&self) -> &(dyn Render + 'static) {
        match self {
            Outcome::Found(f) => f,
            Outcome::Baseline(b) => b.as_ref(),
            Outcome::Fetched(f) => f.as_ref(),
            Outcome::Compared(c) => c,
            Outcome::Bisected(b) => b.as_ref(),
            Outcome::Executed(e) => e,
            Outcome::Release(r) => r.as_ref(),
            Outcome::Reused(r) => r.as_ref(),
            Outcome::Staged(s) => s.as_ref(),
            Outcome::Planned(p) => p.as_ref(),
            Outcome::Contains(c) => c.as_ref(),
        }
    }
}
