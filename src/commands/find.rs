//! `find`: the CI runs and S3 locations holding a commit's (or a run's, or a PR head's) artifacts.

use crate::resolve;
use anyhow::Result;

use super::App;
use crate::config::Subject;
use crate::domain::select::Found;

pub async fn run(app: &App, subject: &Subject) -> Result<Found> {
    let _spinner = super::asking_github(app);
    Ok(resolve::find(&app.resolver(), subject).await?)
}

impl super::Conclusion for Found {
    fn found(&self) -> bool {
        Found::found(self)
    }
    fn resolved(&self) -> Option<&Found> {
        Some(self)
    }
}
