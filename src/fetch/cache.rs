//! The content-addressed archive cache: `blobs/sha256/{digest}` hold verified archives,
//! `refs/{hash of bucket, key, ETag, size}` name the digest of a listed object, `tmp/` holds
//! downloads in progress. A blob appears under its name only once complete and verified.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use super::error::FetchError;
use super::lock::{remove_orphaned_partials, OwnedTemp};
use super::plan::Planned;

pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Self {
        Cache { root }
    }

    /// The cache at `root`, if it can be written (a full or read-only disk cannot); downloads
    /// an earlier run left behind when it was killed are removed.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        std::fs::create_dir_all(root.join("blobs").join("sha256"))?;
        let probe = tmp.join(format!("probe-{}-{}", std::process::id(), fastrand::u64(..)));
        let res = std::fs::write(&probe, [0u8; 4096]);
        let _ = std::fs::remove_file(&probe);
        res?;
        remove_orphaned_partials(&tmp);
        Ok(Cache { root })
    }

    pub fn blob(&self, sha: &str) -> PathBuf {
        self.root.join("blobs").join("sha256").join(sha)
    }

    /// Where the digest of this exact object (bucket, key, ETag, size) is recorded.
    pub fn reference(&self, p: &Planned) -> Option<PathBuf> {
        let etag = p.etag.as_deref()?;
        let mut h = Sha256::new();
        h.update(format!("{}/{}@{}:{}", p.bucket, p.key, etag, p.size));
        Some(self.root.join("refs").join(hex::encode(h.finalize())))
    }

    /// The cached blob for `p`: by the expected digest, or by the object's reference when there
    /// is no digest to go by.
    pub fn lookup(&self, p: &Planned, expected: Option<&str>) -> Option<PathBuf> {
        let by_ref = || self.reference(p).and_then(|r| std::fs::read_to_string(r).ok()).map(|s| self.blob(s.trim()));
        expected.map(|e| self.blob(e)).or_else(by_ref).filter(|b| b.is_file())
    }

    /// A fresh temporary file for a download in progress, locked while this process lives.
    pub fn tmp(&self) -> Result<(OwnedTemp, std::fs::File), FetchError> {
        let d = self.root.join("tmp");
        std::fs::create_dir_all(&d).map_err(|e| FetchError::io(format!("cannot create the cache directory {}", d.display()), e))?;
        let p = d.join(format!("{}-{}.partial", std::process::id(), fastrand::u64(..)));
        OwnedTemp::create(p.clone()).map_err(|e| FetchError::io(format!("cannot write the cache file {}", p.display()), e))
    }

    /// Whether the blob still has the digest it is named by (a torn write, a flipped bit or
    /// bytes appended after a crash do not).
    pub fn blob_intact(blob: &Path) -> bool {
        let Some(name) = blob.file_name().map(|n| n.to_string_lossy().into_owned()) else { return false };
        let Ok(mut f) = std::fs::File::open(blob) else { return false };
        let mut h = Sha256::new();
        std::io::copy(&mut f, &mut h).is_ok() && hex::encode(h.finalize()) == name
    }

    /// Moves a verified download into place under its digest and records the object's reference.
    pub fn publish(&self, tmp: &Path, sha: &str, p: &Planned) -> Result<PathBuf, FetchError> {
        let b = self.blob(sha);
        std::fs::create_dir_all(b.parent().unwrap_or(&self.root)).map_err(|e| FetchError::io("cannot create the cache directory", e))?;
        std::fs::rename(tmp, &b).map_err(|e| FetchError::io(format!("cannot move {} into the cache", p.name.filename), e))?;
        if let Some(r) = self.reference(p) {
            if let Some(parent) = r.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let rt = r.with_extension(format!("{}.tmp", fastrand::u64(..)));
            if std::fs::write(&rt, sha).is_ok() {
                let _ = std::fs::rename(&rt, &r);
            }
        }
        Ok(b)
    }

    /// Bytes held in blobs.
    pub fn size(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| match e.file_type() {
                            Ok(t) if t.is_dir() => walk(&e.path()),
                            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.root.join("blobs"))
    }
}
