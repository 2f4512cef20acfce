//! Extraction of one TheRock archive (a tar stream whose first member is
//! `artifact_manifest.txt`) into a fresh staging directory. Works on any byte stream; knows
//! nothing about networks.
//!
//! Every member is judged against what the archive has written so far (`tree::Tree`): a member
//! whose path passes through a symlink (or a file) is refused, a symlink is followed through the
//! links already written before its target is judged, a hard link to a symlink becomes that
//! symlink at the new place only if it still leads inside, and once the whole archive is written
//! every symlink is judged again (a later link can change where an earlier one leads).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::tree::{clean_components, Escape, Node, Tree};

pub const MANIFEST: &str = "artifact_manifest.txt";

/// The longest member path or link target taken (longer ones are refused: they serve no real
/// archive and cost quadratic work to judge).
const MAX_PATH_BYTES: usize = 4096;
const MAX_COMPONENTS: usize = 256;
/// Members one archive may hold (TheRock's largest hold tens of thousands).
const MAX_MEMBERS: u64 = 2_000_000;
/// Names the tool gives its own entries in an output directory (staging trees, the lock, the
/// record `.therock-artifacts.json`); no archive may write them, in any case.
const RESERVED_PREFIX: &str = ".therock-artifacts";

/// Archives that would write outside their tree, refused whichever step found it (the
/// extraction, or the check of the merged output).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{by} unsafe: {why}")]
pub struct Unsafe {
    pub by: UnsafeBy,
    pub why: String,
}

/// Whose members are unsafe.
#[derive(Debug, Clone)]
pub enum UnsafeBy {
    Archive(String),
    /// The archives of one fetch, together (none of them alone).
    Together(Vec<String>),
}

impl std::fmt::Display for UnsafeBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnsafeBy::Archive(a) => write!(f, "archive {a} is"),
            UnsafeBy::Together(all) => write!(f, "the archives of this fetch ({}) are", all.join(", ")),
        }
    }
}

/// Said of a write that failed for want of space (by kind, or ENOSPC where the kind is older).
pub fn full_note(e: &io::Error) -> &'static str {
    let full = e.kind() == io::ErrorKind::StorageFull || (cfg!(unix) && e.raw_os_error() == Some(28));
    if full {
        " (the file system it is on is full)"
    } else {
        ""
    }
}

/// Each cause is the error's source, never repeated in its message (a chain prints it once).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Unsafe(#[from] Unsafe),
    #[error("archive {archive} is malformed: {why}")]
    Malformed { archive: String, why: String },
    #[error("archive {archive} could not be read")]
    Read {
        archive: String,
        #[source]
        source: io::Error,
    },
    #[error("archive {archive} could not be read: corrupt {compression} stream")]
    Corrupt {
        archive: String,
        compression: crate::domain::artifacts::Compression,
        #[source]
        source: io::Error,
    },
    #[error("could not write {} while extracting {archive}{}", path.display(), full_note(source))]
    Write {
        archive: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("archive {archive} extracts to more than {limit} bytes, far more than its size suggests; refused as a decompression bomb (set THEROCK_ARTIFACTS_MAX_EXTRACT to a larger number of bytes if it is real)")]
    TooLarge { archive: String, limit: u64 },
}

/// How member paths map into the staging tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Strip the matching manifest line (`compiler/amd-llvm/stage/lib/x` -> `lib/x`).
    Flatten,
    /// Keep the full member path.
    Full,
    /// Keep the full member path, and `artifact_manifest.txt` at the root (TheRock's
    /// `ArtifactCatalog` skips a per-artifact directory without it).
    FullWithManifest,
    /// No manifest at all (a release tarball): the whole tree, every member path kept.
    Whole,
}

#[derive(Debug, Default, Clone)]
pub struct Extracted {
    pub manifest: Vec<String>,
    pub files: u64,
    pub bytes: u64,
    /// The symlinks written, relative to the root, for the check after the commit.
    pub symlinks: Vec<Vec<String>>,
}

fn parse_manifest(text: &str, archive: &str) -> Result<Vec<Vec<String>>, ExtractError> {
    let mut lines = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let comps = clean_components(Path::new(l))
            .filter(|c| !c.is_empty())
            .ok_or_else(|| unsafe_archive(archive, format!("manifest line '{l}' is not a relative path inside the tree")))?;
        lines.push(comps);
    }
    if lines.is_empty() {
        return Err(ExtractError::Malformed { archive: archive.into(), why: format!("{MANIFEST} is empty") });
    }
    Ok(lines)
}

