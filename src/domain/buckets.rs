//! Where a run's artifacts live: bucket, `external_repo` and prefix (therock-facts.md §1).

use std::fmt;

use super::time::parse_rfc3339;

/// Runs last updated on or before this instant live in the legacy buckets.
pub const LEGACY_CUTOFF: &str = "2025-11-11T16:18:48Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    Windows,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Windows => "windows",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linux" => Ok(Platform::Linux),
            "windows" => Ok(Platform::Windows),
            other => Err(format!("unknown platform '{other}': expected linux or windows")),
        }
    }
    pub fn host() -> Self {
        if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RELEASE_TYPE`: `ci` (default) or a release pipeline's bucket family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseType {
    Ci,
    Release(&'static str),
}

impl ReleaseType {
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s.map(str::trim).unwrap_or("") {
            "" | "ci" => Ok(ReleaseType::Ci),
            "dev" | "dev-bkc" => Ok(ReleaseType::Release("dev")),
            "nightly" | "nightly-bkc" => Ok(ReleaseType::Release("nightly")),
            "prerelease" => Ok(ReleaseType::Release("prerelease")),
            other => Err(format!("unknown RELEASE_TYPE '{other}': expected ci, dev, dev-bkc, nightly, nightly-bkc or prerelease")),
        }
    }
}

/// A GitHub repository `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl Repo {
    /// The repository as GitHub spells it (`full_name` of an API object), else `self`.
    pub fn canonical(&self, full_name: Option<&str>) -> Repo {
        full_name.and_then(|f| Repo::parse(f).ok()).filter(|c| c.full().eq_ignore_ascii_case(&self.full())).unwrap_or_else(|| self.clone())
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().trim_end_matches('/');
        let s = s.strip_suffix(".git").unwrap_or(s);
        let mut it = s.split('/');
        match (it.next(), it.next(), it.next()) {
            (Some(o), Some(n), None) if valid_part(o) && valid_part(n) => Ok(Repo { owner: o.to_string(), name: n.to_string() }),
            _ => Err(format!("invalid repository '{s}': expected OWNER/NAME, e.g. ROCm/TheRock")),
        }
    }
    pub fn full(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
    pub fn is_therock(&self) -> bool {
        self.owner.eq_ignore_ascii_case("ROCm") && self.name.eq_ignore_ascii_case("TheRock")
    }
    /// TheRock itself or a fork of it (by name: forks keep the repository name).
    pub fn is_therock_family(&self) -> bool {
        self.name.eq_ignore_ascii_case("TheRock")
    }
    pub fn default_workflow(&self) -> &'static str {
        if self.is_therock_family() {
            "multi_arch_ci.yml"
        } else {
            "therock-ci.yml"
        }
    }
}

fn valid_part(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) && p != "." && p != ".."
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Bucket and namespace of one run, independent of platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBucket {
    pub bucket: String,
    pub external_repo: String,
}

/// Picks the bucket for a run of `repo` (the repository the workflow ran in, spelled as GitHub
/// does: S3 keys are case-sensitive, the API is not). `head_repository` is the run's
/// `head_repository.full_name` (None: deleted fork, not a fork); `updated_at` is the run's
/// RFC 3339 `updated_at`.
pub fn run_bucket(repo: &Repo, head_repository: Option<&str>, updated_at: Option<&str>, release: &ReleaseType) -> RunBucket {
    if let ReleaseType::Release(kind) = release {
        return RunBucket { bucket: format!("therock-{kind}-artifacts"), external_repo: String::new() };
    }
    let from_fork = head_repository.is_some_and(|h| !h.eq_ignore_ascii_case(&repo.full()));
    let external = from_fork || !repo.is_therock();
    let legacy = updated_at.is_some_and(|u| is_on_or_before(u, LEGACY_CUTOFF));
    match (external, legacy) {
        (false, false) => RunBucket { bucket: "therock-ci-artifacts".into(), external_repo: String::new() },
        (true, false) => RunBucket { bucket: "therock-ci-artifacts-external".into(), external_repo: format!("{}-{}/", repo.owner, repo.name) },
        (false, true) => RunBucket { bucket: "therock-artifacts".into(), external_repo: String::new() },
        // Upstream kept the prefix in the legacy external bucket too (January 2026).
        (true, true) => RunBucket { bucket: "therock-artifacts-external".into(), external_repo: format!("{}-{}/", repo.owner, repo.name) },
    }
}

/// Is RFC 3339 timestamp `t` on or before `cutoff`? Anything unreadable counts as "not before".
fn is_on_or_before(t: &str, cutoff: &str) -> bool {
    match (parse_rfc3339(t), parse_rfc3339(cutoff)) {
        (Some(a), Some(b)) => a <= b,
        _ => false,
    }
}

/// Full location of one run's artifacts for one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLocation {
    pub bucket: String,
    pub external_repo: String,
    pub run_id: u64,
    pub platform: Platform,
}

