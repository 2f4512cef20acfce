//! What extraction does differently when the output is on Windows: names Windows cannot hold
//! are mapped or refused, and symlinks become copies of what they lead to (creating a symlink
//! needs developer mode or an elevated shell, and a link to a directory needs to know it is
//! one; a copy works for every user and every consumer of the tree).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::tree::Tree;
use crate::domain::winname;

/// The member path as Windows can hold it: each name mapped (`:` -> `%3A`), or why not.
pub fn local_path(rel: Vec<String>) -> Result<Vec<String>, String> {
    rel.into_iter()
        .map(|c| match winname::refusal(&c) {
            Some(why) => Err(format!("{why}: Windows cannot hold this name")),
            None => Ok(winname::map_name(&c).into_owned()),
        })
        .collect()
}

/// A symlink of the archive, to be replaced by a copy of its target once the archive is written.
pub struct Link {
    pub at: Vec<String>,
    pub target: PathBuf,
}

/// Why a link cannot become a copy.
pub enum NoCopy {
    /// It leads nowhere the archive wrote.
    Dangling(Link),
    /// It leads to a directory that holds it (the copy would hold itself).
    HoldsItself(Link),
    Io(PathBuf, io::Error),
    /// The copies would write more than the archive's limit.
    TooLarge,
}

fn folded(p: &[String]) -> Vec<String> {
    p.iter().map(|c| winname::fold(c)).collect()
}

fn at(root: &Path, rel: &[String]) -> PathBuf {
    rel.iter().fold(root.to_path_buf(), |p, c| p.join(c))
}

/// Writes a copy of each link's target at the link's place (links still standing in `tree`,
/// the last of those written at one place), links inside a copied directory first. Returns the
/// files and bytes written.
pub fn copy_link_targets(tree: &Tree, root: &Path, links: Vec<Link>, budget: u64) -> Result<(u64, u64), NoCopy> {
    let mut pending: Vec<(Link, Vec<String>)> = Vec::new();
    for l in links.into_iter().rev() {
        let still = tree.link_target(&l.at).as_ref() == Some(&l.target);
        if still && !pending.iter().any(|(p, _)| folded(&p.at) == folded(&l.at)) {
            let to = tree.resolve_link(&l.at, &l.target).map_err(|_| NoCopy::Dangling(Link { at: l.at.clone(), target: l.target.clone() }))?;
            pending.push((l, to));
        }
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    while !pending.is_empty() {
        let undone: Vec<Vec<String>> = pending.iter().map(|(l, _)| folded(&l.at)).collect();
        let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(l, to)| {
            let to = folded(to);
            !undone.iter().any(|u| u != &folded(&l.at) && u.starts_with(&to))
        });
        if ready.is_empty() {
            let (l, _) = waiting.into_iter().next().expect("pending links");
            return Err(NoCopy::HoldsItself(l));
        }
        for (l, to) in ready {
            if folded(&l.at).starts_with(&folded(&to)) {
                return Err(NoCopy::HoldsItself(l));
            }
            let (src, dst) = (at(root, &to), at(root, &l.at));
            let m = match fs::symlink_metadata(&src) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NoCopy::Dangling(l)),
                Err(e) => return Err(NoCopy::Io(src, e)),
            };
            let (f, b) = copy_tree(&src, &dst, m.is_dir(), budget - bytes.min(budget))?;
            files += f;
            bytes += b;
        }
        pending = waiting;
    }
    Ok((files, bytes))
}

fn copy_tree(src: &Path, dst: &Path, is_dir: bool, budget: u64) -> Result<(u64, u64), NoCopy> {
    fn io_err(p: &Path) -> impl FnOnce(io::Error) -> NoCopy + '_ {
        move |e| NoCopy::Io(p.to_path_buf(), e)
    }
    if !is_dir {
        let size = fs::metadata(src).map_err(io_err(src))?.len();
        if size > budget {
            return Err(NoCopy::TooLarge);
        }
        // The size as listed: fs::copy's own count is 0 under Wine.
        return fs::copy(src, dst).map(|_| (1, size)).map_err(io_err(dst));
    }
    fs::create_dir_all(dst).map_err(io_err(dst))?;
    let (mut files, mut bytes) = (0, 0);
    for e in fs::read_dir(src).map_err(io_err(src))? {
        let e = e.map_err(io_err(src))?;
        let sub_dir = e.file_type().map_err(io_err(src))?.is_dir();
        let (f, b) = copy_tree(&e.path(), &dst.join(e.file_name()), sub_dir, budget - bytes)?;
        files += f;
        bytes += b;
    }
    Ok((files, bytes))
}

