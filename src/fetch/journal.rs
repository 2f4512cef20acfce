//! The commit's journal: whatever the commit replaces is set aside (renamed, never deleted) and
//! everything it places is recorded, so a failure half-way puts the output back as it was.
//! Every entry takes its final name by a rename; across file systems it is copied to a
//! temporary name next to its destination first.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::extract::remove_path;
use super::windows::rename;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Step {
    /// A new entry at this path.
    Placed(PathBuf),
    /// What stood at `to` now waits at `from`.
    SetAside { from: PathBuf, to: PathBuf },
    /// A directory the commit created.
    Created(PathBuf),
}

/// The commit's record of what it did, to finish or undo; also written, step by step, to
/// `journal.jsonl` in the staging directory, so a commit killed half-way is undone by the next
/// fetch into the same output.
pub struct Journal {
    pub steps: Vec<Step>,
    /// Where replaced entries wait (inside staging, on the output's filesystem).
    trash: PathBuf,
    seq: u64,
    log: Option<(PathBuf, std::fs::File)>,
}

pub const LOG: &str = "journal.jsonl";

pub fn is_cross_device(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::CrossesDevices // EXDEV; ERROR_NOT_SAME_DEVICE on Windows
}

impl Journal {
    /// A journal whose replaced entries wait in `staging/replaced`, logged to `staging/journal.jsonl`.
    pub fn new(staging: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(staging)?;
        let path = staging.join(LOG);
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Journal { steps: Vec::new(), trash: staging.join("replaced"), seq: 0, log: Some((path, file)) })
    }

    #[cfg(test)]
    fn in_memory(trash: PathBuf) -> Self {
        Journal { steps: Vec::new(), trash, seq: 0, log: None }
    }

    /// Records a step, on disk first.
    pub fn record(&mut self, step: Step) {
        if let Some((_, f)) = &mut self.log {
            if let Ok(line) = serde_json::to_string(&step) {
                let _ = writeln!(f, "{line}");
            }
        }
        self.steps.push(step);
    }

    fn next_name(&mut self, what: &str) -> String {
        self.seq += 1;
        format!(".therock-artifacts-{what}-{}-{}", std::process::id(), self.seq)
    }

    /// Renames whatever is at `p` out of the way (nothing is deleted before the commit ends).
    pub fn set_aside(&mut self, p: &Path) -> io::Result<()> {
        if std::fs::symlink_metadata(p).is_err() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.trash)?;
        let name = self.next_name("old");
        let mut from = self.trash.join(name);
        if let Err(e) = rename(p, &from) {
            if !is_cross_device(&e) {
                return Err(e);
            }
            // On a mount point inside the output: aside, next to it.
            from = p.with_file_name(self.next_name("old"));
            rename(p, &from)?;
        }
        self.record(Step::SetAside { from, to: p.to_path_buf() });
        Ok(())
    }

    /// Moves `src` (a staged entry) to `dst`, replacing what is there.
    pub fn place(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        self.set_aside(dst)?;
        match rename(src, dst) {
            Ok(()) => {}
            Err(e) if is_cross_device(&e) => self.copy_in(src, dst)?,
            Err(e) => return Err(e),
        }
        self.record(Step::Placed(dst.to_path_buf()));
        Ok(())
    }

    /// Copies `src` (a file, or a tree) to a temporary name next to `dst`, then renames it.
    fn copy_in(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let tmp = dst.with_file_name(self.next_name("new"));
        let res = copy_tree(src, &tmp).and_then(|_| rename(&tmp, dst));
        if res.is_err() {
            let _ = remove_path(&tmp);
        }
        res
    }

    /// Places a copy (or a hard link) of a cached blob at `dst`.
    pub fn place_copy(&mut self, blob: &Path, dst: &Path) -> io::Result<()> {
        self.set_aside(dst)?;
        let tmp = dst.with_file_name(self.next_name("new"));
        let res = std::fs::hard_link(blob, &tmp).or_else(|_| std::fs::copy(blob, &tmp).map(|_| ())).and_then(|_| rename(&tmp, dst));
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res?;
        self.record(Step::Placed(dst.to_path_buf()));
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
        self.record(Step::Created(p.to_path_buf()));
        Ok(())
    }

    /// Every directory from `base` down to `p` a real directory.
    pub fn real_dirs(&mut self, base: &Path, rel: &[&str]) -> io::Result<PathBuf> {
        let mut p = base.to_path_buf();
        for c in rel {
            p.push(c);
            self.real_dir(&p)?;
        }
        Ok(p)
    }

    /// Moves a staged tree into `dest`, merging directories; whole subtrees move with one
    /// rename where the destination lacks them. Never follows a symlink in the destination.
    pub fn merge(&mut self, staged: &Path, dest: &Path) -> io::Result<()> {
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
    pub fn rollback(self) {
        undo(&self.steps);
        if let Some((path, _)) = &self.log {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Deletes what was set aside: the commit is complete (the log goes first, so an
    /// interruption from here on leaves nothing to undo).
    pub fn finish(self) {
        if let Some((path, _)) = &self.log {
            let _ = std::fs::remove_file(path);
        }
        for step in self.steps {
            if let Step::SetAside { from, .. } = step {
                let _ = remove_path(&from);
            }
        }
    }
}

fn undo(steps: &[Step]) {
    for step in steps.iter().rev() {
        let _ = match step {
            Step::Placed(p) => remove_path(p),
            Step::SetAside { from, to } => rename(from, to),
            Step::Created(p) => std::fs::remove_dir(p),
        };
    }
}

/// Undoes the commit a killed fetch left half-done in `staging` (its `journal.jsonl`); true
/// when there was one.
pub fn undo_interrupted(staging: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(staging.join(LOG)) else { return false };
    let steps: Vec<Step> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    undo(&steps);
    true
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    #[cfg_attr(windows, ignore = "puts a symlink in the destination, which Windows makes only in developer mode")]
    fn merge_replaces_and_moves_subtrees_and_never_follows_a_destination_symlink() {
        let d = tempfile::tempdir().unwrap();
        let (s, o) = (d.path().join("s"), d.path().join("o"));
        fs::create_dir_all(s.join("a/b")).unwrap();
        fs::write(s.join("a/b/f"), "new").unwrap();
        fs::write(s.join("top"), "t").unwrap();
        fs::create_dir_all(o.join("a")).unwrap();
        fs::write(o.join("a/keep"), "k").unwrap();
        fs::create_dir_all(o.join("real")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(o.join("real"), o.join("top")).unwrap();
        let mut j = Journal::in_memory(d.path().join("trash"));
        j.merge(&s, &o).unwrap();
        j.finish();
        assert_eq!(fs::read_to_string(o.join("a/b/f")).unwrap(), "new");
        assert_eq!(fs::read_to_string(o.join("a/keep")).unwrap(), "k");
        assert!(fs::symlink_metadata(o.join("top")).unwrap().is_file(), "a symlink in the destination is replaced, not followed");
        assert!(!d.path().join("trash").exists() || fs::read_dir(d.path().join("trash")).unwrap().count() == 0);
    }

    #[test]
    fn a_commit_killed_half_way_is_undone_from_its_log() {
        let d = tempfile::tempdir().unwrap();
        let (s, o, staging) = (d.path().join("s"), d.path().join("o"), d.path().join("staging"));
        fs::create_dir_all(&s).unwrap();
        fs::write(s.join("f"), "new").unwrap();
        fs::create_dir_all(&o).unwrap();
        fs::write(o.join("f"), "old").unwrap();
        let mut j = Journal::new(&staging).unwrap();
        j.merge(&s, &o).unwrap();
        std::mem::forget(j); // killed: neither finished nor rolled back
        assert_eq!(fs::read_to_string(o.join("f")).unwrap(), "new");
        assert!(undo_interrupted(&staging));
        assert_eq!(fs::read_to_string(o.join("f")).unwrap(), "old");
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
        let mut j = Journal::in_memory(d.path().join("trash"));
        j.merge(&s, &o).unwrap();
        assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "new");
        j.rollback();
        assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "old");
        assert!(!o.join("g").exists());
    }
}