impl RunLocation {
    pub fn new(b: RunBucket, run_id: u64, platform: Platform) -> Self {
        RunLocation { bucket: b.bucket, external_repo: b.external_repo, run_id, platform }
    }
    /// `{external_repo}{run_id}-{platform}/`
    pub fn prefix(&self) -> String {
        format!("{}{}-{}/", self.external_repo, self.run_id, self.platform)
    }
    pub fn s3_uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix())
    }
    pub fn https_url(&self, key: &str) -> String {
        format!("https://{}.s3.amazonaws.com/{}", self.bucket, key)
    }
    pub fn index_url(&self) -> String {
        self.https_url(&format!("{}index.html", self.prefix()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Repo {
        Repo::parse(s).unwrap()
    }

    #[test]
    fn buckets_follow_the_rules() {
        let ci = ReleaseType::Ci;
        let new = Some("2026-08-01T10:00:00Z");
        let b = run_bucket(&r("ROCm/TheRock"), Some("ROCm/TheRock"), new, &ci);
        assert_eq!(b, RunBucket { bucket: "therock-ci-artifacts".into(), external_repo: "".into() });
        let b = run_bucket(&r("ROCm/TheRock"), Some("someone/TheRock"), new, &ci);
        assert_eq!(b.bucket, "therock-ci-artifacts-external");
        assert_eq!(b.external_repo, "ROCm-TheRock/", "base repo, never the fork's owner");
        let b = run_bucket(&r("ROCm/TheRock"), None, new, &ci);
        assert_eq!(b.bucket, "therock-ci-artifacts", "deleted fork counts as not a fork");
        let b = run_bucket(&r("ROCm/rocm-libraries"), Some("ROCm/rocm-libraries"), new, &ci);
        assert_eq!(b.external_repo, "ROCm-rocm-libraries/");
        let b = run_bucket(&r("ROCm/TheRock"), Some("ROCm/TheRock"), Some("2025-11-11T16:18:48Z"), &ci);
        assert_eq!(b.bucket, "therock-artifacts");
        let b = run_bucket(&r("ROCm/TheRock"), Some("ROCm/TheRock"), Some("2025-11-11T16:18:49Z"), &ci);
        assert_eq!(b.bucket, "therock-ci-artifacts");
        let b = run_bucket(&r("ROCm/rocm-systems"), None, Some("2025-10-01T00:00:00Z"), &ci);
        assert_eq!(b.bucket, "therock-artifacts-external");
        assert_eq!(b.external_repo, "ROCm-rocm-systems/", "legacy external runs keep the repository prefix");
        let rel = ReleaseType::parse(Some("nightly-bkc")).unwrap();
        assert_eq!(run_bucket(&r("ROCm/TheRock"), None, new, &rel).bucket, "therock-nightly-artifacts");
        assert!(ReleaseType::parse(Some("weekly")).is_err());
    }

    #[test]
    fn prefixes_and_urls() {
        let loc = RunLocation {
            bucket: "therock-ci-artifacts-external".into(),
            external_repo: "ROCm-TheRock/".into(),
            run_id: 20384488184,
            platform: Platform::Windows,
        };
        assert_eq!(loc.prefix(), "ROCm-TheRock/20384488184-windows/");
        assert_eq!(loc.s3_uri(), "s3://therock-ci-artifacts-external/ROCm-TheRock/20384488184-windows/");
        assert_eq!(loc.index_url(), "https://therock-ci-artifacts-external.s3.amazonaws.com/ROCm-TheRock/20384488184-windows/index.html");
    }

    #[test]
    fn repos() {
        assert!(r("ROCm/TheRock").is_therock());
        assert!(r("me/TheRock").is_therock_family());
        assert_eq!(r("ROCm/rocm-libraries").default_workflow(), "therock-ci.yml");
        assert!(Repo::parse("nope").is_err());
        assert!(Repo::parse("a/b/c").is_err());
        assert!(Repo::parse("a b/c").is_err());
    }
}
