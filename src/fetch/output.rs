//! The output directory: made ready before a fetch, and given the staged trees (or archives)
//! only after every archive verified, in plan order, by extract mode.
//!
//! The commit is journaled: whatever it replaces is set aside (renamed, never deleted) and
//! everything it places is recorded, so a failure half-way (a full disk, a mount point inside
//! the output, a symlink that leads outside once merged) puts the output back as it was. Every
//! entry takes its final name by a rename; across filesystems it is copied to a temporary name
//! next to its destination first.

use std::io;
use std::path::{Path, PathBuf};

use super::error::FetchError;
use super::extract::remove_path;
use super::tree::{self, Escape};
use super::FetchedArchive;
use crate::config::ExtractMode;
use crate::domain::artifacts::prebuilt_stage;

/// Directories no fetch should write into: a file system's root and the system's own.
const SYSTEM_DIRS: &[&str] = &["/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var"];

/// Whether `dir` (a real path) is a system directory, or holds what a root file system holds
/// (`usr` and `etc`, or `bin` as a link into `usr`).
fn is_system_dir(dir: &Path) -> bool {
    if SYSTEM_DIRS.iter().any(|s| dir == Path::new(s)) || dir.parent().is_none() {
        return true;
    }
    let is_dir = |n: &str| std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_dir());
    let links_into_usr = |n: &str| std::fs::read_link(dir.join(n)).is_ok_and(|t| t.starts_with("usr") || t.starts_with("/usr"));
    (is_dir("usr") && is_dir("etc")) || ["bin", "sbin", "lib"].iter().any(|n| links_into_usr(n))
}

/// Creates the output directory if needed and checks it is writable; returns its real path.
/// A system directory is refused unless `force`.
pub fn prepare(dir: &Path, force: bool) -> Result<PathBuf, FetchError> {
    if !force {
        if let Ok(real) = std::fs::canonicalize(dir) {
            if is_system_dir(&real) {
                return Err(FetchError::OutputDir(format!(
                    "refusing to write into {}: it is a system directory (or holds a root file system); pass --force if that is really meant",
                    real.display()
                )));
            }
        }
    }
    if let Ok(m) = std::fs::metadata(dir) {
        if !m.is_dir() {
            return Err(FetchError::OutputDir(format!("the output directory {} is a file", dir.display())));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| FetchError::io(format!("cannot create the output directory {}", dir.display()), e))?;
    let probe = dir.join(format!(".therock-artifacts-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| FetchError::io(format!("the output directory {} is not writable", dir.display()), e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

enum Step {
    /// A new entry at this path.
    Placed(PathBuf),
    /// What stood at `to` now waits at `from`.
    SetAside { from: PathBuf, to: PathBuf },
    /// A directory the commit created.
    Created(PathBuf),
}

/// The commit's record of what it did, to finish or undo.
struct Journal {
    steps: Vec<Step>,
    /// Where replaced entries wait (inside staging, on the output's filesystem).
    trash: PathBuf,
    seq: u64,
}

fn is_cross_device(e: &io::Error) -> bool {
    e.raw_os_error() == Some(18) // EXDEV on Linux and macOS
}

impl Journal {
    fn new(trash: PathBuf) -> Self {
        Journal { steps: Vec::new(), trash, seq: 0 }
    }

    fn next_name(&mut self, what: &str) -> String {
        self.seq += 1;
        format!(".therock-artifacts-{what}-{}-{}", std::process::id(), self.seq)
    }

    /// Renames whatever is at `p` out of the way (nothing is deleted before the commit ends).
    fn set_aside(&mut self, p: &Path) -> io::Result<()> {
        if std::fs::symlink_metadata(p).is_err() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.trash)?;
        let name = self.next_name("old");
        let mut from = self.trash.join(name);
        if let Err(e) = std::fs::rename(p, &from) {
            if !is_cross_device(&e) {
                return Err(e);
            }
            // On a mount point inside the output: aside, next to it.
            from = p.with_file_name(self.next_name("old"));
            std::fs::rename(p, &from)?;
        }
        self.steps.push(Step::SetAside { from, to: p.to_path_buf() });
        Ok(())
    }

    /// Moves `src` (a staged entry) to `dst`, replacing what is there.
    fn place(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        self.set_aside(dst)?;
        match std::fs::rename(src, dst) {
            Ok(()) => {}
            Err(e) if is_cross_device(&e) => self.copy_in(src, dst)?,
            Err(e) => return Err(e),
        }
        self.steps.push(Step::Placed(dst.to_path_buf()));
        Ok(())
    }

    /// Copies `src` (a file, or a tree) to a temporary name next to `dst`, then renames it.
    fn copy_in(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let tmp = dst.with_file_name(self.next_name("new"));
        let res = copy_tree(src, &tmp).and_then(|_| std::fs::rename(&tmp, dst));
        if res.is_err() {
            let _ = remove_path(&tmp);
        }
        res
    }

    /// Places a copy (or a hard link) of a cached blob at `dst`.
    fn place_copy(&mut self, blob: &Path, dst: &Path) -> io::Result<()> {
        self.set_aside(dst)?;
        let tmp = dst.with_file_name(self.next_name("new"));
        let res = std::fs::hard_link(blob, &tmp).or_else(|_| std::fs::copy(blob, &tmp).map(|_| ())).and_then(|_| std::fs::rename(&tmp, dst));
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res?;
        self.steps.push(Step::Placed(dst.to_path_buf()));
        Ok(())
    }

    /// Makes `p` a real directory (a symlink or file there is set aside, never followed).
    fn real_dir(&mut self, p: &Path) -> io::Result<()> {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => self.set_aside(p)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir(p)?;
        self.steps.push(Step::Created(p.to_path_buf()));
        Ok(())
    }

    /// Every directory from `base` down to `p` a real directory.
    fn real_dirs(&mut self, base: &Path, rel: &[&str]) -> io::Result<PathBuf> {
        let mut p = base.to_path_buf();
        for c in rel {
            p.push(c);
            self.real_dir(&p)?;
        }
        Ok(p)
    }

    /// Moves a staged tree into `dest`, merging directories; whole subtrees move with one
    /// rename where the destination lacks them. Never follows a symlink in the destination.
    fn merge(&mut self, staged: &Path, dest: &Path) -> io::Result<()> {
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => {}
            _ => return self.place(staged, dest),
        }
        let mut names: Vec<_> = std::fs::read_dir(staged)?.collect::<Result<Vec<_>, _>>()?;
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let (src, dst) = (e.path(), dest.join(e.file_name()));
            let both_dirs = e.file_type()?.is_dir() && std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir());
            if both_dirs {
                self.merge(&src, &dst)?;
            } else {
                self.place(&src, &dst)?;
            }
        }
        Ok(())
    }

    /// Puts the output back as it was.
    fn rollback(self) {
        for step in self.steps.into_iter().rev() {
            let _ = match step {
                Step::Placed(p) => remove_path(&p),
                Step::SetAside { from, to } => std::fs::rename(&from, &to),
                Step::Created(p) => std::fs::remove_dir(&p),
            };
        }
    }

    /// Deletes what was set aside.
    fn finish(self) {
        for step in self.steps {
            if let Step::SetAside { from, .. } = step {
                let _ = remove_path(&from);
            }
        }
    }
}

fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    let m = std::fs::symlink_metadata(src)?;
    if m.file_type().is_symlink() {
        let t = std::fs::read_link(src)?;
        #[cfg(unix)]
        return std::os::unix::fs::symlink(t, dst);
        #[cfg(windows)]
        return std::os::windows::fs::symlink_file(t, dst);
    }
    if m.is_dir() {
        std::fs::create_dir(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
        return std::fs::set_permissions(dst, m.permissions());
    }
    std::fs::copy(src, dst).map(|_| ())
}

/// Where an archive's staged root lands in the output.
fn landing(out: &Path, mode: ExtractMode, d: &FetchedArchive) -> PathBuf {
    match mode {
        ExtractMode::PerArtifact => out.join(d.filename.split('.').next().unwrap_or(&d.filename)),
        _ => out.to_path_buf(),
    }
}

/// Moves staged trees (or verified archives) into the output, in plan order, then checks every
/// symlink the archives brought still leads inside the output once merged with what was there.
/// On any failure the output is put back as it was.
pub fn commit(out: &Path, mode: ExtractMode, done: &[FetchedArchive], trash: PathBuf) -> Result<(), FetchError> {
    let mut j = Journal::new(trash);
    let res = commit_all(&mut j, out, mode, done).and_then(|_| check_links(out, mode, done));
    match res {
        Ok(()) => {
            j.finish();
            Ok(())
        }
        Err(e) => {
            j.rollback();
            Err(e)
        }
    }
}

