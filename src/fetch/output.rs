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

use std::collections::HashMap;

use super::commit::{is_cross_device, Journal, Key};
use super::error::FetchError;
use super::extract::{Unsafe, UnsafeBy};
use super::record::{self, Fetch, Prior, Removed, RECORD};
use super::tree;
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
        if let Ok(real) = dunce::canonicalize(dir) {
            if is_system_dir(&real) {
                return Err(FetchError::SystemDir(real));
            }
        }
    }
    if let Ok(m) = std::fs::metadata(dir) {
        if !m.is_dir() {
            return Err(FetchError::NotADirectory(dir.to_path_buf()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| FetchError::io(format!("cannot create the output directory {}", dir.display()), e))?;
    let probe = dir.join(format!(".therock-artifacts-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| FetchError::io(format!("the output directory {} is not writable", dir.display()), e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dunce::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// Where an archive's staged root lands in the output.
fn landing(out: &Path, mode: ExtractMode, d: &FetchedArchive) -> PathBuf {
    match mode {
        ExtractMode::PerArtifact => out.join(&*local_name(d.filename.split('.').next().unwrap_or(&d.filename))),
        _ => out.to_path_buf(),
    }
}

/// An archive's name as this system's file names can hold it (Windows: `:` -> `%3A`).
pub fn local_name(name: &str) -> std::borrow::Cow<'_, str> {
    if cfg!(windows) {
        crate::domain::winname::map_name(name)
    } else {
        name.into()
    }
}

/// Moves staged trees (or verified archives) into the output, in plan order, then checks every
/// symlink the archives brought still leads inside the output once merged with what was there.
/// On any failure the output is put back as it was.
/// First it sets aside what the earlier fetches `prior` replaces placed; last it places the
/// output's new record of what wrote it. Returns what was removed of the earlier fetches.
pub fn commit(out: &Path, mode: ExtractMode, done: &[FetchedArchive], staging: &Path, key: Option<Key>, stamp: Stamp) -> Result<Option<Removed>, FetchError> {
    let before = escaping_links(out);
    let signer = key.clone();
    let mut j = Journal::new(staging, out, key).map_err(|e| FetchError::io(format!("cannot write the commit journal in {}", staging.display()), e))?;
    let res = remove_prior(&mut j, out, &stamp.prior)
        .and_then(|removed| commit_all(&mut j, out, mode, done).map(|_| removed))
        .and_then(|removed| check_links(out, &before, done).map(|_| removed))
        .and_then(|removed| place_record(&mut j, out, staging, signer.as_ref(), stamp).map(|_| removed));
    match res {
        Ok(removed) => {
            let placed = j.finish().map_err(|e| FetchError::io(format!("cannot write the commit journal in {}", staging.display()), e))?;
            super::owner::hand_over(out, &placed);
            Ok(removed)
        }
        Err(e) => {
            j.rollback();
            Err(e)
        }
    }
}

/// What the commit records about this fetch, and what it does about the earlier ones.
pub struct Stamp {
    pub prior: Prior,
    pub this: Fetch,
}

fn remove_prior(j: &mut Journal, out: &Path, prior: &Prior) -> Result<Option<Removed>, FetchError> {
    let Prior::Replace(r) = prior else { return Ok(None) };
    let files =
        j.remove(out, &r.files, &r.dirs).map_err(|e| FetchError::io(format!("cannot remove the files of the earlier fetch from {}", out.display()), e))?;
    Ok(Some(Removed { of: r.fetches.iter().map(|f| f.origin.label()).collect(), files }))
}

fn place_record(j: &mut Journal, out: &Path, staging: &Path, key: Option<&Key>, stamp: Stamp) -> Result<(), FetchError> {
    let record = record::next(&stamp.prior, stamp.this, out, &j.placed());
    let failed = |e| FetchError::io(format!("cannot write the record {}", out.join(RECORD).display()), e);
    let path = record::write(staging, out, key, record).map_err(failed)?;
    j.place(&path, &out.join(RECORD)).map_err(failed)
}

fn commit_all(j: &mut Journal, out: &Path, mode: ExtractMode, done: &[FetchedArchive]) -> Result<(), FetchError> {
    let mut cleared = std::collections::HashSet::new();
    let failed = |d: &FetchedArchive, e: io::Error| {
        let hint = if is_cross_device(&e) { " (a mount point inside the output?)" } else { "" };
        FetchError::io(format!("cannot move the files of {} into {}{hint}", d.filename, out.display()), e)
    };
    for d in done {
        match (mode, &d.staged, &d.blob) {
            (ExtractMode::Archives, Some(s), _) => j.place(s, &out.join(&*local_name(&d.filename))).map_err(|e| failed(d, e))?,
            (ExtractMode::Archives, None, Some(blob)) => j.place_copy(blob, &out.join(&*local_name(&d.filename))).map_err(|e| failed(d, e))?,
            (ExtractMode::Bootstrap, staged, _) => {
                let stages: Vec<&str> = d.manifest.iter().map(|l| prebuilt_stage(l)).filter(|s| cleared.insert(s.to_string())).collect();
                j.clear_stages(out, &stages)
                    .map_err(|e| FetchError::io(format!("cannot prepare the stage directories of {} in {}", d.filename, out.display()), e))?;
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

/// The symlinks under `out` (not below the tool's own entries) that lead outside it, with
/// their targets: followed through the real tree, link by link, never above `out`.
fn escaping_links(out: &Path) -> HashMap<Vec<String>, PathBuf> {
    let link_at = |p: &[String]| {
        let path = p.iter().fold(out.to_path_buf(), |acc, c| acc.join(c));
        std::fs::read_link(&path).ok() // fails on anything but a symlink
    };
    let mut found = HashMap::new();
    let mut stack: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(dir) = stack.pop() {
        let path = dir.iter().fold(out.to_path_buf(), |acc, c| acc.join(c));
        let Ok(rd) = std::fs::read_dir(&path) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if dir.is_empty() && name.starts_with(".therock-artifacts-") {
                continue;
            }
            let mut rel = dir.clone();
            rel.push(name);
            match e.file_type() {
                Ok(t) if t.is_symlink() => {
                    if let Some(target) = link_at(&rel) {
                        if tree::resolve(&rel[..rel.len() - 1], &target, &link_at).is_err() {
                            found.insert(rel, target);
                        }
                    }
                }
                Ok(t) if t.is_dir() => stack.push(rel),
                _ => {}
            }
        }
    }
    found
}

/// After the merge, no symlink may lead outside the output that did not before: neither one
/// the archives brought, nor one already there whose way the archives changed (a link that
/// led outside before the fetch, a user's own, is left alone).
fn check_links(out: &Path, before: &HashMap<Vec<String>, PathBuf>, done: &[FetchedArchive]) -> Result<(), FetchError> {
    let after = escaping_links(out);
    let Some((rel, target)) = after.iter().filter(|(rel, t)| before.get(*rel) != Some(*t)).min() else { return Ok(()) };
    let brought_by = done.iter().find(|d| d.symlinks.iter().any(|s| rel.ends_with(s)));
    let (by, whose) = match brought_by {
        Some(d) => (UnsafeBy::Archive(d.filename.clone()), "its symlink"),
        None => (UnsafeBy::Together(done.iter().map(|d| d.filename.clone()).collect()), "with them, the symlink already there"),
    };
    let why = format!("{whose} '{}' -> '{}' leads outside {} once merged; the output was put back as it was", rel.join("/"), target.display(), out.display());
    Err(FetchError::Unsafe(Unsafe { by, why }))
}
