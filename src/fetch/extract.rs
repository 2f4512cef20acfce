//! Extraction of one TheRock archive (a tar stream whose first member is
//! `artifact_manifest.txt`) into a fresh staging directory, and the sequential merge of staged
//! trees into the output. Works on any byte stream; knows nothing about networks.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

pub const MANIFEST: &str = "artifact_manifest.txt";

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("archive {archive} is unsafe: {why}")]
    Unsafe { archive: String, why: String },
    #[error("archive {archive} is malformed: {why}")]
    Malformed { archive: String, why: String },
    #[error("archive {archive} could not be read: {err}")]
    Read { archive: String, err: String },
    #[error("could not write {path} while extracting {archive}: {err}")]
    Write { archive: String, path: String, err: String },
}

/// How member paths map into the staging tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Strip the matching manifest line (`compiler/amd-llvm/stage/lib/x` -> `lib/x`).
    Flatten,
    /// Keep the full member path.
    Full,
}

#[derive(Debug, Default, Clone)]
pub struct Extracted {
    pub manifest: Vec<String>,
    pub files: u64,
    pub bytes: u64,
}

/// Splits a relative path into normal components; `None` when absolute or holding `..`.
fn clean_components(p: &Path) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s.to_str()?.to_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn parse_manifest(text: &str, archive: &str) -> Result<Vec<Vec<String>>, ExtractError> {
    let mut lines = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let comps = clean_components(Path::new(l))
            .filter(|c| !c.is_empty() && !l.starts_with('/'))
            .ok_or_else(|| ExtractError::Unsafe { archive: archive.into(), why: format!("manifest line '{l}' is not a relative path inside the tree") })?;
        lines.push(comps);
    }
    if lines.is_empty() {
        return Err(ExtractError::Malformed { archive: archive.into(), why: format!("{MANIFEST} is empty") });
    }
    Ok(lines)
}

