//! The state a parallel bisection (`bisect --plan`) carries from one round to the next: the
//! range, the results so far and the round in flight, sealed with a digest of its contents so
//! a state from another range, or one edited by hand, is refused.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bisect::Verdict;

/// A tested commit and what its test said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tested {
    pub commit: String,
    pub verdict: Verdict,
}

/// What a round hands to the next (everything but the digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanState {
    pub repo: String,
    pub good: String,
    pub bad: String,
    pub ways: usize,
    /// The round in flight (1 for the first).
    pub round: usize,
    /// A digest of the range's candidates (the commits with artifacts, oldest first).
    pub range: String,
    /// The commits the round in flight tests.
    pub pending: Vec<String>,
    /// Every earlier round's results, in order.
    pub results: Vec<Tested>,
}

/// A state with its digest, as printed and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    #[serde(flatten)]
    pub state: PlanState,
    pub digest: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The digest naming a range by its candidates.
pub fn range_digest(candidates: &[&str]) -> String {
    sha256_hex(candidates.join("\n").as_bytes())
}

impl PlanState {
    pub fn seal(self) -> Sealed {
        let digest = sha256_hex(serde_json::to_string(&self).expect("a state serializes").as_bytes());
        Sealed { state: self, digest }
    }
}

impl Sealed {
    /// The state in a document: the state itself, or a whole round's document holding it
    /// under `state`; refused when its digest does not match its contents.
    pub fn open(doc: &serde_json::Value) -> Result<PlanState, String> {
        let v = doc.get("state").unwrap_or(doc);
        let sealed: Sealed = serde_json::from_value(v.clone()).map_err(|e| format!("it is no bisect --plan state ({e})"))?;
        let expected = sealed.state.clone().seal().digest;
        if sealed.digest != expected {
            return Err("its digest does not match its contents: it was edited by hand or damaged".into());
        }
        Ok(sealed.state)
    }
}

/// `SHA=good|bad|skip`.
pub fn parse_result(s: &str) -> Result<(String, Verdict), String> {
    let (sha, v) = s.split_once('=').ok_or_else(|| format!("'{s}' is not SHA=good|bad|skip"))?;
    let sha = sha.trim().to_ascii_lowercase();
    if !super::sha::is_hex_commitish(&sha) {
        return Err(format!("'{sha}' in '{s}' is not a commit SHA"));
    }
    let v = match v.trim() {
        "good" => Verdict::Good,
        "bad" => Verdict::Bad,
        "skip" => Verdict::Skip,
        other => return Err(format!("'{other}' in '{s}' is not good, bad or skip")),
    };
    Ok((sha, v))
}

/// Which pending commit each result names (a SHA or a prefix of exactly one); the sentence
/// for a result outside the round.
pub fn match_results(pending: &[String], results: &[(String, Verdict)], round: usize) -> Result<Vec<Tested>, String> {
    results
        .iter()
        .map(|(sha, verdict)| {
            let hits: Vec<&String> = pending.iter().filter(|p| p.starts_with(sha.as_str())).collect();
            match hits[..] {
                [one] => Ok(Tested { commit: one.clone(), verdict: *verdict }),
                _ => Err(format!(
                    "--result names commit {sha}, which round {round} does not test (it tests {})",
                    pending.iter().map(|p| super::run::short_sha(p)).collect::<Vec<_>>().join(", ")
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> PlanState {
        PlanState {
            repo: "ROCm/TheRock".into(),
            good: "a".repeat(40),
            bad: "b".repeat(40),
            ways: 3,
            round: 1,
            range: range_digest(&["c", "d"]),
            pending: vec!["c".repeat(40), "d".repeat(40)],
            results: Vec::new(),
        }
    }

    #[test]
    fn a_sealed_state_opens_alone_or_inside_its_round_document() {
        let sealed = serde_json::to_value(state().seal()).unwrap();
        assert_eq!(Sealed::open(&sealed).unwrap(), state());
        let doc = serde_json::json!({"status": "planned", "round": 1, "state": sealed});
        assert_eq!(Sealed::open(&doc).unwrap(), state());
    }

    #[test]
    fn a_state_edited_by_hand_is_refused() {
        let mut sealed = serde_json::to_value(state().seal()).unwrap();
        sealed["pending"] = serde_json::json!(["e".repeat(40)]);
        assert!(Sealed::open(&sealed).unwrap_err().contains("edited by hand"));
        assert!(Sealed::open(&serde_json::json!({"x": 1})).unwrap_err().contains("no bisect --plan state"));
    }

    #[test]
    fn results_parse_and_must_name_a_commit_of_the_round() {
        assert_eq!(parse_result("CCCCCCC=bad").unwrap(), ("ccccccc".into(), Verdict::Bad));
        assert!(parse_result("ccccccc").is_err());
        assert!(parse_result("ccccccc=maybe").unwrap_err().contains("not good, bad or skip"));
        assert!(parse_result("xyz=good").unwrap_err().contains("not a commit SHA"));
        let s = state();
        let got = match_results(&s.pending, &[("ccccccc".into(), Verdict::Good)], 1).unwrap();
        assert_eq!(got, vec![Tested { commit: "c".repeat(40), verdict: Verdict::Good }]);
        let e = match_results(&s.pending, &[("eeeeeee".into(), Verdict::Good)], 1).unwrap_err();
        assert!(e.contains("round 1 does not test"), "{e}");
    }
}
