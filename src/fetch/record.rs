//! The output's record of what wrote it: `OUT/.therock-artifacts.json`, naming the fetches whose
//! files are there (commit or release, repository, runs, extract mode, archives) and every file
//! and directory they placed. The commit places it like any other entry (journaled: a kill
//! leaves the old record or the new one), signed with the journal's key and bound to this
//! output, since the output is not the tool's: a record that is not believed is warned about
//! and acted on in no way. A fetch of another commit replaces the recorded files, or is refused
//! (`domain::mixing`); removing them never touches what the tool did not place.

use std::io;
use std::path::{Path, PathBuf};

use super::commit::Key;
use super::error::FetchError;
use crate::config::ExtractMode;
use crate::domain::mixing::{self, Layering, Mixing};

/// The record's name in the output (archives may not write it: `extract` reserves the prefix).
pub const RECORD: &str = ".therock-artifacts.json";
const FORMAT: u32 = 1;

/// Where a fetch's archives come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    pub repository: String,
    pub runs: Vec<u64>,
}

impl Origin {
    /// How a sentence names it: `commit {sha}`, `release {version}`.
    pub fn label(&self) -> String {
        match (&self.commit, &self.release) {
            (Some(c), _) => format!("commit {c}"),
            (None, Some(r)) => format!("release {r}"),
            (None, None) => format!("a fetch from {}", self.repository),
        }
    }
}

/// One fetch whose files the output holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fetch {
    #[serde(flatten)]
    pub origin: Origin,
    pub extract: String,
    pub archives: Vec<String>,
}

/// What the output holds of the tool's: the fetches (oldest first; more than one after a
/// `--merge` or a re-fetch of the same commit), and the files (and symlinks) and directories
/// they placed, relative to the output, `/`-separated, sorted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub format: u32,
    pub fetches: Vec<Fetch>,
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    #[serde(flatten)]
    record: Record,
    signature: String,
}

fn signature(key: &Key, out: &Path, r: &Record) -> io::Result<String> {
    let body = serde_json::to_string(r)?;
    Ok(key.sign(&[b"therock-artifacts record", out.to_string_lossy().as_bytes(), body.as_bytes()]))
}

/// What the output holds, as its record says.
#[derive(Debug)]
pub enum Earlier {
    Nothing,
    Believed(Record),
    /// A record the tool cannot vouch for, and why.
    Refused(String),
}

/// The record in `out`, believed only when `key` signed it for this output.
pub fn read(out: &Path, key: Option<&Key>) -> Earlier {
    let path = out.join(RECORD);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Earlier::Nothing,
        Err(e) => return Earlier::Refused(format!("it cannot be read ({e})")),
        Ok(m) if !m.is_file() => return Earlier::Refused("it is not a regular file".into()),
        Ok(_) => {}
    }
    let Ok(disk) = std::fs::read(&path).map_err(drop).and_then(|b| serde_json::from_slice::<OnDisk>(&b).map_err(drop)) else {
        return Earlier::Refused("it is not a record this tool writes".into());
    };
    let Some(key) = key else { return Earlier::Refused("there is no key to check its signature with".into()) };
    if disk.record.format != FORMAT || signature(key, out, &disk.record).ok().as_deref() != Some(disk.signature.as_str()) {
        return Earlier::Refused("its signature does not match the key in the cache directory: this tool did not write it for this output".into());
    }
    Earlier::Believed(disk.record)
}

/// What the commit does about the earlier fetches.
#[derive(Debug, Default)]
pub enum Prior {
    /// Nothing believed: the output is written into as it is.
    #[default]
    Unknown,
    Keep(Record),
    Replace(Record),
}

/// What was removed of the earlier fetches' files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Removed {
    /// The fetches whose files went (`commit {sha}`, `release {version}`).
    pub of: Vec<String>,
    pub files: usize,
}

/// Reads the output's record and decides (before anything is downloaded) whether this fetch
/// replaces, keeps or refuses what it names.
pub fn prior(out: &Path, key: Option<&Key>, origin: &Origin, mode: ExtractMode, mixing: Mixing) -> Result<Prior, FetchError> {
    let record = match read(out, key) {
        Earlier::Nothing => return Ok(Prior::Unknown),
        Earlier::Refused(why) => {
            crate::say!("warning: {} is not believed: {why}; the files already in the output are left as they are", out.join(RECORD).display());
            return Ok(Prior::Unknown);
        }
        Earlier::Believed(r) => r,
    };
    let earlier: Vec<String> = record.fetches.iter().map(|f| f.origin.label()).collect();
    let replaces = matches!(mode, ExtractMode::Bootstrap | ExtractMode::PerArtifact);
    match mixing::decide(&earlier, &origin.label(), &out.display().to_string(), mode.as_str(), replaces, mixing) {
        Layering::Keep => Ok(Prior::Keep(record)),
        Layering::Replace => Ok(Prior::Replace(record)),
        Layering::Refuse(why) => Err(FetchError::Mixed(why)),
    }
}