/// Lexically resolves a symlink target from the link's directory; `None` if it leaves the root.
fn resolve_within(link_dir: &[String], target: &Path) -> Option<Vec<String>> {
    if target.is_absolute() || target.to_string_lossy().starts_with('/') {
        return None;
    }
    let mut cur: Vec<String> = link_dir.to_vec();
    for c in target.components() {
        match c {
            Component::Normal(s) => cur.push(s.to_str()?.to_string()),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(cur)
}

fn write_err(archive: &str, path: &Path, e: io::Error) -> ExtractError {
    ExtractError::Write { archive: archive.into(), path: path.display().to_string(), err: e.to_string() }
}

/// Removes whatever is at `p` (never following a symlink).
fn clear(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Extracts a tar stream into `root` (a fresh directory).
pub fn extract<R: Read>(reader: R, root: &Path, layout: Layout, archive: &str) -> Result<Extracted, ExtractError> {
    let rd = |e: io::Error| ExtractError::Read { archive: archive.into(), err: e.to_string() };
    let mut ar = tar::Archive::new(reader);
    let mut entries = ar.entries().map_err(rd)?;
    let mut out = Extracted::default();

    let first = entries.next().ok_or_else(|| ExtractError::Malformed { archive: archive.into(), why: "the archive is empty".into() })?.map_err(rd)?;
    let first_path = first.path().map_err(rd)?.to_path_buf();
    if clean_components(&first_path).map(|c| c.join("/")) != Some(MANIFEST.to_string()) {
        return Err(ExtractError::Malformed { archive: archive.into(), why: format!("its first member is '{}', not {MANIFEST}", first_path.display()) });
    }
    let mut text = String::new();
    first.take(16 << 20).read_to_string(&mut text).map_err(rd)?;
    let manifest = parse_manifest(&text, archive)?;
    out.manifest = manifest.iter().map(|c| c.join("/")).collect();

    fs::create_dir_all(root).map_err(|e| write_err(archive, root, e))?;
    let mut symlinks: HashSet<Vec<String>> = HashSet::new();
    let mut files: HashSet<Vec<String>> = HashSet::new();
    let mut dirs: HashSet<Vec<String>> = HashSet::new();
    let mut dir_modes: Vec<(PathBuf, u32)> = Vec::new();

    for entry in entries {
        let mut entry = entry.map_err(rd)?;
        let raw_path = entry.path().map_err(rd)?.to_path_buf();
        let unsafe_err = |why: String| ExtractError::Unsafe { archive: archive.into(), why };
        let comps = clean_components(&raw_path)
            .filter(|_| !raw_path.to_string_lossy().starts_with('/'))
            .ok_or_else(|| unsafe_err(format!("member '{}' has an absolute path or a '..' component", raw_path.display())))?;
        if comps.is_empty() {
            continue;
        }
        let etype = entry.header().entry_type();
        let Some(line) = manifest.iter().filter(|l| comps.len() >= l.len() && comps[..l.len()] == l[..]).max_by_key(|l| l.len()) else {
            return Err(unsafe_err(format!("member '{}' lies outside every line of {MANIFEST}", raw_path.display())));
        };
        let rel: Vec<String> = match layout {
            Layout::Flatten => comps[line.len()..].to_vec(),
            Layout::Full => comps.clone(),
        };
        if rel.is_empty() {
            continue; // the manifest directory itself
        }
        // Never write through a symlink this archive created.
        for i in 1..rel.len() {
            if symlinks.contains(&rel[..i]) {
                return Err(unsafe_err(format!("member '{}' goes through the symlink '{}'", raw_path.display(), rel[..i].join("/"))));
            }
        }
        let dest: PathBuf = rel.iter().fold(root.to_path_buf(), |p, c| p.join(c));
        let parent = dest.parent().unwrap_or(root).to_path_buf();
        let mkparent = || fs::create_dir_all(&parent).map_err(|e| write_err(archive, &parent, e));

        if etype.is_dir() {
            if let Ok(m) = fs::symlink_metadata(&dest) {
                if !m.is_dir() {
                    clear(&dest).map_err(|e| write_err(archive, &dest, e))?;
                }
            }
            fs::create_dir_all(&dest).map_err(|e| write_err(archive, &dest, e))?;
            dir_modes.push((dest.clone(), entry.header().mode().unwrap_or(0o755)));
            dirs.insert(rel);
        } else if etype.is_file() || etype == tar::EntryType::Continuous {
            mkparent()?;
            clear(&dest).map_err(|e| write_err(archive, &dest, e))?;
            let mode = entry.header().mode().unwrap_or(0o644);
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(if mode & 0o111 != 0 { 0o755 } else { 0o644 });
            }
            let mut f = opts.open(&dest).map_err(|e| write_err(archive, &dest, e))?;
            let n = io::copy(&mut entry, &mut f).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData | io::ErrorKind::Other => rd(e),
                _ => write_err(archive, &dest, e),
            })?;
            out.files += 1;
            out.bytes += n;
            files.insert(rel);
        } else if etype.is_symlink() {
            let target = entry
                .link_name()
                .map_err(rd)?
                .ok_or_else(|| ExtractError::Malformed { archive: archive.into(), why: format!("symlink '{}' has no target", raw_path.display()) })?
                .to_path_buf();
            if resolve_within(&rel[..rel.len() - 1], &target).is_none() {
                return Err(unsafe_err(format!("symlink '{}' -> '{}' points outside the output directory", raw_path.display(), target.display())));
            }
            mkparent()?;
            clear(&dest).map_err(|e| write_err(archive, &dest, e))?;
            make_symlink(&target, &dest).map_err(|e| write_err(archive, &dest, e))?;
            symlinks.insert(rel);
        } else if etype.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(rd)?
                .ok_or_else(|| ExtractError::Malformed { archive: archive.into(), why: format!("hardlink '{}' has no target", raw_path.display()) })?
                .to_path_buf();
            let tcomps = clean_components(&target)
                .filter(|c| !c.is_empty() && !target.to_string_lossy().starts_with('/'))
                .ok_or_else(|| unsafe_err(format!("hardlink '{}' -> '{}' points outside the output directory", raw_path.display(), target.display())))?;
            let Some(tline) = manifest.iter().filter(|l| tcomps.len() > l.len() && tcomps[..l.len()] == l[..]).max_by_key(|l| l.len()) else {
                return Err(unsafe_err(format!("hardlink '{}' -> '{}' points outside every manifest line", raw_path.display(), target.display())));
            };
            let trel: Vec<String> = match layout {
                Layout::Flatten => tcomps[tline.len()..].to_vec(),
                Layout::Full => tcomps.clone(),
            };
            if !files.contains(&trel) {
                return Err(unsafe_err(format!("hardlink '{}' -> '{}' does not name an earlier file of the archive", raw_path.display(), target.display())));
            }
            let src: PathBuf = trel.iter().fold(root.to_path_buf(), |p, c| p.join(c));
            mkparent()?;
            clear(&dest).map_err(|e| write_err(archive, &dest, e))?;
            if fs::hard_link(&src, &dest).is_err() {
                fs::copy(&src, &dest).map_err(|e| write_err(archive, &dest, e))?;
            }
            out.files += 1;
            files.insert(rel);
        }
        // Devices, fifos and PAX/GNU metadata entries carry nothing to write.
    }
    // Directory permissions last, deepest first, so a read-only directory does not stop the
    // writes into it. The owner keeps rwx: the tool must be able to merge, replace and clear
    // these trees on the next fetch. Ownership is never restored.
    #[cfg(unix)]
    for (d, mode) in dir_modes.iter().rev() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(d, fs::Permissions::from_mode((mode & 0o7777) | 0o700)).map_err(|e| write_err(archive, d, e))?;
    }
    Ok(out)
}

