//! Messages in the action's own terms: the tool's errors name command-line flags; a workflow
//! author sets inputs, so each flag the action has an input for is named as that input, and
//! advice about a flag the action lacks is replaced by what the author can do instead.

use crate::resolve::ResolveError;
use crate::sources::github::GhError;

/// Command-line flags and the inputs that set the same thing.
const FLAGS: &[(&str, &str)] = &[
    ("--repo", "repository"),
    ("--commit", "commit"),
    ("--run-id", "run-id"),
    ("--pr", "pr"),
    ("--artifact-group", "artifact-group"),
    ("--amdgpu-target", "amdgpu-targets"),
    ("--platform", "platform"),
    ("--workflow", "workflow"),
    ("--branch", "branch"),
    ("--base-branch", "base-branch"),
    ("--max-commits", "max-commits"),
    ("--max-age-hours", "max-age-hours"),
    ("--therock-repo", "therock-repository"),
    ("--output-dir", "output-dir"),
    ("--include", "include"),
    ("--exclude", "exclude"),
    ("--extract", "extract"),
    ("--require-artifact", "require-artifact"),
    ("--require-successful-run", "require-successful-run"),
    ("--dry-run", "dry-run"),
    ("--from-run-id", "from-run-id"),
    ("--from", "from"),
    ("--to-run-id", "to-run-id"),
    ("--to", "to"),
];

/// Advice about flags the action has no input for, and what to say instead.
const ADVICE: &[(&str, &str)] = &[
    ("; pass --force if that is really meant", "; give input 'output-dir' a directory inside the workspace"),
    ("the --include/--exclude filters", "the 'include'/'exclude' inputs"),
    ("--no-verify", "verify: false"),
];

/// `msg` with every flag the action has an input for named as that input.
pub fn in_action_terms(msg: &str) -> String {
    let mut out = msg.to_string();
    for (from, to) in ADVICE {
        out = out.replace(from, to);
    }
    let mut rest = out.as_str();
    let mut done = String::with_capacity(out.len());
    while let Some(at) = rest.find("--") {
        done.push_str(&rest[..at]);
        let tail = &rest[at..];
        let flag_len = 2 + tail[2..].find(|c: char| !(c.is_ascii_lowercase() || c == '-')).unwrap_or(tail.len() - 2);
        let flag = &tail[..flag_len];
        match FLAGS.iter().find(|(f, _)| *f == flag) {
            Some((_, input)) => done.push_str(&format!("input '{input}'")),
            None => done.push_str(flag),
        }
        rest = &tail[flag_len..];
    }
    done.push_str(rest);
    done
}

/// Where the token the tool sent came from: the first given of input `github-token`,
/// `GITHUB_TOKEN`, `GH_TOKEN` (the order the client takes them in).
pub fn token_advice(source: Option<&str>) -> String {
    match source {
        Some("input 'github-token'") => "GitHub refused the token of input 'github-token' as invalid: check that the secret it names exists where this workflow runs (a pull request from a fork gets no secrets) and has not expired or been revoked; leave 'github-token' unset to use the job's own token".into(),
        Some(env) => format!("GitHub refused the token in {env} as invalid: check the value the step's env: gives {env}, or unset it and leave 'github-token' at its default (the job's own token)"),
        None => "GitHub refused the request as unauthenticated: give input 'github-token' (its default is the job's own token)".into(),
    }
}

/// The HTTP 401 a token got, anywhere in the error's chain.
fn is_unauthorized(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let gh = c.downcast_ref::<GhError>().or_else(|| match c.downcast_ref::<ResolveError>() {
            Some(ResolveError::GitHub(g)) => Some(g),
            _ => None,
        });
        matches!(gh, Some(GhError::Refused { status: 401, .. }))
    })
}

/// A run's error as the action says it: in its terms, and for a refused token which one.
pub fn failure(e: &anyhow::Error, token_source: Option<&str>) -> String {
    let msg = in_action_terms(&format!("{e:#}"));
    if is_unauthorized(e) {
        return format!("{msg}. {}", token_advice(token_source));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_with_an_input_are_named_as_inputs() {
        assert_eq!(in_action_terms("drop --require-artifact or raise --max-commits"), "drop input 'require-artifact' or raise input 'max-commits'");
        assert_eq!(in_action_terms("--from-run-id and --from differ"), "input 'from-run-id' and input 'from' differ");
        assert_eq!(in_action_terms("no flag -- here, --require-single-run stays"), "no flag -- here, --require-single-run stays");
    }

    #[test]
    fn advice_about_flags_the_action_lacks_is_replaced() {
        let m = in_action_terms("refusing to write into /usr: it is a system directory (or holds a root file system); pass --force if that is really meant");
        assert!(!m.contains("--force") && m.contains("input 'output-dir'"), "{m}");
        assert_eq!(in_action_terms("the --include/--exclude filters selected no archive"), "the 'include'/'exclude' inputs selected no archive");
    }

    #[test]
    fn a_refused_token_names_its_source() {
        assert!(token_advice(Some("input 'github-token'")).contains("input 'github-token'"));
        assert!(token_advice(Some("GH_TOKEN")).contains("GH_TOKEN"));
        let e: anyhow::Error = ResolveError::GitHub(GhError::Refused { what: "runs".into(), status: 401, message: "Bad credentials".into() }).into();
        let m = failure(&e, Some("GITHUB_TOKEN"));
        assert!(m.contains("Bad credentials") && m.contains("token in GITHUB_TOKEN"), "{m}");
        let other: anyhow::Error = GhError::Refused { what: "runs".into(), status: 500, message: "x".into() }.into();
        assert!(!failure(&other, Some("GITHUB_TOKEN")).contains("GITHUB_TOKEN"));
    }
}
