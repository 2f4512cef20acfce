//! The commit into the output, as one room: the journal (`log`), the landing of staged trees
//! (this module: every move planned, written ahead, then taken), and the recovery of a commit a
//! killed fetch left half-done (`recover`).
//!
//! Each batch of moves is planned first, with every name it will use chosen in advance (where a
//! replaced entry waits, the temporary name a copy across file systems takes), written to the
//! journal and fsynced; only then are the renames made, and the directories they touched fsynced.
//! Whatever a commit replaces is set aside (renamed, never deleted) until it ends. Undoing looks
//! at the names on disk, not at how far the journal got: a step announced but not taken undoes
//! to nothing, one taken is reversed, so an undo interrupted and run again ends the same way.

mod log;
mod recover;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

pub use log::Key;
pub use recover::recover_staging;
#[cfg(test)]
use recover::valid;

use super::extract::remove_path;

/// Where the content of a placed entry comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// A staged entry, moved (across file systems: copied to `tmp`, then renamed).
    Move(PathBuf),
    /// A cached blob, hard-linked or copied to `tmp`, then renamed.
    Copy(PathBuf),
    /// An empty file (a `.prebuilt` marker), written to `tmp`, then renamed.
    Empty,
}

/// One step of a commit, as announced before it is taken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Step {
    /// What stands at `to` moves to `from` (in staging's `replaced/`), or, on a mount point
    /// inside the output, to `alt` (next to `to`).
    SetAside { to: PathBuf, from: PathBuf, alt: PathBuf },
    /// A new entry at `dst` (where nothing stands, or what stood was set aside just before).
    Place { src: Source, dst: PathBuf, tmp: PathBuf },
    /// A directory the commit creates where nothing stands.
    Created(PathBuf),
    /// The commit is complete: what was set aside may go.
    Done,
}

pub fn is_cross_device(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::CrossesDevices // EXDEV; ERROR_NOT_SAME_DEVICE on Windows
}

/// The commit's record of what it planned and did, to finish or undo.
pub struct Journal {
    steps: Vec<Step>,
    /// Where replaced entries wait (inside staging, on the output's filesystem).
    trash: PathBuf,
    seq: u64,
    log: Option<log::Writer>,
    /// Paths planned as directories in the batch being planned (not made yet).
    planned_dirs: HashSet<PathBuf>,
}

impl Journal {
    /// A journal for a commit into `out`, its replaced entries waiting in `staging/replaced`,
    /// written to `staging/journal.jsonl` when there is a key to sign it with (without one a
    /// failure still rolls back, but a killed commit is not undone by the next fetch: what it
    /// set aside is kept, and the next fetch says so).
    pub fn new(staging: &Path, out: &Path, key: Option<Key>) -> io::Result<Self> {
        let trash = staging.join("replaced");
        std::fs::create_dir_all(&trash)?;
        let log = match key {
            Some(k) => Some(log::Writer::create(staging, out, k)?),
            None => None,
        };
        Ok(Journal { steps: Vec::new(), trash, seq: 0, log, planned_dirs: HashSet::new() })
    }

    fn next_name(&mut self, what: &str) -> String {
        self.seq += 1;
        format!(".therock-artifacts-{what}-{}-{}", std::process::id(), self.seq)
    }

    fn plan_set_aside(&mut self, p: &Path, plan: &mut Vec<Step>) {
        if std::fs::symlink_metadata(p).is_err() {
            return;
        }
        let name = self.next_name("old");
        let from = self.trash.join(name);
        let alt = p.with_file_name(self.next_name("old"));
        plan.push(Step::SetAside { to: p.to_path_buf(), from, alt });
    }

    fn plan_place(&mut self, src: Source, dst: &Path, plan: &mut Vec<Step>) {
        self.plan_set_aside(dst, plan);
        let tmp = dst.with_file_name(self.next_name("new"));
        plan.push(Step::Place { src, dst: dst.to_path_buf(), tmp });
    }