fn commit_all(j: &mut Journal, out: &Path, mode: ExtractMode, done: &[FetchedArchive]) -> Result<(), FetchError> {
    let mut cleared = std::collections::HashSet::new();
    let failed = |d: &FetchedArchive, e: io::Error| {
        let hint = if is_cross_device(&e) { " (a mount point inside the output?)" } else { "" };
        FetchError::io(format!("cannot move the files of {} into {}{hint}", d.filename, out.display()), e)
    };
    for d in done {
        match (mode, &d.staged, &d.blob) {
            (ExtractMode::Archives, Some(s), _) => j.place(s, &out.join(&d.filename)).map_err(|e| failed(d, e))?,
            (ExtractMode::Archives, None, Some(blob)) => j.place_copy(blob, &out.join(&d.filename)).map_err(|e| failed(d, e))?,
            (ExtractMode::Bootstrap, staged, _) => {
                for line in &d.manifest {
                    let stage = prebuilt_stage(line);
                    if cleared.insert(stage.to_string()) {
                        mark_prebuilt(j, out, stage)
                            .map_err(|e| FetchError::io(format!("cannot prepare {} for {}", out.join(stage).display(), d.filename), e))?;
                    }
                }
                if let Some(s) = staged {
                    j.merge(s, out).map_err(|e| failed(d, e))?;
                }
            }
            // Per artifact, like upstream: `OUT/{stem}/` is replaced whole, never merged into.
            (ExtractMode::PerArtifact, Some(s), _) => j.place(s, &landing(out, mode, d)).map_err(|e| failed(d, e))?,
            (_, Some(s), _) => j.merge(s, &landing(out, mode, d)).map_err(|e| failed(d, e))?,
            _ => {}
        }
    }
    Ok(())
}

/// `bootstrap` mode: clears a stage directory and writes its `.prebuilt` marker. Every
/// directory above it is made a real directory (a symlink on the way is set aside, never
/// followed: clearing through it would delete files outside the output).
fn mark_prebuilt(j: &mut Journal, out: &Path, line: &str) -> io::Result<()> {
    let comps: Vec<&str> = line.split('/').collect();
    let parent = j.real_dirs(out, &comps[..comps.len().saturating_sub(1)])?;
    j.set_aside(&parent.join(comps[comps.len() - 1]))?;
    let marker = out.join(format!("{line}.prebuilt"));
    j.set_aside(&marker)?;
    std::fs::write(&marker, b"")?;
    j.steps.push(Step::Placed(marker));
    Ok(())
}

/// Every symlink the archives brought, followed through the committed output (its own links
/// and any already there), must stay inside the output (inside `OUT/{stem}` per artifact).
fn check_links(out: &Path, mode: ExtractMode, done: &[FetchedArchive]) -> Result<(), FetchError> {
    for d in done {
        let root = landing(out, mode, d);
        let link_at = |p: &[String]| {
            let path = p.iter().fold(root.clone(), |acc, c| acc.join(c));
            std::fs::symlink_metadata(&path).ok().filter(|m| m.file_type().is_symlink()).and_then(|_| std::fs::read_link(&path).ok())
        };
        for rel in &d.symlinks {
            let Some(target) = link_at(rel) else { continue }; // replaced by a later archive
            if let Err(e) = tree::resolve(&rel[..rel.len() - 1], &target, &link_at) {
                let how = if e == Escape::Loop { "is part of a symlink loop" } else { "leads outside the output directory" };
                return Err(FetchError::OutputDir(format!(
                    "archive {} is unsafe: its symlink '{}' -> '{}' {how} once merged with {}",
                    d.filename,
                    rel.join("/"),
                    target.display(),
                    out.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn merge_replaces_and_moves_subtrees_and_never_follows_a_destination_symlink() {
        let d = tempfile::tempdir().unwrap();
        let (s, o) = (d.path().join("s"), d.path().join("o"));
        fs::create_dir_all(s.join("a/b")).unwrap();
        fs::write(s.join("a/b/f"), "new").unwrap();
        fs::write(s.join("top"), "t").unwrap();
        fs::create_dir_all(o.join("a")).unwrap();
        fs::write(o.join("a/keep"), "k").unwrap();
        fs::create_dir_all(o.join("real")).unwrap();
        std::os::unix::fs::symlink(o.join("real"), o.join("top")).unwrap();
        let mut j = Journal::new(d.path().join("trash"));
        j.merge(&s, &o).unwrap();
        j.finish();
        assert_eq!(fs::read_to_string(o.join("a/b/f")).unwrap(), "new");
        assert_eq!(fs::read_to_string(o.join("a/keep")).unwrap(), "k");
        assert!(fs::symlink_metadata(o.join("top")).unwrap().is_file(), "a symlink in the destination is replaced, not followed");
        assert!(!d.path().join("trash").exists() || fs::read_dir(d.path().join("trash")).unwrap().count() == 0);
    }

    #[test]
    fn a_rollback_puts_the_output_back_as_it_was() {
        let d = tempfile::tempdir().unwrap();
        let (s, o) = (d.path().join("s"), d.path().join("o"));
        fs::create_dir_all(s.join("a")).unwrap();
        fs::write(s.join("a/f"), "new").unwrap();
        fs::write(s.join("g"), "new").unwrap();
        fs::create_dir_all(o.join("a")).unwrap();
        fs::write(o.join("a/f"), "old").unwrap();
        let mut j = Journal::new(d.path().join("trash"));
        j.merge(&s, &o).unwrap();
        assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "new");
        j.rollback();
        assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "old");
        assert!(!o.join("g").exists());
    }
}
