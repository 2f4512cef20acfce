//! The TheRock pin of the super-repos' multi-arch CI (therock-facts.md §5): rocm-libraries'
//! `therock-multi-arch-ci.yml`, rocm-systems' `.github/therock_ref.json` and its `_therock_*`
//! wrappers. Every answer names the file and line it read.

use super::pins::override_default;
use super::sha::CommitSha;

fn is_full_sha(s: &str) -> bool {
    CommitSha::parse(s).is_some()
}
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

/// rocm-libraries' gating workflow, which carries its own pin.
pub const LIBRARIES_MULTI_ARCH: &str = ".github/workflows/therock-multi-arch-ci.yml";
/// rocm-systems' pin file, then the wrappers its update script keeps equal to it.
pub const SYSTEMS_REF_JSON: &str = ".github/therock_ref.json";
pub const SYSTEMS_WRAPPERS: &[&str] = &[
    ".github/workflows/_therock_setup_multi_arch.yml",
    ".github/workflows/_therock_multi_arch_ci_linux.yml",
    ".github/workflows/_therock_multi_arch_ci_windows.yml",
];
/// TheRock's reusable workflows a multi-arch caller names; the setup one resolves the run.
pub const REUSABLE: &[&str] = &["setup_multi_arch.yml", "multi_arch_ci_linux.yml", "multi_arch_ci_windows.yml"];

/// Where a pin (or the word that it has none) was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinAt {
    pub file: String,
    /// 1-based.
    pub line: usize,
}

impl std::fmt::Display for PinAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What a multi-arch source says about the TheRock commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuperPin {
    /// A 40-hex commit.
    Pin { sha: String, at: PinAt },
    /// A branch (`main`, `@main`) or `needs.resolve_therock_ref.outputs.*`: TheRock's `branch`
    /// as it was when the run started, resolved by time.
    AtRunTime { branch: String, at: PinAt, said: String },
    /// Nothing usable here (one sentence why): try the next source.
    NoPin(String),
    /// Bad input the next source cannot mend (one sentence naming file, line and what was expected).
    Invalid(String),
}

/// A read plus the warnings to show with it (pins that disagree, a bad file passed over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiArchRead {
    pub read: SuperPin,
    pub warnings: Vec<String>,
}

/// One value's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Sha(String),
    Branch(String),
}

/// One `uses:` or `ref:` entry naming TheRock.
struct Entry {
    line: usize,
    /// `setup_multi_arch.yml` etc. for `uses:`, `None` for a `ref:`.
    reusable: Option<&'static str>,
    text: String,
    value: Value,
}

/// `(indent, key, value)` of a `key: value` line (a list item's `- ` counts as indent).
fn key_value(line: &str) -> Option<(usize, &str, &str)> {
    let body = line.trim_start();
    let mut indent = line.len() - body.len();
    let body = match body.strip_prefix("- ") {
        Some(b) => {
            indent += 2 + (b.len() - b.trim_start().len());
            b.trim_start()
        }
        None => body,
    };
    if body.starts_with('#') {
        return None;
    }
    let (key, rest) = body.split_once(':')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() || key.contains(' ') {
        return None;
    }
    Some((indent, key, strip_scalar(rest)))
}

/// A scalar without its trailing comment and quotes.
fn strip_scalar(rest: &str) -> &str {
    let mut v = rest.trim();
    if !v.starts_with('"') && !v.starts_with('\'') {
        if let Some(i) = v.find(" #") {
            v = v[..i].trim_end();
        }
    } else if let Some(q) = v.chars().next() {
        if let Some(end) = v[1..].find(q) {
            return &v[1..1 + end];
        }
    }
    v
}

/// Whether the `ref:` at `i` sits in a mapping that also says `repository: ROCm/TheRock`.
fn under_therock_checkout(lines: &[&str], i: usize, indent: usize) -> bool {
    let sibling = |j: usize| -> Option<bool> {
        let l = lines[j];
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            return Some(false);
        }
        let (ind, key, value) = key_value(l)?;
        if ind < indent {
            return None;
        }
        Some(ind == indent && key == "repository" && value.eq_ignore_ascii_case("ROCm/TheRock"))
    };
    let back = (0..i).rev().map_while(sibling).any(|b| b);
    back || (i + 1..lines.len()).map_while(sibling).any(|b| b)
}

