//! The app: both front ends (the CLI and the action) run a command through `run`, which builds
//! the clients once (`commands::App`), dispatches to `commands::*` under the signal watch, and
//! returns the typed outcome. Nothing here renders (it only hands report's wording of a baseline
//! substitution to the commands) or decides an exit code.

use anyhow::Result;
use std::time::Duration;

use crate::commands::{self, App};
use crate::config::{Command, Config, Front, Output};
use crate::interrupt;
use crate::outcome::Outcome;

/// How long a stopped run may take to unwind (remove its staging trees) after a signal.
const GRACE: Duration = Duration::from_secs(10);

/// Runs `cfg`'s command to its outcome. A signal ends it with an `interrupt::Stopped` error
/// (`exit::classify` reads it as 130 / 143).
pub async fn run(cfg: Config, front: Front) -> Result<Outcome> {
    // The command's own stdout (a test's) stays off stdout when stdout is a document, or the
    // runner's log.
    let quiet_stdout = front == Front::Action || cfg.output == Output::Json;
    let work = async {
        let mut app = App::new(cfg, quiet_stdout).await?;
        app.explain = crate::report::human::substitution;
        let out = dispatch(&app).await?;
        app.say_requests();
        Ok(out)
    };
    match interrupt::run_until_signal(work, GRACE).await {
        Ok(out) => out,
        Err(stopped) => Err(stopped.into()),
    }
}

async fn dispatch(app: &App) -> Result<Outcome> {
    Ok(match &app.cfg.command {
        Command::Find(subject) => Outcome::Found(commands::find::run(app, subject).await?),
        Command::Latest { branch, max_commits, from } => Outcome::Found(commands::latest::run(app, branch.as_deref(), from, *max_commits).await?),
        Command::Baseline(subject, walk) => Outcome::Baseline(Box::new(commands::baseline::run(app, subject, walk).await?)),
        Command::Fetch(source, opts) => Outcome::Fetched(Box::new(commands::fetch::run(app, source, opts).await?)),
        Command::Compare { from, to, options } => {
            let _spinner = commands::asking_github(app);
            Outcome::Compared(commands::compare::run(app, from, to, options).await?)
        }
        Command::Bisect(opts) => match &opts.plan {
            Some(p) => match commands::plan::run(app, opts, p).await? {
                commands::plan::Planned::Round(r) => Outcome::Planned(r),
                commands::plan::Planned::Done(b) => Outcome::Bisected(b),
            },
            None => Outcome::Bisected(Box::new(commands::bisect::run(app, opts).await?)),
        },
        Command::Exec(opts) => Outcome::Executed(commands::exec::run(app, opts).await?),
        Command::Release(opts) => Outcome::Release(Box::new(commands::release::run(app, opts).await?)),
        Command::FindStage(subject, pick) => {
            let _spinner = commands::asking_github(app);
            Outcome::Staged(Box::new(commands::stage::find(app, subject, pick).await?))
        }
        Command::Reuse(opts) => {
            let _spinner = commands::asking_github(app);
            Outcome::Reused(Box::new(commands::reuse::run(app, opts).await?))
        }
        Command::Contains(opts) => {
            let _spinner = commands::asking_github(app);
            Outcome::Contains(Box::new(commands::contains::run(app, opts).await?))
        }
    })
}
