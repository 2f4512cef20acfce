//! Locate: from a run to its bucket, prefix and archive listing (listed once per run).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

use crate::domain::artifacts::RunListing;
use crate::domain::buckets::{run_bucket, Platform, ReleaseType, Repo, RunLocation};
use crate::domain::run::Run;
use crate::s3::{S3Error, S3};

pub struct Locator {
    pub s3: S3,
    pub platform: Platform,
    pub release: ReleaseType,
    listings: Mutex<HashMap<String, Arc<RunListing>>>,
    listed: AtomicU64,
}

impl Locator {
    pub fn new(s3: S3, platform: Platform, release: ReleaseType) -> Self {
        Locator { s3, platform, release, listings: Mutex::new(HashMap::new()), listed: AtomicU64::new(0) }
    }

    /// How many run prefixes were listed (for the request budget in tests).
    pub fn listings_made(&self) -> u64 {
        self.listed.load(Ordering::Relaxed)
    }

    pub fn location(&self, repo: &Repo, run: &Run) -> RunLocation {
        let b = run_bucket(&repo.canonical(run.repo.as_deref()), run.head_repo.as_deref(), run.updated_at.as_deref(), &self.release);
        RunLocation::new(b, run.id, self.platform)
    }

    /// `the_rock_commit` of the run's `manifests/therock_manifest.json`, when it has one.
    pub async fn therock_commit(&self, loc: &RunLocation) -> Option<String> {
        let key = format!("{}manifests/therock_manifest.json", loc.prefix());
        let body = self.s3.get_small(&loc.bucket, &key, 4 << 20).await.ok()??;
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        let c = v.get("the_rock_commit")?.as_str()?.trim().to_ascii_lowercase();
        crate::domain::pins::is_full_sha(&c).then_some(c)
    }

    pub async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error> {
        let key = loc.s3_uri();
        if let Some(l) = self.listings.lock().await.get(&key) {
            return Ok(l.clone());
        }
        self.listed.fetch_add(1, Ordering::Relaxed);
        let objects = self.s3.list_prefix(&loc.bucket, &loc.prefix()).await?;
        let l = Arc::new(RunListing::from_objects(&objects));
        self.listings.lock().await.insert(key, l.clone());
        Ok(l)
    }
}
