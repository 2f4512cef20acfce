//! `latest`: the newest commit on a branch whose successful runs hold every requested group.

use anyhow::Result;

use super::App;
use crate::domain::select::Found;

pub async fn run(app: &App, branch: Option<&str>, max_commits: usize) -> Result<Found> {
    app.resolver().latest(branch, max_commits).await
}
