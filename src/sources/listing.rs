//! Listings: from a run to its bucket, prefix and archive listing (listed once per run), and
//! the run's TheRock manifest. The S3 implementation of `ListingSource`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::ListingSource;
use crate::domain::artifacts::RunListing;
use crate::domain::buckets::{run_bucket, Platform, ReleaseType, Repo, RunLocation};
use crate::domain::manifest::{Manifest, MANIFEST_KEY};
use crate::domain::run::Run;
use crate::s3::{S3Error, S3};

/// The largest manifest read.
const MAX_MANIFEST: usize = 4 << 20;

pub struct Locator {
    pub s3: S3,
    pub platform: Platform,
    pub release: ReleaseType,
    /// Listings by S3 URI; no lock is held across an await.
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

    /// Counts listings made elsewhere (release tarballs: one per page).
    pub fn count_listings(&self, n: u64) {
        self.listed.fetch_add(n, Ordering::Relaxed);
    }

    fn cached(&self, key: &str) -> Option<Arc<RunListing>> {
        self.listings.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
    }
}

#[async_trait::async_trait]
impl ListingSource for Locator {
    fn location(&self, repo: &Repo, run: &Run) -> RunLocation {
        let b = run_bucket(&repo.canonical(run.repo.as_deref()), run.head_repo.as_deref(), run.updated_at.as_deref(), &self.release);
        RunLocation::new(b, run.id, self.platform)
    }

    async fn manifest(&self, loc: &RunLocation) -> Option<Manifest> {
        let key = format!("{}{MANIFEST_KEY}", loc.prefix());
        let body = self.s3.get_small(&loc.bucket, &key, MAX_MANIFEST).await.ok()??;
        Manifest::parse(&body)
    }

    async fn listing(&self, loc: &RunLocation) -> Result<Arc<RunListing>, S3Error> {
        let key = loc.s3_uri();
        if let Some(l) = self.cached(&key) {
            return Ok(l);
        }
        self.listed.fetch_add(1, Ordering::Relaxed);
        let objects = self.s3.list_prefix(&loc.bucket, &loc.prefix()).await?;
        let l = Arc::new(RunListing::from_objects(&objects));
        self.listings.lock().unwrap_or_else(PoisonError::into_inner).insert(key, l.clone());
        Ok(l)
    }
}
