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
    #[error("{change}")]
    Replaced { archive: String, change: S3Error },
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
    /// The output holds another commit's files and this mode would mix them (`domain::mixing`).
    #[error("{0}")]
    Mixed(String),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn a_full_disk_is_told_by_kind_and_names_the_path_it_happened_on() {
        let cache = FetchError::io("cannot write the cache file /c/tmp/1.partial", io::Error::from(io::ErrorKind::StorageFull));
        assert!(chain(&cache).starts_with("cannot write the cache file /c/tmp/1.partial (the file system it is on is full): "), "{}", chain(&cache));
        let staged = ExtractError::Write {
            archive: "a.tar.zst".into(),
            path: "/out/.staging/0/lib/x".into(),
            source: io::Error::from_raw_os_error(if cfg!(windows) { 112 } else { 28 }),
        }; // ENOSPC; ERROR_DISK_FULL
        let text = chain(&FetchError::from(staged));
        assert!(text.starts_with("could not write /out/.staging/0/lib/x while extracting a.tar.zst (the file system it is on is full): "), "{text}");
        let denied = FetchError::io("cannot create the output directory /o", io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!chain(&denied).contains("full"), "{}", chain(&denied));
    }

    #[test]
    fn a_cause_is_printed_once_in_the_chain() {
        let e =
            FetchError::Download { archive: "a.tar.zst".into(), why: DownloadFailure::Broke { attempts: 6, last: Broken::Stalled(Duration::from_secs(60)) } };
        assert_eq!(chain(&e), "could not download a.tar.zst: download broke 6 times, last: no data for 60 s");
        assert_eq!(format!("{:#}", anyhow::Error::from(e)), "could not download a.tar.zst: download broke 6 times, last: no data for 60 s");
    }

    #[test]
    fn an_unsafe_archive_is_one_type_whichever_step_found_it() {
        let by_extract = FetchError::from(ExtractError::from(Unsafe { by: super::super::extract::UnsafeBy::Archive("e.tar.zst".into()), why: "x".into() }));
        assert_eq!(by_extract.to_string(), "archive e.tar.zst is unsafe: x");
        let by_merge = FetchError::Unsafe(Unsafe { by: super::super::extract::UnsafeBy::Together(vec!["a".into(), "b".into()]), why: "y".into() });
        assert_eq!(by_merge.to_string(), "the archives of this fetch (a, b) are unsafe: y");
        assert!(by_extract.unsafe_archive().is_some() && by_merge.unsafe_archive().is_some());
        assert!(FetchError::Cancelled.unsafe_archive().is_none());
    }
}
