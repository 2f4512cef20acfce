//! Locks: one fetch at a time into an output directory (the next one waits), and temporary files
//! that say, by a lock held while their owner lives, whether their owner is gone.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use super::commit::{recover_staging, Key};
use super::error::FetchError;
use crate::blocking::blocking;

/// Names the tool gives its temporary entries in an output directory.
pub const STAGING_PREFIX: &str = ".therock-artifacts-staging-";

/// Held while a fetch writes into an output directory.
pub struct OutputLock {
    _file: File,
}

fn lock_file(dir: &Path) -> io::Result<File> {
    // A directory can be locked itself on Unix, leaving nothing behind in the output.
    #[cfg(unix)]
    return File::open(dir);
    #[cfg(not(unix))]
    return std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".therock-artifacts.lock"));
}

/// Takes the output directory's lock, waiting (and saying so) while another fetch holds it;
/// then removes what fetches that died (killed, or the machine lost power) left behind.
pub async fn lock_output(dir: &Path, key: Result<&Key, &io::Error>) -> Result<OutputLock, FetchError> {
    let f = lock_file(dir).map_err(|e| FetchError::io(format!("cannot lock the output directory {}", dir.display()), e))?;
    let f = match f.try_lock() {
        Ok(()) => f,
        Err(TryLockError::WouldBlock) => {
            crate::say!("waiting for another fetch into {}", dir.display());
            let waited = blocking(move || f.lock().map(|_| f)).await?;
            waited.map_err(|e| FetchError::io(format!("cannot lock the output directory {}", dir.display()), e))?
        }
        Err(TryLockError::Error(e)) => return Err(FetchError::io(format!("cannot lock the output directory {}", dir.display()), e)),
    };
    let (d, key) = (dir.to_path_buf(), key.cloned().map_err(|e| io::Error::new(e.kind(), e.to_string())));
    blocking(move || remove_stale_staging(&d, key.as_ref())).await?;
    Ok(OutputLock { _file: f })
}

/// With the output lock held, every staging tree in the output belongs to a fetch that is gone
/// (or was planted: only a journal signed with `key` is acted on).
fn remove_stale_staging(dir: &Path, key: Result<&Key, &io::Error>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
            recover_staging(dir, &e.path(), key);
        }
    }
}

/// A temporary file whose owner holds a lock on it while it lives. The lock is held through a
/// handle of its own, so it outlasts the writer's handle until the file is renamed or removed.
/// Dropped without `into_lock` or `keep`, the file is removed: every early return cleans up.
pub struct OwnedTemp {
    pub path: PathBuf,
    lock: Option<File>,
}

impl OwnedTemp {
    /// The lock, to keep it after the file was renamed away.
    pub fn into_lock(mut self) -> File {
        self.lock.take().expect("an OwnedTemp holds its lock until it is consumed")
    }

    /// Keeps the file (and lets its lock go): it is the result.
    pub fn keep(mut self) -> PathBuf {
        self.lock = None;
        std::mem::take(&mut self.path)
    }

    /// Creates `path` and locks it. It is created under another name and takes `path` only once
    /// locked, so a cleaner looking for unlocked `*.partial` files never sees it unlocked.
    pub fn create(path: PathBuf) -> io::Result<(OwnedTemp, File)> {
        let fresh = path.with_extension("new");
        let writer = File::create(&fresh)?;
        let lock = File::open(&fresh)?;
        let locked = lock.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => io::Error::other("a new temporary file is locked by someone else"),
        });
        if let Err(e) = locked.and_then(|_| std::fs::rename(&fresh, &path)) {
            let _ = std::fs::remove_file(&fresh);
            return Err(e);
        }
        Ok((OwnedTemp { path, lock: Some(lock) }, writer))
    }
}

impl Drop for OwnedTemp {
    fn drop(&mut self) {
        if self.lock.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the files in `dir` named `*.partial` whose owner is gone (nobody holds their lock).
pub fn remove_orphaned_partials(dir: &Path) {
    if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return; // never through a symlink
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "partial") {
            continue;
        }
        let Ok(f) = File::open(&p) else { continue };
        if f.try_lock().is_ok() {
            let _ = std::fs::remove_file(&p);
        }
    }
}
