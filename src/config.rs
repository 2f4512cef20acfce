//! One validated configuration. CLI flags and action inputs both arrive as `Raw`; `build` is
//! the only place that parses, defaults and rejects input.

use regex::Regex;
use std::path::PathBuf;

use crate::domain::buckets::{Platform, ReleaseType, Repo};
use crate::domain::families::{is_target_syntax, ArtifactGroup};
use crate::git::Checkout;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommandKind {
    #[default]
    Find,
    Latest,
    Baseline,
    Fetch,
    Compare,
}

/// Everything either front end can say, as text, before validation.
#[derive(Debug, Clone, Default)]
pub struct Raw {
    pub command: CommandKind,
    pub repo: Option<String>,
    pub commit: Option<String>,
    pub run_id: Option<String>,
    pub pr: Option<String>,
    pub groups: Vec<String>,
    pub targets: Vec<String>,
    pub platform: Option<String>,
    pub workflow: Option<String>,
    pub json: bool,
    pub require_artifact: Vec<String>,
    pub require_single_run: bool,
    pub require_successful_run: bool,
    pub branch: Option<String>,
    pub base_branch: Option<String>,
    pub max_commits: Option<String>,
    pub therock_repo: Option<String>,
    pub baseline: bool,
    pub output_dir: Option<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub extract: Option<String>,
    pub no_verify: bool,
    pub dry_run: bool,
    pub no_cache: bool,
    pub to: Option<String>,
    pub to_run_id: Option<String>,
    pub to_platform: Option<String>,
    pub deep: bool,
    pub filter: Vec<String>,
    pub markdown: bool,
    pub top: Option<String>,
    /// Token given explicitly (the action's `github-token` input).
    pub token: Option<String>,
}

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// 7 to 40 lower-case hex digits; `local_only` when the checkout has it but no remote does.
    Commit {
        sha: String,
        local_only: bool,
    },
    RunId(u64),
    Pr(u64),
}

impl Subject {
    pub fn describe(&self) -> String {
        match self {
            Subject::Commit { sha, .. } => format!("commit {sha}"),
            Subject::RunId(id) => format!("run {id}"),
            Subject::Pr(n) => format!("pull request #{n}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractMode {
    Flatten,
    PerArtifact,
    Archives,
    Bootstrap,
}

impl ExtractMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "flatten" => Ok(ExtractMode::Flatten),
            "per-artifact" => Ok(ExtractMode::PerArtifact),
            "archives" => Ok(ExtractMode::Archives),
            "bootstrap" => Ok(ExtractMode::Bootstrap),
            o => Err(format!("unknown extract mode '{o}': expected flatten, per-artifact, archives or bootstrap")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub output_dir: PathBuf,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    pub extract: ExtractMode,
    pub verify: bool,
    pub dry_run: bool,
    /// `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub to: Subject,
    pub to_platform: Option<Platform>,
    pub deep: bool,
    pub filter: Vec<Regex>,
    pub markdown: bool,
    pub top: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub command: CommandKind,
    pub repo: Repo,
    /// The workflow given with --workflow, if any.
    pub workflow_flag: Option<String>,
    pub platform: Platform,
    pub groups: Vec<ArtifactGroup>,
    pub subject: Option<Subject>,
    pub json: bool,
    pub required: Vec<(String, Regex)>,
    pub require_single_run: bool,
    pub require_successful_run: bool,
    pub branch: Option<String>,
    pub base_branch: Option<String>,
    pub max_commits: usize,
    pub therock_repo: Repo,
    pub baseline: bool,
    pub fetch: Option<FetchOptions>,
    pub compare: Option<CompareOptions>,
    pub release: ReleaseType,
    pub checkout: Option<Checkout>,
    pub token: Option<String>,
}

impl Config {
    /// The workflow to query for `repo`: the flag, else the repository's default.
    pub fn workflow_for(&self, repo: &Repo) -> String {
        self.workflow_flag.clone().unwrap_or_else(|| repo.default_workflow().to_string())
    }
}

fn parse_regexes(list: &[String], what: &str) -> Result<Vec<Regex>, String> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Regex::new(s.trim()).map_err(|e| format!("invalid {what} regex '{}': {}", s.trim(), first_line(&e.to_string()))))
        .collect()
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

fn parse_u64(s: &str, what: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| format!("invalid {what} '{}': expected a positive whole number", s.trim()))
}

/// Validates a commit argument: 7 to 40 hex digits (or a ref the checkout resolves).
pub fn parse_commit(s: &str, checkout: Option<&Checkout>) -> Result<Subject, String> {
    let s = s.trim();
    let is_hex = !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    if let Some(co) = checkout {
        // A local name (HEAD, a branch) or an abbreviated SHA the checkout knows.
        if let Some(full) = co.resolve(s) {
            let local_only = !co.is_pushed(&full);
            return Ok(Subject::Commit { sha: full, local_only });
        }
    }
    if is_hex && (7..=40).contains(&s.len()) {
        return Ok(Subject::Commit { sha: s.to_ascii_lowercase(), local_only: false });
    }
    Err(format!("malformed commit SHA '{s}': expected 7 to 40 hexadecimal digits"))
}

pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("THEROCK_ARTIFACTS_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if cfg!(windows) {
        if let Some(d) = std::env::var_os("LOCALAPPDATA") {
            return PathBuf::from(d).join("therock-artifacts").join("cache");
        }
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("therock-artifacts");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".cache").join("therock-artifacts");
    }
    std::env::temp_dir().join("therock-artifacts-cache")
}