#[cfg(unix)]
fn make_symlink(target: &Path, dest: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, dest)
}

#[cfg(windows)]
fn make_symlink(target: &Path, dest: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, dest)
}

/// Moves a staged tree into `dest`, replacing what is there; whole subtrees move with one
/// rename when the destination lacks them. Never follows a symlink in the destination.
pub fn merge_into(staged: &Path, dest: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dest) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            fs::remove_file(dest)?;
            return fs::rename(staged, dest);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(p) = dest.parent() {
                fs::create_dir_all(p)?;
            }
            return fs::rename(staged, dest);
        }
        Err(e) => return Err(e),
    }
    let mut names: Vec<_> = fs::read_dir(staged)?.collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let src = e.path();
        let dst = dest.join(e.file_name());
        let st = fs::symlink_metadata(&src)?;
        let existing = fs::symlink_metadata(&dst).ok();
        match existing {
            None => fs::rename(&src, &dst)?,
            Some(m) if st.is_dir() && m.is_dir() => merge_into(&src, &dst)?,
            Some(m) => {
                if m.is_dir() {
                    fs::remove_dir_all(&dst)?;
                } else {
                    fs::remove_file(&dst)?;
                }
                fs::rename(&src, &dst)?;
            }
        }
    }
    Ok(())
}

