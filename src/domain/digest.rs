//! SHA-256 digests, parsed once: a digest read from a sidecar, a cache reference or a blob's
//! name is checked here and is a `Sha256` from then on, so no path is ever built from text that
//! was not one.

/// A SHA-256 digest as 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256(String);

impl Sha256 {
    /// Exactly 64 lower-case hex digits (a name the tool wrote itself: a reference file's
    /// first word, a blob's file name).
    pub fn parse(s: &str) -> Option<Sha256> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then(|| Sha256(s.to_string()))
    }

    /// 64 hex digits in either case, as a `.sha256sum` sidecar written elsewhere may have them.
    pub fn parse_any_case(s: &str) -> Option<Sha256> {
        Sha256::parse(&s.to_ascii_lowercase())
    }

    /// The digest a hasher finished with.
    pub fn from_bytes(bytes: &[u8; 32]) -> Sha256 {
        Sha256(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Sha256 {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sixty_four_hex_digits_are_a_digest() {
        let h = "a".repeat(64);
        assert_eq!(Sha256::parse(&h).map(|d| d.to_string()), Some(h.clone()));
        assert!(Sha256::parse(&h.to_uppercase()).is_none(), "a name the tool wrote is lower case");
        assert_eq!(Sha256::parse_any_case(&h.to_uppercase()).map(|d| d.to_string()), Some(h.clone()));
        for bad in ["", "../../etc/passwd", &"a".repeat(63), &"g".repeat(64), &format!("{}/", "a".repeat(63))] {
            assert!(Sha256::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Sha256::from_bytes(&[0xab; 32]).as_str(), "ab".repeat(32));
    }
}
