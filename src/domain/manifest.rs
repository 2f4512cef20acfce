//! `manifests/therock_manifest.json`, which a super-repo run uploads beside its archives: which
//! TheRock commit the run built against.

use super::sha::CommitSha;

/// The key of the manifest under a run's prefix.
pub const MANIFEST_KEY: &str = "manifests/therock_manifest.json";

/// What the tool reads of a run's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `the_rock_commit`, when it is a full SHA.
    pub the_rock_commit: Option<CommitSha>,
}

impl Manifest {
    /// The manifest in `body`, or `None` when it is not a JSON object.
    pub fn parse(body: &[u8]) -> Option<Manifest> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.as_object()?;
        let the_rock_commit = v.get("the_rock_commit").and_then(|c| c.as_str()).and_then(|c| CommitSha::parse(c.trim()));
        Some(Manifest { the_rock_commit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_therock_commit_is_read_only_when_it_is_a_full_sha() {
        let sha = "0123456789ABCDEF0123456789abcdef01234567";
        let m = Manifest::parse(format!(r#"{{"the_rock_commit": " {sha} ", "submodules": []}}"#).as_bytes()).unwrap();
        assert_eq!(m.the_rock_commit.unwrap().as_str(), sha.to_ascii_lowercase());
        assert_eq!(Manifest::parse(br#"{"the_rock_commit": "main"}"#).unwrap().the_rock_commit, None);
        assert!(Manifest::parse(b"not json").is_none());
    }
}