    fn plan_merge(&mut self, staged: &Path, dest: &Path, plan: &mut Vec<Step>) -> io::Result<()> {
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => {}
            _ => {
                self.plan_place(Source::Move(staged.to_path_buf()), dest, plan);
                return Ok(());
            }
        }
        let mut names: Vec<_> = std::fs::read_dir(staged)?.collect::<Result<Vec<_>, _>>()?;
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let (src, dst) = (e.path(), dest.join(e.file_name()));
            let both_dirs = e.file_type()?.is_dir() && std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir());
            if both_dirs {
                self.plan_merge(&src, &dst, plan)?;
            } else {
                self.plan_place(Source::Move(src), &dst, plan);
            }
        }
        Ok(())
    }

    /// Makes `p` a real directory (a symlink or file there is set aside, never followed).
    fn plan_real_dir(&mut self, p: &Path, plan: &mut Vec<Step>) -> io::Result<()> {
        if self.planned_dirs.contains(p) {
            return Ok(());
        }
        let fresh_parent = p.parent().is_some_and(|d| self.planned_dirs.contains(d));
        if !fresh_parent {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => return Ok(()),
                Ok(_) => self.plan_set_aside(p, plan),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        plan.push(Step::Created(p.to_path_buf()));
        self.planned_dirs.insert(p.to_path_buf());
        Ok(())
    }

    /// Writes the batch ahead, then takes it.
    fn run(&mut self, plan: Vec<Step>) -> io::Result<()> {
        self.planned_dirs.clear();
        if let Some(w) = &mut self.log {
            w.append(&plan)?;
        }
        let mut touched = BTreeSet::new();
        for step in plan {
            self.steps.push(step.clone());
            step_delay();
            take(&step, &mut touched)?;
        }
        log::sync_dirs(touched.iter());
        Ok(())
    }

    /// Moves `src` (a staged entry) to `dst`, replacing what is there.
    pub fn place(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let mut plan = Vec::new();
        self.plan_place(Source::Move(src.to_path_buf()), dst, &mut plan);
        self.run(plan)
    }

    /// Places a copy (or a hard link) of a cached blob at `dst`.
    pub fn place_copy(&mut self, blob: &Path, dst: &Path) -> io::Result<()> {
        let mut plan = Vec::new();
        self.plan_place(Source::Copy(blob.to_path_buf()), dst, &mut plan);
        self.run(plan)
    }

    /// Moves a staged tree into `dest`, merging directories; whole subtrees move with one
    /// rename where the destination lacks them. Never follows a symlink in the destination.
    pub fn merge(&mut self, staged: &Path, dest: &Path) -> io::Result<()> {
        let mut plan = Vec::new();
        self.plan_merge(staged, dest, &mut plan)?;
        self.run(plan)
    }

    /// `bootstrap` mode: clears each stage directory `out/{line}` and writes its `.prebuilt`
    /// marker. Every directory above it is made a real directory (a symlink on the way is set
    /// aside, never followed: clearing through it would delete files outside the output).
    pub fn clear_stages(&mut self, out: &Path, lines: &[&str]) -> io::Result<()> {
        let mut plan = Vec::new();
        for line in lines {
            let comps: Vec<&str> = line.split('/').collect();
            let mut parent = out.to_path_buf();
            for c in &comps[..comps.len().saturating_sub(1)] {
                parent.push(c);
                self.plan_real_dir(&parent, &mut plan)?;
            }
            let fresh = self.planned_dirs.contains(&parent);
            let stage = parent.join(comps[comps.len() - 1]);
            let marker = out.join(format!("{line}.prebuilt"));
            if !fresh {
                self.plan_set_aside(&stage, &mut plan);
                self.plan_set_aside(&marker, &mut plan);
            }
            let tmp = marker.with_file_name(self.next_name("new"));
            plan.push(Step::Place { src: Source::Empty, dst: marker, tmp });
        }
        self.run(plan)
    }

    /// Sets aside what an earlier fetch placed in `out`: its `files` (relative, `/`-separated),
    /// then each of the `dirs` it created that is left empty, deepest first. Nothing is reached
    /// through a symlink or a file, a directory still holding anything (a user's own file) stays,
    /// and nothing is deleted before the commit ends. Returns how many files were set aside.
    pub fn remove(&mut self, out: &Path, files: &[String], dirs: &[String]) -> io::Result<usize> {
        let at = |rel: &str| real_parents(out, rel).then(|| out.join(rel));
        let mut plan = Vec::new();
        for p in files.iter().filter_map(|f| at(f)) {
            if std::fs::symlink_metadata(&p).is_ok_and(|m| !m.is_dir()) {
                self.plan_set_aside(&p, &mut plan);
            }
        }
        let n = plan.len();
        self.run(plan)?;
        let mut deepest: Vec<PathBuf> = dirs.iter().filter_map(|d| at(d)).collect();
        deepest.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        let (mut plan, mut gone) = (Vec::new(), HashSet::new());
        for d in deepest {
            let real = std::fs::symlink_metadata(&d).is_ok_and(|m| m.is_dir());
            let empty = real && std::fs::read_dir(&d).is_ok_and(|rd| rd.flatten().all(|e| gone.contains(&e.path())));
            if empty {
                self.plan_set_aside(&d, &mut plan);
                gone.insert(d);
            }
        }
        self.run(plan)?;
        Ok(n)
    }

    /// The entries placed or created so far.
    pub fn placed(&self) -> Vec<PathBuf> {
        placed(&self.steps)
    }

    /// Puts the output back as it was.
    pub fn rollback(self) {
        for k in undo(&self.steps) {
            crate::say!("warning: cannot put back {k}: it is kept");
        }
        if let Some(w) = &self.log {
            let _ = std::fs::remove_file(&w.path);
        }
    }

    /// Ends the commit: `Done` is written (so a kill from here on finishes it instead of undoing
    /// it), then what was set aside is deleted. Returns what this commit placed or created.
    /// When `Done` cannot be written the commit is undone and the error returned.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, io::Error> {
        if let Some(w) = &mut self.log {
            if let Err(e) = w.append(&[Step::Done]) {
                self.rollback();
                return Err(e);
            }
        }
        let placed = placed(&self.steps);
        forward(&self.steps);
        if let Some(w) = &self.log {
            let _ = std::fs::remove_file(&w.path);
        }
        Ok(placed)
    }
}

