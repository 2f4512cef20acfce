//! TheRock's super-repo submodules and what a bump moved: which gitlinks changed between two
//! TheRock commits, and which of them a bisection follows.

use super::run::short_sha;

/// TheRock's submodules that are super-repos: (path in TheRock, repository).
pub const SUBMODULES: [(&str, &str); 2] = [("rocm-libraries", "ROCm/rocm-libraries"), ("rocm-systems", "ROCm/rocm-systems")];

/// The path of a super-repo's submodule in TheRock (`ROCm/rocm-systems` -> `rocm-systems`;
/// a fork keeps its name).
pub fn submodule_of(repo_name: &str) -> Option<&'static str> {
    SUBMODULES.iter().find(|(path, _)| repo_name.eq_ignore_ascii_case(path)).map(|(path, _)| *path)
}

/// One submodule's gitlinks before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub path: &'static str,
    pub repo: &'static str,
    pub before: String,
    pub after: String,
}

/// The submodules whose gitlink differs between `before` and `after` (one `Option` per entry
/// of `SUBMODULES`: `None` where the path is no submodule at that commit).
pub fn moved(before: &[Option<String>], after: &[Option<String>]) -> Vec<Moved> {
    SUBMODULES
        .iter()
        .zip(before.iter().zip(after))
        .filter_map(|((path, repo), pair)| match pair {
            (Some(b), Some(a)) if a != b => Some(Moved { path, repo, before: b.clone(), after: a.clone() }),
            _ => None,
        })
        .collect()
}

/// The one moved submodule to bisect: the only one, or `wanted`; else the sentence to show.
pub fn choose(moved: Vec<Moved>, wanted: Option<&str>, range: &str) -> Result<Moved, String> {
    let told = |m: &[Moved]| m.iter().map(|m| format!("{} ({}..{})", m.path, short_sha(&m.before), short_sha(&m.after))).collect::<Vec<_>>().join(" and ");
    match (wanted, moved.len()) {
        (_, 0) => Err(format!("TheRock {range} moved no submodule (neither rocm-libraries nor rocm-systems): there is no super-repo range to bisect")),
        (Some(w), _) => match moved.iter().position(|m| m.path == w) {
            Some(i) => Ok(moved.into_iter().nth(i).expect("found")),
            None => Err(format!("TheRock {range} did not move {w}; it moved {}", told(&moved))),
        },
        (None, 1) => Ok(moved.into_iter().next().expect("one")),
        (None, _) => Err(format!("TheRock {range} moved {}: pass --submodule NAME to say which to bisect", told(&moved))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(c: char) -> Option<String> {
        Some(c.to_string().repeat(40))
    }

    #[test]
    fn only_changed_gitlinks_moved() {
        let m = moved(&[s('a'), s('b')], &[s('a'), s('c')]);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].path, m[0].repo), ("rocm-systems", "ROCm/rocm-systems"));
        assert!(moved(&[None, s('b')], &[s('a'), s('b')]).is_empty(), "a submodule that appears is no range");
    }

    #[test]
    fn one_submodule_is_chosen_or_the_sentence_says_which_moved() {
        assert_eq!(choose(moved(&[s('a'), s('b')], &[s('d'), s('b')]), None, "x").unwrap().path, "rocm-libraries");
        let both = moved(&[s('a'), s('b')], &[s('d'), s('e')]);
        let e = choose(both.clone(), None, "x").unwrap_err();
        assert!(e.contains("rocm-libraries (aaaaaaaaaaaa..dddddddddddd) and rocm-systems") && e.contains("--submodule"), "{e}");
        assert_eq!(choose(both, Some("rocm-systems"), "x").unwrap().after, "e".repeat(40));
        assert!(choose(Vec::new(), None, "x").unwrap_err().contains("moved no submodule"));
        let e = choose(moved(&[s('a'), s('b')], &[s('d'), s('b')]), Some("rocm-systems"), "x").unwrap_err();
        assert!(e.contains("did not move rocm-systems; it moved rocm-libraries"), "{e}");
    }

    #[test]
    fn super_repo_names_map_to_their_submodule_paths() {
        assert_eq!(submodule_of("rocm-systems"), Some("rocm-systems"));
        assert_eq!(submodule_of("TheRock"), None);
    }
}
