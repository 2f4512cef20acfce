//! Small files the cache keeps beside its blobs (a commit's `BUILD_TOPOLOGY.toml`), under the
//! same rule as the blobs: read only what nobody but the user can have put there.

use std::io;
use std::path::Path;

use super::cache::{owned, private_dir, trusted_file};

/// The text of a small file the cache keeps beside its blobs (a commit's topology), only when
/// nobody but the user can have put it there: a regular file of theirs that neither group nor
/// others may write, in a directory of theirs likewise. `None` otherwise (asked for again).
pub fn read(p: &Path) -> Option<String> {
    let dir = std::fs::symlink_metadata(p.parent()?).ok()?;
    if !dir.is_dir() || !owned(&dir) || !trusted_file(p) {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// Keeps `text` at `p` for `read`: the directory made the user's alone (0700), the file
/// written beside it and renamed into place (a symlink planted at `p` is replaced, never
/// followed).
pub fn write(p: &Path, text: &str) -> io::Result<()> {
    let dir = p.parent().ok_or_else(|| io::Error::other("no directory"))?;
    private_dir(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(p).map_err(|e| e.error)?;
    Ok(())
}