/// What a TheRock ref value means, or the bad-input sentence.
fn meaning(v: &str, at: &PinAt, what: &str) -> Result<Option<Value>, String> {
    if is_full_sha(v) {
        return Ok(Some(Value::Sha(v.to_ascii_lowercase())));
    }
    if v.contains("${{") {
        if let Some(sha) = override_default(v) {
            return Ok(Some(Value::Sha(sha.into())));
        }
        let last = v.trim().trim_start_matches("${{").trim_end_matches("}}").rsplit("||").next().unwrap_or("").trim();
        if last.starts_with("needs.resolve_therock_ref.outputs.") {
            return Ok(Some(Value::Branch("main".into())));
        }
        return Ok(None); // another expression: not a pin
    }
    let hexish = v.len() >= 7 && v.chars().all(|c| c.is_ascii_hexdigit());
    if v.is_empty() || hexish || !is_branch_name(v) {
        return Err(format!("{at}: {what} is '{v}', expected a 40-hex TheRock commit SHA or a branch"));
    }
    Ok(Some(Value::Branch(v.to_string())))
}

/// A plausible git branch name (git check-ref-format, roughly).
fn is_branch_name(v: &str) -> bool {
    !v.starts_with(['-', '/', '.'])
        && !v.ends_with(['/', '.'])
        && !v.contains("..")
        && !v.contains("//")
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// The TheRock entries of a multi-arch workflow or wrapper, or the first bad one.
fn entries(file: &str, text: &str) -> Result<Vec<Entry>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some((indent, key, v)) = key_value(l) else { continue };
        let at = PinAt { file: file.to_string(), line: i + 1 };
        let (reusable, what) = match key {
            "uses" => {
                let Some((path, reference)) = v.rsplit_once('@') else { continue };
                let Some(reusable) = REUSABLE.iter().find(|r| path.ends_with(&format!("/.github/workflows/{r}"))) else { continue };
                let owner_repo = path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
                if !owner_repo.eq_ignore_ascii_case("ROCm/TheRock") {
                    return Err(format!("{at}: 'uses: {v}' calls {owner_repo}, expected ROCm/TheRock's {reusable}"));
                }
                (Some(*reusable), reference)
            }
            "ref" if under_therock_checkout(&lines, i, indent) => (None, v),
            _ => continue,
        };
        let label = format!("'{key}: {v}'");
        if let Some(value) = meaning(what, &at, &label)? {
            out.push(Entry { line: i + 1, reusable, text: format!("{key}: {v}"), value });
        }
    }
    Ok(out)
}

/// Reads one multi-arch workflow (rocm-libraries' top-level file, or a rocm-systems wrapper):
/// every `uses: ROCm/TheRock/.github/workflows/{setup_multi_arch,multi_arch_ci_*}.yml@<ref>` and
/// every `ref:` beside `repository: ROCm/TheRock`. All equal: the pin. Disagreeing: a warning
/// naming both lines, and the `setup_multi_arch.yml` one wins.
pub fn read_multi_arch_workflow(file: &str, text: &str) -> MultiArchRead {
    let plain = |read| MultiArchRead { read, warnings: Vec::new() };
    if let Err(e) = serde_saphyr::from_str::<BTreeMap<String, IgnoredAny>>(text) {
        let first = e.to_string().lines().next().unwrap_or("").to_string();
        return plain(SuperPin::NoPin(format!("{file} is not a YAML workflow ({first}), expected a mapping with `jobs:`")));
    }
    let found = match entries(file, text) {
        Ok(f) => f,
        Err(sentence) => return plain(SuperPin::Invalid(sentence)),
    };
    let Some(winner) = found.iter().find(|e| e.reusable == Some("setup_multi_arch.yml")).or(found.first()) else {
        return plain(SuperPin::NoPin(format!("{file} calls no ROCm/TheRock reusable workflow at a commit and checks out no ROCm/TheRock ref")));
    };
    let warnings = found
        .iter()
        .filter(|e| e.value != winner.value)
        .map(|e| {
            format!(
                "{file}:{} says '{}' but {file}:{} says '{}'; taking line {} ({})",
                winner.line,
                winner.text,
                e.line,
                e.text,
                winner.line,
                if winner.reusable == Some("setup_multi_arch.yml") { "the setup_multi_arch.yml call resolves the run" } else { "the first one" }
            )
        })
        .collect();
    let at = PinAt { file: file.to_string(), line: winner.line };
    let read = match &winner.value {
        Value::Sha(sha) => SuperPin::Pin { sha: sha.clone(), at },
        Value::Branch(b) => SuperPin::AtRunTime { branch: b.clone(), at, said: winner.text.clone() },
    };
    MultiArchRead { read, warnings }
}

