//! Commit SHAs, checked once where they enter: a full commit id is 40 hexadecimal digits
//! (kept lowercase); a user may abbreviate one to 7 or more.

use std::fmt;

/// A full, lowercase, 40-hex commit id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CommitSha(String);

/// Whether `s` is `len` hexadecimal digits, for some `len` in `lens`.
fn hex_of_len(s: &str, lens: std::ops::RangeInclusive<usize>) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl CommitSha {
    /// A full 40-hex SHA (either case), or `None`.
    pub fn parse(s: &str) -> Option<CommitSha> {
        hex_of_len(s, 40..=40).then(|| CommitSha(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, as messages show a commit.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CommitSha {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<CommitSha> for String {
    fn from(s: CommitSha) -> String {
        s.0
    }
}

impl PartialEq<str> for CommitSha {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for CommitSha {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A commit SHA as a user may write one: 7 to 40 hexadecimal digits.
pub fn is_sha_like(s: &str) -> bool {
    hex_of_len(s, 7..=40)
}

/// Hex-only text of commit-like length (7 or more digits): meant as a commit, full or not.
pub fn is_hex_commitish(s: &str) -> bool {
    hex_of_len(s, 7..=usize::MAX)
}

/// What GitHub's commits endpoint is asked, in order, for a ref a user names: a branch, then a
/// tag, then a commit (dawidd6/action-download-artifact's order). A full SHA is only a commit;
/// a qualified name (`heads/x`, `refs/tags/v1`) is only what it says.
pub fn ref_candidates(name: &str) -> Vec<String> {
    let name = name.trim();
    let bare = name.strip_prefix("refs/").unwrap_or(name);
    if bare.starts_with("heads/") || bare.starts_with("tags/") {
        return vec![bare.to_string()];
    }
    if hex_of_len(name, 40..=40) {
        return vec![name.to_ascii_lowercase()];
    }
    vec![format!("heads/{name}"), format!("tags/{name}"), name.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_is_tried_as_a_branch_then_a_tag_then_a_commit() {
        assert_eq!(ref_candidates("release/7.1"), ["heads/release/7.1", "tags/release/7.1", "release/7.1"]);
        assert_eq!(ref_candidates("abc1234"), ["heads/abc1234", "tags/abc1234", "abc1234"], "short hex can be a branch name");
        let full = "A".repeat(40);
        assert_eq!(ref_candidates(&full), ["a".repeat(40)], "a full SHA is only a commit");
        assert_eq!(ref_candidates("refs/tags/v1"), ["tags/v1"]);
        assert_eq!(ref_candidates("heads/main"), ["heads/main"]);
    }

    #[test]
    fn full_shas_parse_lowercase_and_abbreviations_do_not() {
        let upper = "0123456789ABCDEF0123456789abcdef01234567";
        let sha = CommitSha::parse(upper).unwrap();
        assert_eq!(sha.as_str(), upper.to_ascii_lowercase());
        assert_eq!(sha.short(), "0123456789ab");
        assert!(CommitSha::parse("0123456").is_none());
        assert!(CommitSha::parse(&"g".repeat(40)).is_none());
        assert!(is_sha_like("abcdef0") && !is_sha_like("abcdef") && !is_sha_like("main"));
        assert!(!is_sha_like(&"a".repeat(41)) && is_hex_commitish(&"a".repeat(41)));
    }
}