pub fn remove_path(p: &Path) -> io::Result<()> {
    clear(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(path: &str, t: tar::EntryType, size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(t);
        h.set_size(size);
        h.set_mode(mode);
        // Bypass the builder's own path checks: the point is to feed hostile names.
        let name = path.as_bytes();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        h
    }

    fn tarball(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, t, data, link) in entries {
            let mut h = header(path, *t, data.len() as u64, 0o755);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
                h.set_cksum();
            }
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    const M: &str = "compiler/amd-llvm/stage\n";

    #[cfg(unix)]
    #[test]
    fn directory_modes_are_applied_last() {
        use std::os::unix::fs::PermissionsExt;
        let mut b = tar::Builder::new(Vec::new());
        let entries: [(&str, tar::EntryType, &[u8], u32); 4] = [
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), 0o644),
            ("compiler/amd-llvm/stage/share", tar::EntryType::Directory, b"", 0o550),
            ("compiler/amd-llvm/stage/share/doc.txt", tar::EntryType::Regular, b"doc", 0o644),
            ("compiler/amd-llvm/stage/lib", tar::EntryType::Directory, b"", 0o700),
        ];
        for (path, t, data, mode) in entries {
            b.append(&header(path, t, data.len() as u64, mode), data).unwrap();
        }
        let tb = b.into_inner().unwrap();
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        extract(&tb[..], &f, Layout::Flatten, "a.tar").unwrap();
        let mode = |p: &str| fs::metadata(f.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(fs::read(f.join("share/doc.txt")).unwrap(), b"doc", "written before the read-only mode was applied");
        assert_eq!(mode("share"), 0o750, "the archive's mode, owner keeps rwx");
        assert_eq!(mode("lib"), 0o700);
    }

    #[test]
    fn flatten_and_full_layouts() {
        let tb = tarball(&[
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
            ("compiler/amd-llvm/stage/bin", tar::EntryType::Directory, b"", None),
            ("compiler/amd-llvm/stage/bin/clang", tar::EntryType::Regular, b"ELF", None),
            ("compiler/amd-llvm/stage/bin/clang++", tar::EntryType::Symlink, b"", Some("clang")),
            ("compiler/amd-llvm/stage/bin/cc", tar::EntryType::Link, b"", Some("compiler/amd-llvm/stage/bin/clang")),
        ]);
        let d = tempfile::tempdir().unwrap();
        let r = extract(&tb[..], &d.path().join("f"), Layout::Flatten, "a.tar").unwrap();
        assert_eq!(r.manifest, vec!["compiler/amd-llvm/stage"]);
        assert_eq!(fs::read(d.path().join("f/bin/clang")).unwrap(), b"ELF");
        assert_eq!(fs::read_link(d.path().join("f/bin/clang++")).unwrap(), Path::new("clang"));
        assert_eq!(fs::read(d.path().join("f/bin/cc")).unwrap(), b"ELF");
        extract(&tb[..], &d.path().join("full"), Layout::Full, "a.tar").unwrap();
        assert!(d.path().join("full/compiler/amd-llvm/stage/bin/clang").is_file());
    }

    /// A member: path, type, contents, link target.
    type Entry<'a> = (&'a str, tar::EntryType, &'a [u8], Option<&'a str>);

    #[test]
    fn hostile_members_are_refused() {
        let cases: Vec<Vec<Entry>> = vec![
            vec![("compiler/amd-llvm/stage/x", tar::EntryType::Regular, b"x", None)],
            vec![("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), ("/etc/passwd", tar::EntryType::Regular, b"x", None)],
            vec![
                ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
                ("compiler/amd-llvm/stage/../../../x", tar::EntryType::Regular, b"x", None),
            ],
            vec![("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), ("other/x", tar::EntryType::Regular, b"x", None)],
            vec![
                ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
                ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("../../../../etc")),
            ],
            vec![
                ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
                ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("/etc")),
            ],
            vec![
                ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
                ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("sub")),
                ("compiler/amd-llvm/stage/l/x", tar::EntryType::Regular, b"x", None),
            ],
            vec![
                ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
                ("compiler/amd-llvm/stage/h", tar::EntryType::Link, b"", Some("/etc/passwd")),
            ],
            vec![("artifact_manifest.txt", tar::EntryType::Regular, b"../escape\n", None)],
        ];
        for (i, c) in cases.iter().enumerate() {
            let d = tempfile::tempdir().unwrap();
            let tb = tarball(c);
            let err = extract(&tb[..], &d.path().join("o"), Layout::Flatten, "evil.tar.zst");
            assert!(err.is_err(), "case {i} was accepted");
            assert!(err.unwrap_err().to_string().contains("evil.tar.zst"));
            assert!(!d.path().join("x").exists() && !d.path().join("escape").exists());
        }
    }

    #[test]
    fn merge_replaces_and_moves_subtrees() {
        let d = tempfile::tempdir().unwrap();
        let (s, o) = (d.path().join("s"), d.path().join("o"));
        fs::create_dir_all(s.join("a/b")).unwrap();
        fs::write(s.join("a/b/f"), "new").unwrap();
        fs::write(s.join("top"), "t").unwrap();
        fs::create_dir_all(o.join("a")).unwrap();
        fs::write(o.join("a/keep"), "k").unwrap();
        fs::create_dir_all(o.join("real")).unwrap();
        std::os::unix::fs::symlink(o.join("real"), o.join("top")).unwrap();
        merge_into(&s, &o).unwrap();
        assert_eq!(fs::read_to_string(o.join("a/b/f")).unwrap(), "new");
        assert_eq!(fs::read_to_string(o.join("a/keep")).unwrap(), "k");
        assert!(fs::symlink_metadata(o.join("top")).unwrap().is_file(), "a symlink in the destination is replaced, not followed");
    }
}
