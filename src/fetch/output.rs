//! The output directory: made ready before a fetch, and given the staged trees (or archives)
//! only after every archive verified, in plan order, by extract mode.

use std::io;
use std::path::{Path, PathBuf};

use super::error::FetchError;
use super::extract;
use super::FetchedArchive;
use crate::config::ExtractMode;

/// Creates the output directory if needed and checks it is writable; returns its real path.
pub fn prepare(dir: &Path) -> Result<PathBuf, FetchError> {
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

/// Moves staged trees (or verified archives) into the output, in plan order.
pub fn commit(out: &Path, mode: ExtractMode, done: &[FetchedArchive]) -> Result<(), FetchError> {
    let mut cleared = std::collections::HashSet::new();
    for d in done {
        match mode {
            ExtractMode::Archives => archive_into(out, d)?,
            ExtractMode::Flatten => {
                if let Some(s) = &d.staged {
                    extract::merge_into(s, out).map_err(|e| moved(d, out, e))?;
                }
            }
            ExtractMode::PerArtifact => {
                if let Some(s) = &d.staged {
                    let stem = d.filename.split('.').next().unwrap_or(&d.filename);
                    extract::merge_into(s, &out.join(stem)).map_err(|e| moved(d, out, e))?;
                }
            }
            ExtractMode::Bootstrap => {
                for line in &d.manifest {
                    if cleared.insert(line.clone()) {
                        mark_prebuilt(out, line)?;
                    }
                }
                if let Some(s) = &d.staged {
                    extract::merge_into(s, out).map_err(|e| moved(d, out, e))?;
                }
            }
        }
    }
    Ok(())
}

fn moved(d: &FetchedArchive, out: &Path, e: io::Error) -> FetchError {
    FetchError::io(format!("cannot move the files of {} into {}", d.filename, out.display()), e)
}

/// `archives` mode: the verified archive takes its name in the output (moved from staging, or
/// hard-linked or copied from the cache).
fn archive_into(out: &Path, d: &FetchedArchive) -> Result<(), FetchError> {
    let dst = out.join(&d.filename);
    if let Some(s) = &d.staged {
        let _ = extract::remove_path(&dst);
        std::fs::rename(s, &dst).map_err(|e| FetchError::io(format!("cannot move {} into {}", d.filename, out.display()), e))?;
    } else if let Some(blob) = &d.blob {
        let _ = extract::remove_path(&dst);
        if std::fs::hard_link(blob, &dst).is_err() {
            std::fs::copy(blob, &dst).map_err(|e| FetchError::io(format!("cannot copy {} into {}", d.filename, out.display()), e))?;
        }
    }
    Ok(())
}

/// `bootstrap` mode: clears a manifest directory and writes its `.prebuilt` marker.
fn mark_prebuilt(out: &Path, line: &str) -> Result<(), FetchError> {
    real_parents(out, line).map_err(|e| FetchError::io(format!("cannot prepare {}", out.join(line).display()), e))?;
    let dir = out.join(line);
    extract::remove_path(&dir).map_err(|e| FetchError::io(format!("cannot clear {}", dir.display()), e))?;
    let marker = out.join(format!("{line}.prebuilt"));
    if let Some(p) = marker.parent() {
        std::fs::create_dir_all(p).map_err(|e| FetchError::io(format!("cannot create {}", p.display()), e))?;
    }
    std::fs::write(&marker, b"").map_err(|e| FetchError::io(format!("cannot write {}", marker.display()), e))
}

/// Makes every directory above `out/line` a real directory: a pre-existing symlink on the way
/// is replaced, never followed (clearing through it would delete files outside `out`).
fn real_parents(out: &Path, line: &str) -> io::Result<()> {
    let mut p = out.to_path_buf();
    let comps: Vec<&str> = line.split('/').collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                std::fs::remove_file(&p)?;
                std::fs::create_dir(&p)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir(&p)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