/// The files and directories under `placed` (entries in `out`), relative and sorted; the tool's
/// own names are left out.
fn entries(out: &Path, placed: &[PathBuf]) -> (Vec<String>, Vec<String>) {
    fn walk(p: &Path, rel: String, files: &mut Vec<String>, dirs: &mut Vec<String>) {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {
                for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    if let Some(n) = e.file_name().to_str() {
                        walk(&e.path(), format!("{rel}/{n}"), files, dirs);
                    }
                }
                dirs.push(rel);
            }
            Ok(_) => files.push(rel),
            Err(_) => {}
        }
    }
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for p in placed {
        let Some(rel) = p.strip_prefix(out).ok().and_then(|r| r.to_str()).map(|r| r.replace(std::path::MAIN_SEPARATOR, "/")) else { continue };
        if !rel.is_empty() && !rel.to_ascii_lowercase().starts_with(".therock-artifacts") {
            walk(p, rel, &mut files, &mut dirs);
        }
    }
    (files, dirs)
}

/// The record after this fetch: its own entries, beside those of the earlier fetches it keeps
/// (as far as they are still there).
pub fn next(prior: &Prior, this: Fetch, out: &Path, placed: &[PathBuf]) -> Record {
    let (mut files, mut dirs) = entries(out, placed);
    let mut fetches = Vec::new();
    if let Prior::Keep(r) = prior {
        let there = |rel: &&String| std::fs::symlink_metadata(out.join(rel)).is_ok();
        files.extend(r.files.iter().filter(there).cloned());
        dirs.extend(r.dirs.iter().filter(there).cloned());
        fetches = r.fetches.clone();
    }
    if fetches.last() != Some(&this) {
        fetches.push(this);
    }
    for v in [&mut files, &mut dirs] {
        v.sort();
        v.dedup();
    }
    Record { format: FORMAT, fetches, files, dirs }
}

/// Writes `record` into `staging` (signed for `out`, unsigned without a key), for the commit to
/// place; its path.
pub fn write(staging: &Path, out: &Path, key: Option<&Key>, record: Record) -> io::Result<PathBuf> {
    let signature = match key {
        Some(k) => signature(k, out, &record)?,
        None => String::new(),
    };
    let path = staging.join("record.json");
    let mut text = serde_json::to_string_pretty(&OnDisk { record, signature })?;
    text.push('\n');
    std::fs::write(&path, text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a_record() -> Record {
        let origin = Origin { commit: Some("a".repeat(40)), repository: "ROCm/TheRock".into(), runs: vec![1], ..Origin::default() };
        Record {
            format: FORMAT,
            fetches: vec![Fetch { origin, extract: "flatten".into(), archives: vec!["x.tar.zst".into()] }],
            files: vec!["f".into()],
            dirs: vec![],
        }
    }

    #[test]
    fn a_record_is_believed_only_signed_with_the_key_for_this_output_and_untouched() {
        let d = tempfile::tempdir().unwrap();
        let (out, other) = (d.path().join("o"), d.path().join("p"));
        for dir in [&out, &other] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let key = Key::load(&d.path().join("keys")).unwrap();
        let written = write(&out, &out, Some(&key), a_record()).unwrap();
        std::fs::rename(&written, out.join(RECORD)).unwrap();
        assert!(matches!(read(&out, Some(&key)), Earlier::Believed(r) if r == a_record()));
        assert!(matches!(read(&out, None), Earlier::Refused(_)), "no key, no belief");
        std::fs::copy(out.join(RECORD), other.join(RECORD)).unwrap();
        assert!(matches!(read(&other, Some(&key)), Earlier::Refused(_)), "signed for another output");
        let text = std::fs::read_to_string(out.join(RECORD)).unwrap().replace("\"f\"", "\"mine.txt\"");
        std::fs::write(out.join(RECORD), text).unwrap();
        assert!(matches!(read(&out, Some(&key)), Earlier::Refused(_)), "a changed list");
        assert!(matches!(read(&d.path().join("none"), Some(&key)), Earlier::Nothing));
    }

    #[test]
    fn a_kept_record_lists_what_is_still_there_and_the_fetch_once() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        std::fs::create_dir_all(out.join("new")).unwrap();
        std::fs::write(out.join("new/g"), "").unwrap();
        let earlier = a_record(); // its "f" is gone
        let this = earlier.fetches[0].clone();
        let r = next(&Prior::Keep(earlier), this.clone(), out, &[out.join("new")]);
        assert_eq!((r.files, r.dirs, r.fetches), (vec!["new/g".to_string()], vec!["new".to_string()], vec![this]));
    }
}
