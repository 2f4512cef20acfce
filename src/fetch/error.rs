//! Every way fetching one archive can fail, told apart by type (a mismatch and a replaced
//! object are retried; everything else ends the fetch). A cause (an `io::Error`, a join error,
//! an S3 error) is kept as the error's source and never repeated in its message: printed as a
//! chain (`{:#}`), each part appears once.

use std::path::PathBuf;
use std::time::Duration;

use super::extract::{full_note, ExtractError, Unsafe};
use crate::domain::digest::Sha256;
use crate::s3::S3Error;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("checksum mismatch for archive {archive}: the .sha256sum sidecar says {expected}, the {} has {actual}", if *cached { "cached copy" } else { "download" })]
    Mismatch { archive: String, expected: Sha256, actual: Sha256, cached: bool },
    /// The object no longer had the listing's ETag during the download.
    #[error("{detail}")]
    Replaced { archive: String, detail: String },
    #[error("archive {archive} changed on S3 twice while it was being fetched; run the command again when the run's uploads have finished")]
    ReplacedTwice { archive: String },
    #[error("the checksum sidecar of archive {archive} is malformed (expected a SHA-256 hex digest)")]
    BadSidecar { archive: String },
    #[error("could not download {archive}")]
    Download {
        archive: String,
        #[source]
        why: DownloadFailure,
    },
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("{what}{}", full_note(source))]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write into {}: it is a system directory (or holds a root file system); pass --force if that is really meant", .0.display())]
    SystemDir(PathBuf),
    #[error("the output directory {} is a file", .0.display())]
    NotADirectory(PathBuf),
    /// Found once the archives were merged into the output (the extraction's own finds come as
    /// `Extract`; `unsafe_archive` sees both).
    #[error(transparent)]
    Unsafe(#[from] Unsafe),
    #[error("a fetch worker failed")]
    Worker(#[from] tokio::task::JoinError),
    #[error("cancelled: another archive failed")]
    Cancelled,
}

impl FetchError {
    pub fn io(what: impl Into<String>, err: std::io::Error) -> Self {
        FetchError::Io { what: what.into(), source: err }
    }

    /// The unsafe archive this failure refused, whichever step found it (for the exit status,
    /// which the front end chooses).
    #[allow(dead_code)]
    pub fn unsafe_archive(&self) -> Option<&Unsafe> {
        match self {
            FetchError::Unsafe(u) | FetchError::Extract(ExtractError::Unsafe(u)) => Some(u),
            _ => None,
        }
    }
}

/// Why the bytes of an archive could not be had from S3.
#[derive(Debug, thiserror::Error)]
pub enum DownloadFailure {
    #[error("download failed after {attempts} attempts")]
    Exhausted {
        attempts: u32,
        #[source]
        last: S3Error,
    },
    #[error("download broke {attempts} times, last")]
    Broke {
        attempts: u32,
        #[source]
        last: Broken,
    },
    #[error("the object ended early at byte {at} of {size}")]
    EndedEarly { at: u64, size: u64 },
    #[error("the server sent more than bytes {start}-{end} of {archive} (it ignored the Range request, or the object changed)")]
    Overlong { start: u64, end: u64, archive: String },
    #[error("a download task failed")]
    Task(#[source] tokio::task::JoinError),
    #[error("interrupted by {0}")]
    Interrupted(&'static str),
}

/// How a body stream broke off.
#[derive(Debug, thiserror::Error)]
pub enum Broken {
    #[error(transparent)]
    Body(#[from] aws_sdk_s3::primitives::ByteStreamError),
    #[error("no data for {} s", .0.as_secs())]
    Stalled(Duration),
}

/// `e` and its causes on one line, as `{:#}` prints an `anyhow::Error`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
