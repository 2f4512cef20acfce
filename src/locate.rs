//! Locate: from a run to its bucket, prefix and archive listing (listed once per run).

use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

use crate::domain::artifacts::{ArtifactName, RunListing};
use crate::domain::buckets::{run_bucket, Platform, ReleaseType, Repo, RunLocation};
use crate::domain::families::ArtifactGroup;
use crate::github::Run;
use crate::s3::{S3Error, S3};

pub struct Locator {
    pub s3: S3,
    pub platform: Platform,
    pub release: ReleaseType,
    listings: Mutex<HashMap<String, Arc<RunListing>>>,
    pub listed: std::sync::atomic::AtomicU64,
}

/// A group found in one run.
#[derive(Debug, Clone)]
pub struct Hit {
    pub group: ArtifactGroup,
    pub repo: Repo,
    pub run: Run,
    pub location: RunLocation,
    pub listing: Arc<RunListing>,
    /// The group's archives (generic and target-specific), sorted by filename.
    pub archives: Vec<(ArtifactName, u64)>,
    pub required: Vec<String>,
    pub missing: Vec<String>,
}

impl Hit {
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

impl Locator {
    pub fn new(s3: S3, platform: Platform, release: ReleaseType) -> Self {
        Locator { s3, platform, release, listings: Mutex::new(HashMap::new()), listed: Default::default() }
    }

    pub fn location(&self, repo: &Repo, run: &Run) -> RunLocation {
        let b = run_bucket(repo, run.head_repo_name(), run.updated_at.as_deref(), &self.release);
        RunLocation::new(b, run.id, self.platform)
    }

    pub async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error> {
        let key = loc.s3_uri();
        if let Some(l) = self.listings.lock().await.get(&key) {
            return Ok(l.clone());
        }
        self.listed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let objects = self.s3.list_prefix(&loc.bucket, &loc.prefix()).await?;
        let l = Arc::new(RunListing::from_objects(&objects));
        self.listings.lock().await.insert(key, l.clone());
        Ok(l)
    }

    /// The group's hit in this run, if the run holds at least one target-specific archive of it.
    pub async fn group_in_run(&self, repo: &Repo, run: &Run, group: &ArtifactGroup, required: &[(String, regex::Regex)]) -> Result<Option<Hit>, S3Error> {
        let location = self.location(repo, run);
        let listing = self.listing(&location).await?;
        if !listing.has_group(group) {
            return Ok(None);
        }
        let archives: Vec<(ArtifactName, u64)> = listing.for_group(group).into_iter().cloned().collect();
        let missing = required.iter().filter(|(_, re)| !archives.iter().any(|(a, _)| re.is_match(&a.filename))).map(|(s, _)| s.clone()).collect();
        Ok(Some(Hit {
            group: group.clone(),
            repo: repo.clone(),
            run: run.clone(),
            location,
            listing,
            archives,
            required: required.iter().map(|(s, _)| s.clone()).collect(),
            missing,
        }))
    }
}