fn unsafe_archive(archive: &str, why: String) -> ExtractError {
    ExtractError::Unsafe(Unsafe { by: UnsafeBy::Archive(archive.into()), why })
}

fn write_err(archive: &str, path: &Path, e: io::Error) -> ExtractError {
    ExtractError::Write { archive: archive.into(), path: path.to_path_buf(), source: e }
}

fn read_err(archive: &str, e: io::Error) -> ExtractError {
    ExtractError::Read { archive: archive.into(), source: e }
}

/// Removes whatever is at `p` (never following a symlink); nothing there is no error.
pub fn remove_path(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads the first member, which must be the manifest: its text and its lines.
fn read_manifest<R: Read>(entries: &mut tar::Entries<'_, R>, archive: &str) -> Result<(String, Vec<Vec<String>>), ExtractError> {
    let rd = |e: io::Error| read_err(archive, e);
    let first = entries.next().ok_or_else(|| ExtractError::Malformed { archive: archive.into(), why: "the archive is empty".into() })?.map_err(rd)?;
    let first_path = first.path().map_err(rd)?.to_path_buf();
    if clean_components(&first_path).map(|c| c.join("/")) != Some(MANIFEST.to_string()) {
        return Err(ExtractError::Malformed { archive: archive.into(), why: format!("its first member is '{}', not {MANIFEST}", first_path.display()) });
    }
    let mut text = String::new();
    first.take(16 << 20).read_to_string(&mut text).map_err(rd)?;
    let lines = parse_manifest(&text, archive)?;
    Ok((text, lines))
}

/// Extracts a tar stream into `root` (a fresh directory), writing at most `max_bytes` of file
/// contents.
pub fn extract<R: Read>(reader: R, root: &Path, layout: Layout, archive: &str, max_bytes: u64) -> Result<Extracted, ExtractError> {
    let rd = |e: io::Error| read_err(archive, e);
    let mut ar = tar::Archive::new(reader);
    let mut entries = ar.entries().map_err(rd)?;
    // A tarball without a manifest is one line that every member lies under: the root.
    let (text, manifest) = if layout == Layout::Whole { (String::new(), vec![Vec::new()]) } else { read_manifest(&mut entries, archive)? };
    make_dirs(root).map_err(|e| write_err(archive, root, e))?;
    // Where names fold: Windows and macOS always, and any file system the probe finds folding.
    let tree = if cfg!(any(windows, target_os = "macos")) || folds_case(root) { Tree::folding() } else { Tree::default() };
    let mut x = Extractor { root, layout, archive, manifest, tree, out: Extracted::default(), max_bytes, members: 0, links: Vec::new() };
    x.out.manifest = if layout == Layout::Whole { Vec::new() } else { x.manifest.iter().map(|c| c.join("/")).collect() };
    if layout == Layout::FullWithManifest {
        let at = root.join(MANIFEST);
        fs::write(&at, text.as_bytes()).map_err(|e| write_err(archive, &at, e))?;
        x.tree.set(&[MANIFEST.to_string()], Node::File);
    }
    for entry in entries {
        x.member(entry.map_err(rd)?)?;
    }
    x.finish()
}

struct Extractor<'a> {
    root: &'a Path,
    layout: Layout,
    archive: &'a str,
    manifest: Vec<Vec<String>>,
    tree: Tree,
    out: Extracted,
    max_bytes: u64,
    members: u64,
    /// Windows: the symlinks to replace by copies of their targets (`windows.rs`).
    #[cfg_attr(not(windows), allow(dead_code))]
    links: Vec<super::windows::Link>,
}

