//! What an extraction has written, path by path, and where a symlink leads when followed
//! through the links written so far. Pure: the same resolution serves the in-memory model of
//! one archive and, through a lookup of the real filesystem, the committed output.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// What stands at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    File,
    /// A symlink and its target as written.
    Symlink(PathBuf),
}

/// Links followed at most while resolving one path (a loop is refused).
const MAX_HOPS: usize = 40;

/// Why a symlink target is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// It leads above the root.
    Outside,
    /// It is absolute.
    Absolute,
    /// Links loop (or chain too deep).
    Loop,
}

/// Splits a relative path into normal components; `None` when absolute or holding `..`.
pub fn clean_components(p: &Path) -> Option<Vec<String>> {
    if p.to_string_lossy().starts_with('/') {
        return None;
    }
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

/// Resolves `target` as a symlink in directory `dir` would, following every link `link_at`
/// reports on the way (it returns a path's link target when the path is a symlink). The result
/// is the path the link leads to, relative to the root; `Err` when it leaves the root, is
/// absolute, or loops. Paths not known to be links count as directories.
pub fn resolve(dir: &[String], target: &Path, link_at: &dyn Fn(&[String]) -> Option<PathBuf>) -> Result<Vec<String>, Escape> {
    let mut cur: Vec<String> = dir.to_vec();
    let mut pending: Vec<String> = Vec::new(); // components still to walk, in reverse order
    push_target(&mut pending, target)?;
    let mut hops = 0;
    while let Some(c) = pending.pop() {
        match c.as_str() {
            "." | "" => {}
            ".." => {
                cur.pop().ok_or(Escape::Outside)?;
            }
            name => {
                cur.push(name.to_string());
                if let Some(next) = link_at(&cur) {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err(Escape::Loop);
                    }
                    cur.pop();
                    push_target(&mut pending, &next)?;
                }
            }
        }
    }
    Ok(cur)
}

/// What separates path components where links are followed: only `/` on Unix (there `a\b` is
/// one name, and splitting it would let a target climb where the kernel does not).
#[cfg(unix)]
const SEPARATORS: &[char] = &['/'];
#[cfg(not(unix))]
const SEPARATORS: &[char] = &['/', '\\'];

fn push_target(pending: &mut Vec<String>, target: &Path) -> Result<(), Escape> {
    let text = target.to_string_lossy();
    if text.starts_with('/') || text.starts_with('\\') || target.is_absolute() || target.has_root() {
        return Err(Escape::Absolute);
    }
    let parts: Vec<String> = text.split(SEPARATORS).map(String::from).collect();
    pending.extend(parts.into_iter().rev());
    Ok(())
}

/// The paths one archive has written so far, relative to its root. Where the file system
/// ignores case (`folding`), paths are compared as it compares them, and the spelling each was
/// first written with is kept, to refuse another spelling of it.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: HashMap<Vec<String>, Node>,
    fold: bool,
    spelled: HashMap<Vec<String>, Vec<String>>,
}

impl Tree {
    /// A tree for a file system that ignores case (macOS, Windows, casefolded directories).
    pub fn folding() -> Tree {
        Tree { fold: true, ..Tree::default() }
    }

