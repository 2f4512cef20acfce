//! Every way fetching one archive can fail, told apart by type (a mismatch and a replaced
//! object are retried; everything else ends the fetch).

use super::extract::ExtractError;
use crate::s3::S3Error;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("checksum mismatch for archive {archive}: the .sha256sum sidecar says {expected}, the {} has {actual}", if *cached { "cached copy" } else { "download" })]
    Mismatch { archive: String, expected: String, actual: String, cached: bool },
    /// The object no longer had the listing's ETag during the download.
    #[error("{detail}")]
    Replaced { archive: String, detail: String },
    #[error("archive {archive} changed on S3 twice while it was being fetched; run the command again when the run's uploads have finished")]
    ReplacedTwice { archive: String },
    #[error("the checksum sidecar of archive {archive} is malformed (expected a SHA-256 hex digest)")]
    BadSidecar { archive: String },
    #[error("could not download {archive}: {why}")]
    Download { archive: String, why: String },
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("{what}: {err}")]
    Io { what: String, err: std::io::Error },
    #[error("{0}")]
    OutputDir(String),
    #[error("a fetch worker failed: {0}")]
    Worker(String),
    #[error("cancelled: another archive failed")]
    Cancelled,
}

impl FetchError {
    pub fn io(what: impl Into<String>, err: std::io::Error) -> Self {
        FetchError::Io { what: what.into(), err }
    }
}
