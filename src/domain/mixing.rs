//! Whether a fetch may write into an output directory another fetch wrote (issue 24 item 1).
//!
//! The output records which fetches wrote it. A fetch of another commit either replaces their
//! files (where a mixed tree is never right: `bootstrap`, whose `.prebuilt` markers would make
//! TheRock's CMake skip building with another commit's binaries, and `per-artifact`) or is
//! refused with the flags that say what is meant: `--clean` (start from an empty output) and
//! `--merge` (layer on purpose). A fetch of the commit already there layers as before.

/// What the user asked about an earlier fetch's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mixing {
    /// Neither flag: replace or refuse, by extract mode.
    #[default]
    Default,
    /// `--clean`: remove what earlier fetches placed first.
    Clean,
    /// `--merge`: layer over it on purpose.
    Merge,
}

impl Mixing {
    /// From `--clean` and `--merge` (action inputs `clean`, `merge`), which exclude each other.
    pub fn from_flags(clean: bool, merge: bool) -> Result<Mixing, &'static str> {
        match (clean, merge) {
            (true, true) => Err("--clean (start from an empty output) and --merge (layer over it) cannot be given together"),
            (true, false) => Ok(Mixing::Clean),
            (false, true) => Ok(Mixing::Merge),
            (false, false) => Ok(Mixing::Default),
        }
    }
}

/// What a fetch does with the files earlier fetches placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layering {
    /// Keep them and record them beside this fetch's (the same commit, or `--merge`).
    Keep,
    /// Remove them, in the same commit that places this fetch's files.
    Replace,
    /// Fetch nothing: this sentence says why and what to pass.
    Refuse(String),
}

/// What the fetch of `this` (a label: `commit abc..`, `release 7.0.0`) into `out` does about the
/// earlier fetches of `earlier` (their labels, oldest first; empty: nothing recorded). `replaces`
/// is whether its extract mode replaces by default (`bootstrap`, `per-artifact`).
pub fn decide(earlier: &[String], this: &str, out: &str, mode: &str, replaces: bool, mixing: Mixing) -> Layering {
    let others: Vec<&String> = earlier.iter().filter(|e| *e != this).collect();
    match mixing {
        Mixing::Clean if !earlier.is_empty() => Layering::Replace,
        Mixing::Merge => Layering::Keep,
        _ if others.is_empty() => Layering::Keep,
        _ if replaces => Layering::Replace,
        _ => Layering::Refuse(refusal(&others, this, out, mode)),
    }
}

/// The one sentence a refused fetch says: both commits, and both flags.
fn refusal(others: &[&String], this: &str, out: &str, mode: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    for o in others {
        if !names.contains(&o.as_str()) {
            names.push(o);
        }
    }
    format!(
        "the output directory {out} holds the files of {} and this fetch is of {this}, which --extract {mode} would mix with them: pass --clean to remove what the earlier fetch placed first (files this tool did not write are kept), or --merge to layer {this} over it on purpose (action inputs clean, merge)",
        names.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_output_no_fetch_recorded_is_layered_into() {
        for replaces in [false, true] {
            for m in [Mixing::Default, Mixing::Clean, Mixing::Merge] {
                assert_eq!(decide(&[], "commit b", "/o", "flatten", replaces, m), Layering::Keep);
            }
        }
    }

    #[test]
    fn a_refetch_of_the_same_commit_is_layered_as_before() {
        let e = labels(&["commit a"]);
        assert_eq!(decide(&e, "commit a", "/o", "flatten", false, Mixing::Default), Layering::Keep);
        assert_eq!(decide(&e, "commit a", "/o", "bootstrap", true, Mixing::Default), Layering::Keep);
    }

    #[test]
    fn another_commit_is_replaced_in_bootstrap_and_per_artifact_and_refused_in_flatten_and_archives() {
        let e = labels(&["commit a"]);
        assert_eq!(decide(&e, "commit b", "/o", "bootstrap", true, Mixing::Default), Layering::Replace);
        let Layering::Refuse(why) = decide(&e, "commit b", "/o", "flatten", false, Mixing::Default) else { panic!("not refused") };
        for part in ["commit a", "commit b", "--clean", "--merge", "/o", "--extract flatten"] {
            assert!(why.contains(part), "{part} missing from: {why}");
        }
        assert!(!why.contains(". "), "one sentence: {why}");
    }

    #[test]
    fn clean_replaces_even_the_same_commit_and_merge_keeps_any() {
        let e = labels(&["commit a", "commit b"]);
        assert_eq!(decide(&e, "commit a", "/o", "flatten", false, Mixing::Clean), Layering::Replace);
        assert_eq!(decide(&e, "commit c", "/o", "flatten", false, Mixing::Merge), Layering::Keep);
        assert_eq!(decide(&e, "commit c", "/o", "bootstrap", true, Mixing::Merge), Layering::Keep);
    }

    #[test]
    fn clean_and_merge_exclude_each_other() {
        assert_eq!(Mixing::from_flags(false, false), Ok(Mixing::Default));
        assert_eq!(Mixing::from_flags(true, false), Ok(Mixing::Clean));
        assert_eq!(Mixing::from_flags(false, true), Ok(Mixing::Merge));
        assert!(Mixing::from_flags(true, true).is_err());
    }

    #[test]
    fn a_layered_output_names_every_other_commit_once() {
        let e = labels(&["commit a", "commit b", "commit a"]);
        let Layering::Refuse(why) = decide(&e, "commit c", "/o", "archives", false, Mixing::Default) else { panic!("not refused") };
        assert!(why.contains("commit a and commit b and this fetch is of commit c"), "{why}");
    }
}