    /// `p` as the file system compares it.
    fn key<'p>(&self, p: &'p [String]) -> std::borrow::Cow<'p, [String]> {
        if self.fold {
            std::borrow::Cow::Owned(p.iter().map(|c| c.to_lowercase()).collect())
        } else {
            std::borrow::Cow::Borrowed(p)
        }
    }

    /// Where names fold: the path the archive wrote earlier that a prefix of `p` names under
    /// another spelling (writing `p` would go through, or replace, what the model knows by that
    /// other name).
    pub fn case_alias(&self, p: &[String]) -> Option<Vec<String>> {
        if !self.fold {
            return None;
        }
        (1..=p.len()).find_map(|i| self.spelled.get(&self.key(&p[..i])[..]).filter(|s| s[..] != p[..i]).cloned())
    }

    pub fn get(&self, p: &[String]) -> Option<&Node> {
        self.nodes.get(&self.key(p)[..])
    }

    /// The first proper prefix of `p` that is not a directory (a symlink or a file): writing
    /// `p` would go through it. Absent prefixes are fine: they are created as directories.
    pub fn blocked_at<'p>(&self, p: &'p [String]) -> Option<(&'p [String], &Node)> {
        (1..p.len()).find_map(|i| match self.get(&p[..i]) {
            Some(Node::Dir) | None => None,
            Some(n) => Some((&p[..i], n)),
        })
    }

    /// Records `node` at `p` (and directories above it); whatever stood at `p` before, and
    /// everything below it, is gone.
    pub fn set(&mut self, spelled: &[String], node: Node) {
        let p = self.key(spelled).into_owned();
        let replaced = self.nodes.get(&p).cloned();
        if matches!(replaced, Some(Node::Dir)) && node != Node::Dir {
            let below = |k: &Vec<String>| k.len() > p.len() && k.starts_with(&p);
            self.nodes.retain(|k, _| !below(k));
            self.spelled.retain(|k, _| !below(k));
        }
        for i in 1..p.len() {
            self.nodes.entry(p[..i].to_vec()).or_insert(Node::Dir);
        }
        if self.fold {
            for i in 1..=p.len() {
                self.spelled.entry(p[..i].to_vec()).or_insert_with(|| spelled[..i].to_vec());
            }
        }
        if !(node == Node::Dir && replaced == Some(Node::Dir)) {
            self.nodes.insert(p, node);
        }
    }

    pub fn link_target(&self, p: &[String]) -> Option<PathBuf> {
        match self.get(p) {
            Some(Node::Symlink(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// Where a symlink at `at` with `target` leads, through the links written so far.
    pub fn resolve_link(&self, at: &[String], target: &Path) -> Result<Vec<String>, Escape> {
        resolve(&at[..at.len().saturating_sub(1)], target, &|p| self.link_target(p))
    }

    /// Every symlink, with its target.
    pub fn symlinks(&self) -> Vec<(Vec<String>, PathBuf)> {
        let mut v: Vec<(Vec<String>, PathBuf)> =
            self.nodes.iter().filter_map(|(k, n)| if let Node::Symlink(t) = n { Some((k.clone(), t.clone())) } else { None }).collect();
        v.sort();
        v
    }

    pub fn is_dir(&self, p: &[String]) -> bool {
        matches!(self.get(p), Some(Node::Dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('/').filter(|c| !c.is_empty()).map(String::from).collect()
    }

    #[test]
    fn lexical_targets_resolve_from_the_links_directory() {
        let t = Tree::default();
        assert_eq!(t.resolve_link(&p("a/b/l"), Path::new("../c")).unwrap(), p("a/c"));
        assert_eq!(t.resolve_link(&p("a/l"), Path::new("../../x")), Err(Escape::Outside));
        assert_eq!(t.resolve_link(&p("a/l"), Path::new("/etc")), Err(Escape::Absolute));
        assert_eq!(t.resolve_link(&p("l"), Path::new(".")).unwrap(), p(""));
    }

    #[test]
    fn a_chain_of_links_is_followed_before_judging_a_target() {
        // up -> ../../.. is inside from a/b/c; esc -> up/../../etc looks inside lexically,
        // but through `up` it leads to /etc.
        let mut t = Tree::default();
        t.set(&p("a/b/c/up"), Node::Symlink("../../..".into()));
        assert_eq!(t.resolve_link(&p("a/b/c/up"), Path::new("../../..")).unwrap(), p(""));
        assert_eq!(t.resolve_link(&p("a/b/c/esc"), Path::new("up/../../etc")), Err(Escape::Outside));
        t.set(&p("a/b/c/me"), Node::Symlink("me".into()));
        assert_eq!(t.resolve_link(&p("a/b/c/x"), Path::new("me/y")), Err(Escape::Loop));
    }

    #[cfg(unix)]
    #[test]
    fn a_backslash_is_part_of_a_name_as_the_kernel_sees_it() {
        // Down one directory named `a\b\c`, then up four: above the root, whatever the model
        // would think after splitting at the backslashes.
        let t = Tree::default();
        assert_eq!(t.resolve_link(&p("esc"), Path::new("a\\b\\c/../../../../etc")), Err(Escape::Outside));
    }

    #[test]
    fn where_names_fold_a_case_alias_is_seen_through_and_refused() {
        // d/UP -> ../.. ; d/esc -> up/../.. ; d/Esc/x: on a case-insensitive file system `up`
        // is the link `UP`, and `Esc` is the link `esc`.
        let mut t = Tree::folding();
        t.set(&p("d/UP"), Node::Symlink("../..".into()));
        assert_eq!(t.resolve_link(&p("d/esc"), Path::new("up/../..")), Err(Escape::Outside));
        t.set(&p("d/esc"), Node::Symlink(".".into()));
        assert_eq!(t.case_alias(&p("d/Esc/x")), Some(p("d/esc")));
        assert!(t.blocked_at(&p("d/Esc/x")).is_some());
        assert_eq!(t.case_alias(&p("d/esc/x")), None);
        assert_eq!(Tree::default().case_alias(&p("d/Esc/x")), None, "bytes are names where nothing folds");
    }

    #[test]
    fn a_folding_tree_sees_names_that_differ_in_case_as_one_path() {
        // Issue 21 item 13: `d/UP -> ../..`, then `d/esc -> up/../..` climbs through UP, and
        // `d/Esc/x` goes through the link `d/esc`.
        let mut t = Tree::folding();
        t.set(&p("d/UP"), Node::Symlink("../..".into()));
        assert_eq!(t.resolve_link(&p("d/esc"), Path::new("up/../..")), Err(Escape::Outside));
        t.set(&p("d/esc"), Node::Symlink("sub".into()));
        assert!(matches!(t.blocked_at(&p("d/Esc/x")), Some((_, Node::Symlink(_)))));
        let mut bytes = Tree::default();
        bytes.set(&p("d/UP"), Node::Symlink("../..".into()));
        assert!(bytes.resolve_link(&p("d/esc"), Path::new("up/../..")).is_ok(), "a byte-comparing tree does not see UP in up");
    }

    #[test]
    fn writing_through_a_link_or_a_file_is_blocked_and_replacing_a_directory_drops_its_contents() {
        let mut t = Tree::default();
        t.set(&p("s/a/f"), Node::File);
        assert!(t.is_dir(&p("s/a")), "parents become directories");
        t.set(&p("s/a"), Node::Symlink("../x".into()));
        assert!(t.get(&p("s/a/f")).is_none(), "the directory's contents went with it");
        let g = p("s/a/g");
        let (at, n) = t.blocked_at(&g).unwrap();
        assert_eq!((at, n), (&p("s/a")[..], &Node::Symlink("../x".into())));
        t.set(&p("s/file"), Node::File);
        assert!(t.blocked_at(&p("s/file/x")).is_some());
        assert!(t.blocked_at(&p("s/new/x")).is_none());
    }
}