/// Whether `rel` names an entry strictly inside `out` (no `.`, `..`, root or prefix; not one of
/// the tool's own names) whose every parent is a real directory, not a symlink.
fn real_parents(out: &Path, rel: &str) -> bool {
    let comps: Vec<&str> = rel.split('/').collect();
    let plain = |c: &&str| !c.is_empty() && *c != "." && *c != ".." && Path::new(c).components().count() == 1 && Path::new(c).file_name().is_some();
    if !comps.iter().all(plain) || comps[0].to_ascii_lowercase().starts_with(".therock-artifacts") {
        return false;
    }
    let mut at = out.to_path_buf();
    comps[..comps.len() - 1].iter().all(|c| {
        at.push(c);
        std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir())
    })
}

/// The entries a commit placed or created.
fn placed(steps: &[Step]) -> Vec<PathBuf> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Place { dst, .. } => Some(dst.clone()),
            Step::Created(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// A pause before each step, for tests that kill a commit half-way (debug builds only).
fn step_delay() {
    #[cfg(debug_assertions)]
    if let Some(us) = std::env::var("THEROCK_ARTIFACTS_TEST_COMMIT_STEP_US").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

fn parent_of(p: &Path) -> PathBuf {
    p.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Takes one step, noting the directories whose entries changed.
fn take(step: &Step, touched: &mut BTreeSet<PathBuf>) -> io::Result<()> {
    match step {
        Step::SetAside { to, from, alt } => {
            touched.insert(parent_of(to));
            match super::windows::rename(to, from) {
                Ok(()) => {
                    touched.insert(parent_of(from));
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                // On a mount point inside the output: aside, next to it.
                Err(e) if is_cross_device(&e) => super::windows::rename(to, alt),
                Err(e) => Err(e),
            }
        }
        Step::Place { src, dst, tmp } => {
            touched.insert(parent_of(dst));
            let via_tmp = |fill: &dyn Fn() -> io::Result<()>| {
                let res = fill().and_then(|_| super::windows::rename(tmp, dst));
                if res.is_err() {
                    let _ = remove_path(tmp);
                }
                res
            };
            match src {
                Source::Move(s) => match super::windows::rename(s, dst) {
                    Err(e) if is_cross_device(&e) => via_tmp(&|| copy_tree(s, tmp)),
                    r => r,
                },
                Source::Copy(b) => via_tmp(&|| std::fs::hard_link(b, tmp).or_else(|_| std::fs::copy(b, tmp).map(|_| ()))),
                Source::Empty => via_tmp(&|| std::fs::write(tmp, b"")),
            }
        }
        Step::Created(p) => {
            touched.insert(parent_of(p));
            std::fs::create_dir(p)
        }
        Step::Done => Ok(()),
    }
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// Reverses what of `steps` was taken, newest first, judging by the names on disk: a `Place`
/// whose destination had something set aside first removes its destination only once that
/// set-aside is found taken (otherwise what stands there is the original).
fn undo(steps: &[Step]) -> Vec<String> {
    let mut aside_of: HashMap<usize, usize> = HashMap::new();
    let mut last_aside: HashMap<&Path, usize> = HashMap::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::SetAside { to, .. } => {
                last_aside.insert(to, i);
            }
            Step::Place { dst, .. } => {
                if let Some(j) = last_aside.remove(dst.as_path()) {
                    aside_of.insert(i, j);
                }
            }
            _ => {}
        }
    }
    let mut kept = Vec::new();
    for (i, step) in steps.iter().enumerate().rev() {
        match step {
            Step::Place { dst, tmp, .. } => {
                let _ = remove_path(tmp);
                let taken_aside = match aside_of.get(&i).map(|j| &steps[*j]) {
                    Some(Step::SetAside { from, alt, .. }) => exists(from) || exists(alt),
                    _ => true,
                };
                if taken_aside {
                    let _ = remove_path(dst);
                }
            }
            Step::SetAside { to, from, alt } => {
                for n in [from, alt] {
                    if exists(n) && (exists(to) || super::windows::rename(n, to).is_err()) {
                        kept.push(format!("{} (was {})", n.display(), to.display()));
                    }
                }
            }
            Step::Created(p) => {
                let _ = std::fs::remove_dir(p);
            }
            Step::Done => {}
        }
    }
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for s in steps {
        match s {
            Step::SetAside { to, .. } => dirs.insert(parent_of(to)),
            Step::Place { dst, .. } => dirs.insert(parent_of(dst)),
            Step::Created(p) => dirs.insert(parent_of(p)),
            Step::Done => false,
        };
    }
    log::sync_dirs(dirs.iter());
    kept
}

/// Deletes what a completed commit set aside.
fn forward(steps: &[Step]) {
    for step in steps {
        if let Step::SetAside { from, alt, .. } = step {
            let _ = remove_path(from);
            let _ = remove_path(alt);
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

#[cfg(test)]
mod tests;