/// Reads rocm-systems' `.github/therock_ref.json` (`{"ref": "<40-hex sha>", ...}`). Not JSON, no
/// `ref`, or a `ref` that is not a 40-hex SHA: bad input, said in one sentence; the wrappers are
/// the next source.
pub fn read_ref_json(text: &str) -> SuperPin {
    let f = SYSTEMS_REF_JSON;
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return SuperPin::NoPin(format!("{f}:{} is not JSON ({e}), expected {{\"ref\": \"<40-hex sha>\"}}", e.line().max(1))),
    };
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1);
    match v.get("ref") {
        Some(serde_json::Value::String(s)) if is_full_sha(s.trim()) => {
            SuperPin::Pin { sha: s.trim().to_ascii_lowercase(), at: PinAt { file: f.into(), line: line_of("\"ref\"") } }
        }
        Some(other) => SuperPin::NoPin(format!("{f}:{}: \"ref\" is {other}, expected a 40-hex TheRock commit SHA", line_of("\"ref\""))),
        None => SuperPin::NoPin(format!("{f}:1: no \"ref\", expected {{\"ref\": \"<40-hex sha>\"}}")),
    }
}

/// rocm-systems' multi-arch pin: `therock_ref.json` first, then each wrapper present (`None`: not
/// in the commit) until one pins or says "at run time". A wrapper that disagrees with the winner
/// is a warning; bad input that is passed over is a warning too.
pub fn read_systems_multi_arch(ref_json: Option<&str>, wrappers: &[(&str, Option<&str>)]) -> MultiArchRead {
    let mut warnings = Vec::new();
    let mut winner: Option<SuperPin> = None;
    let mut notes = Vec::new();
    match ref_json.map(read_ref_json) {
        Some(SuperPin::NoPin(why)) => warnings.push(format!("{why}; trying the wrappers")),
        Some(pin) => winner = Some(pin),
        None => notes.push(format!("{SYSTEMS_REF_JSON}: not present")),
    }
    for (file, text) in wrappers {
        let Some(text) = text else {
            notes.push(format!("{file}: not present"));
            continue;
        };
        let r = read_multi_arch_workflow(file, text);
        warnings.extend(r.warnings);
        match r.read {
            SuperPin::Invalid(s) if winner.is_none() => return MultiArchRead { read: SuperPin::Invalid(s), warnings },
            SuperPin::Invalid(why) | SuperPin::NoPin(why) if winner.is_some() => warnings.push(why),
            SuperPin::Invalid(why) | SuperPin::NoPin(why) => notes.push(why),
            read => match &winner {
                None => winner = Some(read),
                Some(w) => warnings.extend(disagreement(w, &read)),
            },
        }
    }
    let read = winner.unwrap_or_else(|| SuperPin::NoPin(format!("no multi-arch TheRock pin: {}", notes.join("; "))));
    MultiArchRead { read, warnings }
}

fn disagreement(winner: &SuperPin, other: &SuperPin) -> Option<String> {
    let show = |p: &SuperPin| match p {
        SuperPin::Pin { sha, at } => Some((sha.clone(), at.clone())),
        SuperPin::AtRunTime { said, at, .. } => Some((said.clone(), at.clone())),
        _ => None,
    };
    let ((a, at_a), (b, at_b)) = (show(winner)?, show(other)?);
    (a != b).then(|| format!("{at_a} says {a} but {at_b} says {b}; taking {at_a}"))
}

#[cfg(test)]
#[path = "pins_multiarch_tests.rs"]
mod tests;
