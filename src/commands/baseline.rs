//! `baseline`: the commit whose artifacts a build of `--commit` can reuse (the merge-base walk,
//! or for a super-repo the TheRock commit it pins).

use anyhow::Result;

use super::App;
use crate::config::{Subject, WalkOptions};
use crate::resolve::{self, Baseline};

pub async fn run(app: &App, subject: &Subject, walk: &WalkOptions) -> Result<Baseline> {
    let _spinner = super::asking_github(app);
    Ok(resolve::baseline(&app.resolver(), subject, walk).await?)
}

impl super::Conclusion for Baseline {
    fn found(&self) -> bool {
        self.found.found()
    }
    fn resolved(&self) -> Option<&crate::domain::select::Found> {
        Some(&self.found)
    }
    fn baseline(&self) -> Option<&Baseline> {
        Some(self)
    }
}
