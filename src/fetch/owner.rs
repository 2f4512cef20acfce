//! Ownership of what a fetch placed: run as root (a container action) into a directory another
//! user owns (the workspace owner's `build/`, made by an earlier step), everything this fetch
//! placed is handed to that directory's owner, so later steps, run as that user, can write
//! into it. Nothing else in the output is touched, and no symlink is followed.

use std::path::Path;

/// Gives every entry in `placed` (and everything below a placed directory) the owner and group
/// of `out`, when this process is root and `out` is someone else's. Best effort: a failure is
/// warned about, never fatal.
#[cfg(unix)]
pub fn hand_over(out: &Path, placed: &[std::path::PathBuf]) {
    use std::os::unix::fs::MetadataExt;
    let Ok(top) = std::fs::symlink_metadata(out) else { return };
    let me = super::cache::euid();
    if me != 0 || top.uid() == me {
        return;
    }
    let (uid, gid) = (top.uid(), top.gid());
    for p in placed {
        if let Err(e) = chown_tree(p, uid, gid) {
            crate::say!("warning: cannot give {} the owner of {} (uid {uid}): {e}", p.display(), out.display());
        }
    }
}

/// `p` and, for a directory, everything below it, to `uid:gid`; symlinks are changed themselves,
/// never followed.
#[cfg(unix)]
pub fn chown_tree(p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid))?;
    if std::fs::symlink_metadata(p)?.is_dir() {
        for e in std::fs::read_dir(p)? {
            chown_tree(&e?.path(), uid, gid)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn hand_over(_out: &Path, _placed: &[std::path::PathBuf]) {}
