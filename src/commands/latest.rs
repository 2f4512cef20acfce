//! `latest`: the newest commit on a branch (or back from `--ref`) whose completed runs with
//! healthy builds hold every requested group; `--run-id` judges one run alone.

use crate::resolve;
use anyhow::Result;

use super::App;
use crate::config::LatestFrom;
use crate::domain::select::Found;

pub async fn run(app: &App, branch: Option<&str>, from: &LatestFrom, max_commits: usize) -> Result<Found> {
    let _spinner = super::asking_github(app);
    Ok(resolve::latest(&app.resolver(), branch, from, max_commits).await?)
}