impl Extractor<'_> {
    fn unsafe_err(&self, why: String) -> ExtractError {
        unsafe_archive(self.archive, why)
    }

    fn rd(&self, e: io::Error) -> ExtractError {
        read_err(self.archive, e)
    }

    fn dest(&self, rel: &[String]) -> PathBuf {
        rel.iter().fold(self.root.to_path_buf(), |p, c| p.join(c))
    }

    /// A member path (or hard link target) inside the tree: its path in the staging tree, or
    /// `None` for the manifest directory itself.
    fn place_of(&self, raw: &Path, what: &str) -> Result<Option<Vec<String>>, ExtractError> {
        if raw.as_os_str().len() > MAX_PATH_BYTES {
            return Err(self.unsafe_err(format!("{what} path of {} bytes is longer than any real one", raw.as_os_str().len())));
        }
        let comps = clean_components(raw).ok_or_else(|| self.unsafe_err(format!("{what} '{}' has an absolute path or a '..' component", raw.display())))?;
        if comps.is_empty() {
            return Ok(None);
        }
        if comps.len() > MAX_COMPONENTS {
            return Err(self.unsafe_err(format!("{what} path has {} components, more than any real one", comps.len())));
        }
        let Some(line) = self.manifest.iter().filter(|l| comps.len() >= l.len() && comps[..l.len()] == l[..]).max_by_key(|l| l.len()) else {
            return Err(self.unsafe_err(format!("{what} '{}' lies outside every line of {MANIFEST}", raw.display())));
        };
        let rel = match self.layout {
            Layout::Flatten => comps[line.len()..].to_vec(),
            Layout::Full | Layout::FullWithManifest | Layout::Whole => comps,
        };
        if rel.first().is_some_and(|c| c.to_ascii_lowercase().starts_with(RESERVED_PREFIX)) {
            return Err(self.unsafe_err(format!("{what} '{}' uses a name this tool reserves for its own files", raw.display())));
        }
        #[cfg(windows)]
        let rel = super::windows::local_path(rel).map_err(|why| self.unsafe_err(format!("{what} '{}': {why}", raw.display())))?;
        Ok((!rel.is_empty()).then_some(rel))
    }

    /// Refuses a path that passes through a symlink or a file written earlier, or (where the
    /// file system ignores case) names an earlier path under another spelling.
    fn check_parents(&self, rel: &[String], raw: &Path) -> Result<(), ExtractError> {
        if let Some(other) = self.tree.case_alias(rel) {
            return Err(self.unsafe_err(format!(
                "member '{}' names '{}' under another spelling, and the output's file system ignores case",
                raw.display(),
                other.join("/")
            )));
        }
        match self.tree.blocked_at(rel) {
            Some((at, Node::Symlink(_))) => Err(self.unsafe_err(format!("member '{}' goes through the symlink '{}'", raw.display(), at.join("/")))),
            Some((at, _)) => Err(self.unsafe_err(format!("member '{}' goes through the file '{}'", raw.display(), at.join("/")))),
            None => Ok(()),
        }
    }

    fn member<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ExtractError> {
        self.members += 1;
        if self.members > MAX_MEMBERS {
            return Err(self.unsafe_err(format!("it holds more than {MAX_MEMBERS} members")));
        }
        let raw = entry.path().map_err(|e| self.rd(e))?.to_path_buf();
        let etype = entry.header().entry_type();
        let Some(rel) = self.place_of(&raw, "member")? else { return Ok(()) };
        self.check_parents(&rel, &raw)?;
        let dest = self.dest(&rel);
        if let Some(parent) = dest.parent() {
            make_dirs(parent).map_err(|e| write_err(self.archive, parent, e))?;
        }
        if etype.is_dir() {
            if !self.tree.is_dir(&rel) {
                remove_path(&dest).map_err(|e| write_err(self.archive, &dest, e))?;
            }
            make_dirs(&dest).map_err(|e| write_err(self.archive, &dest, e))?;
            self.tree.set(&rel, Node::Dir);
        } else if etype.is_file() || etype == tar::EntryType::Continuous || etype.is_gnu_sparse() {
            // A GNU sparse member comes expanded (its holes as zeros), its full size counted.
            self.refuse_pax_sparse(&mut entry, &raw)?;
            self.file(&mut entry, &rel, &dest)?;
        } else if etype.is_symlink() {
            let target = self.link_name(&entry, &raw, "symlink")?;
            self.symlink(&rel, &dest, &target, &raw)?;
        } else if etype.is_hard_link() {
            let target = self.link_name(&entry, &raw, "hardlink")?;
            self.hard_link(&rel, &dest, &target, &raw)?;
        } else if !(etype.is_character_special() || etype.is_block_special() || etype.is_fifo()) && entry.size() > 0 {
            // Never drop content silently: a member of a kind not extracted that carries bytes.
            return Err(ExtractError::Malformed {
                archive: self.archive.into(),
                why: format!("member '{}' is of a kind this tool does not extract (tar type '{}')", raw.display(), etype.as_byte().escape_ascii()),
            });
        }
        // Devices and fifos carry nothing to write.
        Ok(())
    }

    /// A GNU sparse file in PAX form (`GNU.sparse.*` records: its bytes are a map, then the
    /// data) would be written as garbage under a placeholder name: refused, naming it.
    fn refuse_pax_sparse<R: Read>(&self, entry: &mut tar::Entry<'_, R>, raw: &Path) -> Result<(), ExtractError> {
        let sparse = entry.pax_extensions().ok().flatten().is_some_and(|mut x| x.any(|e| e.is_ok_and(|e| e.key_bytes().starts_with(b"GNU.sparse."))));
        if sparse {
            return Err(ExtractError::Malformed {
                archive: self.archive.into(),
                why: format!("member '{}' is a GNU sparse file in PAX form, which this tool does not extract", raw.display()),
            });
        }
        Ok(())
    }

    fn link_name<R: Read>(&self, entry: &tar::Entry<'_, R>, raw: &Path, what: &str) -> Result<PathBuf, ExtractError> {
        let target = entry
            .link_name()
            .map_err(|e| self.rd(e))?
            .map(|t| t.to_path_buf())
            .ok_or_else(|| ExtractError::Malformed { archive: self.archive.into(), why: format!("{what} '{}' has no target", raw.display()) })?;
        let len = target.as_os_str().len();
        if len > MAX_PATH_BYTES || target.components().count() > MAX_COMPONENTS {
            return Err(self.unsafe_err(format!("{what} '{}' has a target of {len} bytes, longer than any real one", raw.display())));
        }
        Ok(target)
    }

    fn file<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, rel: &[String], dest: &Path) -> Result<(), ExtractError> {
        if self.out.bytes.saturating_add(entry.size()) > self.max_bytes {
            return Err(ExtractError::TooLarge { archive: self.archive.into(), limit: self.max_bytes });
        }
        remove_path(dest).map_err(|e| write_err(self.archive, dest, e))?;
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mode = entry.header().mode().unwrap_or(0o644);
            opts.mode(if mode & 0o111 != 0 { 0o755 } else { 0o644 });
        }
        let mut f = opts.open(dest).map_err(|e| write_err(self.archive, dest, e))?;
        let n = self.copy(entry, &mut f, dest)?;
        self.out.files += 1;
        self.out.bytes += n;
        self.tree.set(rel, Node::File);
        Ok(())
    }

    /// Copies a member's contents, telling a failure to read the archive from a failure to
    /// write the file.
    fn copy(&self, from: &mut impl Read, to: &mut fs::File, dest: &Path) -> Result<u64, ExtractError> {
        let mut buf = vec![0u8; 256 << 10];
        let mut n = 0u64;
        loop {
            let k = match from.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.rd(e)),
            };
            io::Write::write_all(to, &buf[..k]).map_err(|e| write_err(self.archive, dest, e))?;
            n += k as u64;
        }
    }

    fn symlink(&mut self, rel: &[String], dest: &Path, target: &Path, raw: &Path) -> Result<(), ExtractError> {
        if let Err(e) = self.tree.resolve_link(rel, target) {
            return Err(self.unsafe_err(escape_why(raw, target, e)));
        }
        remove_path(dest).map_err(|e| write_err(self.archive, dest, e))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, dest).map_err(|e| write_err(self.archive, dest, e))?;
        #[cfg(windows)]
        self.links.push(super::windows::Link { at: rel.to_vec(), target: target.to_path_buf() });
        self.tree.set(rel, Node::Symlink(target.to_path_buf()));
        Ok(())
    }

    fn hard_link(&mut self, rel: &[String], dest: &Path, target: &Path, raw: &Path) -> Result<(), ExtractError> {
        let outside = || self.unsafe_err(format!("hardlink '{}' -> '{}' points outside the output directory", raw.display(), target.display()));
        let trel = self.place_of(target, "hardlink target").map_err(|_| outside())?.ok_or_else(outside)?;
        if let Some((at, _)) = self.tree.blocked_at(&trel) {
            return Err(self.unsafe_err(format!("hardlink '{}' -> '{}' goes through '{}'", raw.display(), target.display(), at.join("/"))));
        }
        match self.tree.get(&trel).cloned() {
            Some(Node::File) if trel == rel => Ok(()),
            Some(Node::File) => {
                let src = self.dest(&trel);
                remove_path(dest).map_err(|e| write_err(self.archive, dest, e))?;
                if fs::hard_link(&src, dest).is_err() {
                    // A copy writes bytes: they count against the limit like any file's.
                    let size = fs::metadata(&src).map(|m| m.len()).unwrap_or(0);
                    if self.out.bytes.saturating_add(size) > self.max_bytes {
                        return Err(ExtractError::TooLarge { archive: self.archive.into(), limit: self.max_bytes });
                    }
                    self.out.bytes += fs::copy(&src, dest).map_err(|e| write_err(self.archive, dest, e))?;
                }
                self.out.files += 1;
                self.tree.set(rel, Node::File);
                Ok(())
            }
            // A hard link to a symlink is that symlink again, judged from its new place.
            Some(Node::Symlink(t)) => self.symlink(rel, dest, &t, raw),
            Some(Node::Dir) => Err(self.unsafe_err(format!("hardlink '{}' -> '{}' names a directory", raw.display(), target.display()))),
            None => Err(self.unsafe_err(format!("hardlink '{}' -> '{}' does not name an earlier file of the archive", raw.display(), target.display()))),
        }
    }

    /// Judges every symlink again now that the tree is complete.
    fn finish(mut self) -> Result<Extracted, ExtractError> {
        for (at, target) in self.tree.symlinks() {
            if let Err(e) = self.tree.resolve_link(&at, &target) {
                return Err(self.unsafe_err(escape_why(Path::new(&at.join("/")), &target, e)));
            }
            self.out.symlinks.push(at);
        }
        #[cfg(windows)]
        self.copy_links()?;
        // Directory modes are never the archive's: every directory is made 0755 less the umask
        // (no set-id or sticky bits, never world-writable). Ownership is never restored.
        Ok(self.out)
    }
}