/// A rename, retried for a few seconds while Windows says another process holds the file (an
/// indexer, a virus scanner, a program still running from the output: upstream's "used by
/// another process"), then failed with an error that names it. Elsewhere: `fs::rename`.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    let mut waits = [50u64, 100, 200, 400, 800, 1000, 1000].into_iter();
    loop {
        match fs::rename(from, to) {
            Err(e) if in_use(&e) => match waits.next() {
                Some(ms) => std::thread::sleep(std::time::Duration::from_millis(ms)),
                None => {
                    let why = format!(
                        "{} (or a file in it) is used by another process; close what holds it open and fetch again ({e})",
                        dunce::simplified(from).display()
                    );
                    return Err(io::Error::new(e.kind(), why));
                }
            },
            res => return res,
        }
    }
}

/// ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: on Windows, what a
/// rename of a file another process holds open fails with.
fn in_use(e: &io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::tree::Node;

    fn p(s: &str) -> Vec<String> {
        s.split('/').map(String::from).collect()
    }

    #[test]
    fn links_become_copies_of_files_and_directories_and_links_inside_a_copied_directory_come_first() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("lib")).unwrap();
        fs::write(root.join("lib/libfoo.so.1"), "elf").unwrap();
        let mut t = Tree::folding();
        t.set(&p("lib/libfoo.so.1"), Node::File);
        let links = vec![
            Link { at: p("include/lib"), target: "../lib".into() },
            Link { at: p("lib/libfoo.so"), target: "libfoo.so.1".into() },
            Link { at: p("lib/old"), target: "gone".into() },
        ];
        for l in &links {
            t.set(&l.at, Node::Symlink(l.target.clone()));
        }
        t.set(&p("lib/old"), Node::File); // replaced after the link: not a link any more
        fs::write(root.join("lib/old"), "file").unwrap();
        let (files, bytes) = copy_link_targets(&t, root, links, 1 << 20).ok().unwrap();
        assert_eq!(fs::read_to_string(root.join("lib/libfoo.so")).unwrap(), "elf");
        assert_eq!(fs::read_to_string(root.join("include/lib/libfoo.so")).unwrap(), "elf", "the inner link was copied before its directory");
        assert_eq!(fs::read_to_string(root.join("include/lib/old")).unwrap(), "file");
        assert_eq!((files, bytes), (4, 3 + 3 + 3 + 4));
    }

    #[test]
    fn a_dangling_link_and_a_link_to_its_own_directory_cannot_be_copied() {
        let d = tempfile::tempdir().unwrap();
        let mut t = Tree::default();
        t.set(&p("a/x"), Node::Symlink("nothing".into()));
        let r = copy_link_targets(&t, d.path(), vec![Link { at: p("a/x"), target: "nothing".into() }], 100);
        assert!(matches!(r, Err(NoCopy::Dangling(l)) if l.at == p("a/x")));
        fs::create_dir_all(d.path().join("a")).unwrap();
        let mut t = Tree::default();
        t.set(&p("a/self"), Node::Symlink(".".into()));
        let r = copy_link_targets(&t, d.path(), vec![Link { at: p("a/self"), target: ".".into() }], 100);
        assert!(matches!(r, Err(NoCopy::HoldsItself(_))));
    }

    #[test]
    fn a_rename_not_refused_for_a_held_file_is_one_rename() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a"), "x").unwrap();
        rename(&d.path().join("a"), &d.path().join("b")).unwrap();
        assert!(d.path().join("b").is_file());
        assert_eq!(rename(&d.path().join("a"), &d.path().join("c")).unwrap_err().kind(), io::ErrorKind::NotFound, "no retry for a missing file");
    }
}
