//! `latest`: the newest commit on a branch whose successful runs hold every requested group.

use crate::resolve;
use anyhow::Result;

use super::App;
use crate::domain::select::Found;

pub async fn run(app: &App, branch: Option<&str>, max_commits: usize) -> Result<Found> {
    Ok(resolve::latest(&app.resolver(), branch, max_commits).await?)
}