fn nonempty(o: &Option<String>) -> Option<String> {
    o.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn validate_workflow(w: &str) -> Result<String, String> {
    let w = w.trim();
    let w = w.strip_prefix(".github/workflows/").unwrap_or(w);
    if w.is_empty() || w.contains('/') || !(w.ends_with(".yml") || w.ends_with(".yaml")) {
        return Err(format!("invalid workflow '{w}': expected a workflow file name such as multi_arch_ci.yml"));
    }
    Ok(w.to_string())
}

impl Config {
    pub fn build(raw: Raw, checkout: Option<Checkout>) -> Result<Config, String> {
        // Groups: values may be separated by spaces or commas too (the action's input form).
        let names: Vec<String> = raw
            .groups
            .iter()
            .flat_map(|g| g.split([' ', ',', '\n', '\t', '\r']).map(str::to_string).collect::<Vec<_>>())
            .filter(|s| !s.trim().is_empty())
            .collect();
        if names.is_empty() {
            return Err("no artifact group given: name at least one, e.g. --artifact-group gfx94X-dcgpu".into());
        }
        let mut groups = Vec::new();
        for n in &names {
            let g = ArtifactGroup::parse(n)?;
            if !groups.iter().any(|x: &ArtifactGroup| x.name == g.name) {
                groups.push(g);
            }
        }
        let targets: Vec<String> = raw
            .targets
            .iter()
            .flat_map(|t| t.split([' ', ',', '\n']).map(str::to_string).collect::<Vec<_>>())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if !targets.is_empty() {
            if groups.len() > 1 {
                return Err(format!(
                    "--amdgpu-target applies to a single artifact group, but {} were given ({})",
                    groups.len(),
                    groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            if let Some(bad) = targets.iter().find(|t| !is_target_syntax(t)) {
                return Err(format!("invalid amdgpu target '{bad}': expected a gfx target such as gfx942"));
            }
            groups[0].add_targets(&targets);
        }

        let repo = match nonempty(&raw.repo) {
            Some(r) => Repo::parse(&r)?,
            None => checkout
                .as_ref()
                .and_then(|c| c.origin_repo())
                .ok_or("no --repo given and the current directory is not a git checkout with a GitHub origin remote")?,
        };
        // The checkout only speaks for the commit when it is a checkout of that repository
        // (or of a fork: same repository name).
        let checkout = checkout.filter(|c| c.origin_repo().is_some_and(|o| o.name.eq_ignore_ascii_case(&repo.name)));

        let workflow_flag = nonempty(&raw.workflow).map(|w| validate_workflow(&w)).transpose()?;
        let platform = match nonempty(&raw.platform) {
            Some(p) => Platform::parse(&p)?,
            None => Platform::host(),
        };
        let release = ReleaseType::parse(std::env::var("RELEASE_TYPE").ok().as_deref())?;

        let run_id = nonempty(&raw.run_id).map(|r| parse_u64(&r, "run id")).transpose()?;
        let pr = nonempty(&raw.pr).map(|r| parse_u64(r.trim_start_matches('#'), "pull request number")).transpose()?;
        let subject = if let Some(id) = run_id {
            Some(Subject::RunId(id))
        } else if let Some(n) = pr {
            Some(Subject::Pr(n))
        } else if let Some(c) = nonempty(&raw.commit) {
            Some(parse_commit(&c, checkout.as_ref())?)
        } else if raw.command == CommandKind::Latest {
            None
        } else if let Some(co) = &checkout {
            Some(parse_commit("HEAD", Some(co))?)
        } else {
            return Err("no --commit given and the current directory is not a git checkout of the repository".into());
        };

        let required = raw
            .require_artifact
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                Regex::new(s.trim())
                    .map(|r| (s.trim().to_string(), r))
                    .map_err(|e| format!("invalid --require-artifact regex '{}': {}", s.trim(), first_line(&e.to_string())))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let max_commits = match nonempty(&raw.max_commits) {
            Some(m) => {
                let n = parse_u64(&m, "max-commits")?;
                if n == 0 || n > 10_000 {
                    return Err(format!("invalid max-commits '{n}': expected 1 to 10000"));
                }
                n as usize
            }
            None => 100,
        };
        let therock_repo = match nonempty(&raw.therock_repo) {
            Some(r) => Repo::parse(&r)?,
            None => Repo { owner: "ROCm".into(), name: "TheRock".into() },
        };
        let branch = nonempty(&raw.branch);
        let base_branch = nonempty(&raw.base_branch);
        for b in [&branch, &base_branch].into_iter().flatten() {
            if b.contains("..") || b.starts_with('-') || b.contains(char::is_whitespace) {
                return Err(format!("invalid branch name '{b}'"));
            }
        }

        let fetch = if raw.command == CommandKind::Fetch {
            let out = nonempty(&raw.output_dir).ok_or("fetch needs --output-dir")?;
            Some(FetchOptions {
                output_dir: PathBuf::from(out),
                include: parse_regexes(&raw.include, "--include")?,
                exclude: parse_regexes(&raw.exclude, "--exclude")?,
                extract: match nonempty(&raw.extract) {
                    Some(e) => ExtractMode::parse(&e)?,
                    None => ExtractMode::Flatten,
                },
                verify: !raw.no_verify,
                dry_run: raw.dry_run,
                cache_dir: (!raw.no_cache).then(default_cache_dir),
            })
        } else {
            None
        };

        let compare = if raw.command == CommandKind::Compare {
            if subject.is_none() || matches!(subject, Some(Subject::Pr(_))) {
                return Err("compare needs --from (or --from-run-id)".into());
            }
            let to = if let Some(id) = nonempty(&raw.to_run_id) {
                Subject::RunId(parse_u64(&id, "run id")?)
            } else if let Some(c) = nonempty(&raw.to) {
                parse_commit(&c, checkout.as_ref())?
            } else {
                return Err("compare needs --to (or --to-run-id)".into());
            };
            Some(CompareOptions {
                to,
                to_platform: nonempty(&raw.to_platform).map(|p| Platform::parse(&p)).transpose()?,
                deep: raw.deep,
                filter: parse_regexes(&raw.filter, "--filter")?,
                markdown: raw.markdown,
                top: match nonempty(&raw.top) {
                    Some(t) => parse_u64(&t, "top")? as usize,
                    None => 20,
                },
            })
        } else {
            None
        };

        Ok(Config {
            command: raw.command,
            repo,
            workflow_flag,
            platform,
            groups,
            subject,
            json: raw.json,
            required,
            require_single_run: raw.require_single_run,
            require_successful_run: raw.require_successful_run,
            branch,
            base_branch,
            max_commits,
            therock_repo,
            baseline: raw.baseline || raw.command == CommandKind::Baseline,
            fetch,
            compare,
            release,
            checkout,
            token: raw.token.filter(|t| !t.trim().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Raw {
        Raw { repo: Some("ROCm/TheRock".into()), commit: Some("a".repeat(40)), groups: vec!["gfx94X-dcgpu".into()], ..Raw::default() }
    }

    #[test]
    fn validates() {
        let c = Config::build(raw(), None).unwrap();
        assert_eq!(c.workflow_for(&c.repo), "multi_arch_ci.yml");
        assert_eq!(c.max_commits, 100);

        let mut r = raw();
        r.commit = Some("xyz".into());
        assert!(Config::build(r, None).unwrap_err().contains("xyz"));

        let mut r = raw();
        r.groups = vec!["gfx94X-dcgpu, gfx110X-all".into()];
        r.targets = vec!["gfx1100".into()];
        assert!(Config::build(r, None).unwrap_err().contains("single artifact group"));

        let mut r = raw();
        r.require_artifact = vec!["(".into()];
        assert!(Config::build(r, None).unwrap_err().contains("'('"));

        let mut r = raw();
        r.groups = vec!["gfx94X-dcgpu gfx110X-all".into()];
        assert_eq!(Config::build(r, None).unwrap().groups.len(), 2);

        let mut r = raw();
        r.workflow = Some("../x".into());
        assert!(Config::build(r, None).is_err());

        let mut r = raw();
        r.command = CommandKind::Fetch;
        r.output_dir = Some("out".into());
        r.extract = Some("explode".into());
        assert!(Config::build(r, None).unwrap_err().contains("explode"));
    }
}
