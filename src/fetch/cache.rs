//! The content-addressed archive cache: `blobs/sha256/{digest}` hold verified archives,
//! `refs/{hash of bucket, key, ETag, size}` name the digest of a listed object, `tmp/` holds
//! downloads in progress. A blob appears under its name only once complete and verified.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use super::error::FetchError;
use super::plan::Planned;

pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Self {
        Cache { root }
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

    /// A fresh temporary file name for a download in progress.
    pub fn tmp(&self) -> Result<PathBuf, FetchError> {
        let d = self.root.join("tmp");
        std::fs::create_dir_all(&d).map_err(|e| FetchError::io(format!("cannot create the cache directory {}", d.display()), e))?;
        Ok(d.join(format!("{}-{}.partial", std::process::id(), fastrand::u64(..))))
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