fn escape_why(link: &Path, target: &Path, e: Escape) -> String {
    match e {
        Escape::Outside | Escape::Absolute => format!("symlink '{}' -> '{}' points outside the output directory", link.display(), target.display()),
        Escape::Loop => format!("symlink '{}' -> '{}' is part of a symlink loop", link.display(), target.display()),
    }
}

/// Whether the file system of `dir` ignores case (probed with a name of the tool's own).
fn folds_case(dir: &Path) -> bool {
    let probe = dir.join(".therock-artifacts-case-probe");
    if fs::write(&probe, b"").is_err() {
        return false;
    }
    let folds = fs::symlink_metadata(dir.join(".THEROCK-ARTIFACTS-CASE-PROBE")).is_ok();
    let _ = fs::remove_file(&probe);
    folds
}

/// Creates `p` and any missing parents, as 0755 less the umask.
fn make_dirs(p: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o755);
    b.create(p)
}

#[cfg(windows)]
impl Extractor<'_> {
    /// Windows gets no symlinks: each becomes a copy of what it leads to.
    fn copy_links(&mut self) -> Result<(), ExtractError> {
        use super::windows::NoCopy;
        self.out.symlinks.clear();
        let links = std::mem::take(&mut self.links);
        let budget = self.max_bytes.saturating_sub(self.out.bytes);
        let (files, bytes) = super::windows::copy_link_targets(&self.tree, self.root, links, budget).map_err(|e| match e {
            NoCopy::Dangling(l) => self.unsafe_err(format!(
                "symlink '{}' -> '{}' leads to nothing the archive holds, and Windows gets a copy of a symlink's target",
                l.at.join("/"),
                l.target.display()
            )),
            NoCopy::HoldsItself(l) => self.unsafe_err(format!(
                "symlink '{}' -> '{}' leads to a directory that holds it, and Windows gets a copy of a symlink's target",
                l.at.join("/"),
                l.target.display()
            )),
            NoCopy::Io(p, e) => write_err(self.archive, &p, e),
            NoCopy::TooLarge => ExtractError::TooLarge { archive: self.archive.into(), limit: self.max_bytes },
        })?;
        self.out.files += files;
        self.out.bytes += bytes;
        Ok(())
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
