//! What the configuration depends on besides the user's words: the local checkout's answers,
//! the environment and the `THEROCK_ARTIFACTS_*` tunables. Gathered once, before `Config::build`,
//! which stays pure.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::raw::Raw;
use crate::domain::buckets::{Platform, Repo};
use crate::domain::units::parse_size;
use crate::sources::git::Checkout;

/// A revision the local checkout resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRev {
    pub sha: String,
    /// Some remote-tracking branch contains it (so GitHub can know it).
    pub pushed: bool,
}

/// The local checkout and its answers about the revisions the command names.
#[derive(Debug, Clone)]
pub struct CheckoutFacts {
    pub checkout: Checkout,
    pub origin: Option<Repo>,
    pub revs: BTreeMap<String, LocalRev>,
}

/// Knobs for speed and patience; defaults suit CI. Read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunables {
    /// Decoders at work, plus one (`THEROCK_ARTIFACTS_JOBS`; default: usable CPUs).
    pub jobs: usize,
    /// Connections to S3 in flight (`THEROCK_ARTIFACTS_CONNECTIONS`; default 16).
    pub connections: usize,
    /// GitHub attempts per request (`THEROCK_ARTIFACTS_RETRIES`).
    pub retries: u32,
    /// Backoff base (`THEROCK_ARTIFACTS_BACKOFF_MS`).
    pub backoff: Duration,
    /// The longest rate-limit wait sat through (`THEROCK_ARTIFACTS_MAX_RATE_WAIT`, seconds).
    pub max_rate_wait: Duration,
    /// Bytes per ranged GET of a large archive (`THEROCK_ARTIFACTS_PART_SIZE`).
    pub part_size: u64,
    /// A download making no progress this long is resumed (`THEROCK_ARTIFACTS_STALL_SECS`).
    pub stall: Duration,
    /// Print request counts at the end (`THEROCK_ARTIFACTS_DEBUG_REQUESTS`).
    pub debug_requests: bool,
    /// Bytes one archive may extract to (`THEROCK_ARTIFACTS_MAX_EXTRACT`, e.g. `200G`).
    pub max_extract: Option<u64>,
    /// Prune the cache to this size after each fetch (`THEROCK_ARTIFACTS_CACHE_MAX`, e.g. `50G`).
    pub cache_max: Option<u64>,
    /// The longest one GitHub request may take, answer included (`THEROCK_ARTIFACTS_HTTP_TIMEOUT`, seconds).
    pub http_timeout: Duration,
}

impl Tunables {
    /// From variables (`get` returns a variable's value); unreadable values keep the default.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>, cpus: usize) -> Self {
        let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
        Tunables {
            jobs: num("THEROCK_ARTIFACTS_JOBS").filter(|n| *n > 0).map(|n| n as usize).unwrap_or(cpus.max(1)),
            connections: num("THEROCK_ARTIFACTS_CONNECTIONS").filter(|n| *n > 0).map(|n| n.min(256) as usize).unwrap_or(16),
            retries: num("THEROCK_ARTIFACTS_RETRIES").unwrap_or(5).clamp(1, 100) as u32,
            backoff: Duration::from_millis(num("THEROCK_ARTIFACTS_BACKOFF_MS").unwrap_or(1000)),
            max_rate_wait: Duration::from_secs(num("THEROCK_ARTIFACTS_MAX_RATE_WAIT").unwrap_or(300)),
            part_size: num("THEROCK_ARTIFACTS_PART_SIZE").filter(|n| *n > 0).unwrap_or(8 << 20),
            stall: Duration::from_secs(num("THEROCK_ARTIFACTS_STALL_SECS").unwrap_or(60)),
            debug_requests: get("THEROCK_ARTIFACTS_DEBUG_REQUESTS").is_some(),
            max_extract: get("THEROCK_ARTIFACTS_MAX_EXTRACT").and_then(|v| parse_size(&v)).filter(|n| *n > 0),
            cache_max: get("THEROCK_ARTIFACTS_CACHE_MAX").and_then(|v| parse_size(&v)),
            http_timeout: Duration::from_secs(num("THEROCK_ARTIFACTS_HTTP_TIMEOUT").filter(|n| *n > 0).unwrap_or(120)),
        }
    }
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables::from_vars(|_| None, 2)
    }
}

/// What the environment says.
#[derive(Debug, Clone)]
pub struct EnvFacts {
    pub release_type: Option<String>,
    /// `THEROCK_ARTIFACTS_CACHE`, else the platform cache directory.
    pub cache_dir: PathBuf,
    pub host: Platform,
    /// `GITHUB_SERVER_URL` (for commit links), default `https://github.com`.
    pub server_url: String,
    /// `THEROCK_ARTIFACTS_RELEASE_PREFIX`: the key prefix of release tarballs (default `v4/tarball/`).
    pub release_prefix: Option<String>,
}

impl EnvFacts {
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        EnvFacts {
            release_type: get("RELEASE_TYPE"),
            cache_dir: cache_dir_from(&get),
            host: Platform::host(),
            server_url: get("GITHUB_SERVER_URL").map(|s| s.trim().trim_end_matches('/').to_string()).unwrap_or_else(|| "https://github.com".into()),
            release_prefix: get("THEROCK_ARTIFACTS_RELEASE_PREFIX"),
        }
    }
}

/// The cache directory the environment names (where a fetch with `--no-cache` still keeps the
/// key that signs its commit journals).
pub fn env_cache_dir() -> PathBuf {
    cache_dir_from(&|k: &str| env_var(k).filter(|v| !v.trim().is_empty()))
}

fn cache_dir_from(get: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(d) = get("THEROCK_ARTIFACTS_CACHE") {
        return PathBuf::from(d);
    }
    if cfg!(windows) {
        if let Some(d) = get("LOCALAPPDATA") {
            return PathBuf::from(d).join("therock-artifacts").join("cache");
        }
    }
    if let Some(d) = get("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("therock-artifacts");
    }
    if let Some(h) = get("HOME") {
        return PathBuf::from(h).join(".cache").join("therock-artifacts");
    }
    // One name per user (the temp directory is everyone's); the cache refuses it, with a
    // warning, when it is not that user's own.
    std::env::temp_dir().join(format!("therock-artifacts-cache-{}", user_id()))
}

/// The effective user id (the user's name where there are no ids).
fn user_id() -> String {
    #[cfg(unix)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    return unsafe { libc::geteuid() }.to_string();
    #[cfg(not(unix))]
    return std::env::var("USERNAME").unwrap_or_default();
}

/// Everything `Config::build` needs besides the user's words.
#[derive(Debug, Clone)]
pub struct Facts {
    pub checkout: Option<CheckoutFacts>,
    pub env: EnvFacts,
    pub tunables: Tunables,
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

impl Facts {
    /// Reads the environment, and asks `checkout` (if any) about the revisions `raw` names and
    /// `HEAD`.
    pub fn gather(raw: &Raw, checkout: Option<Checkout>) -> Facts {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let checkout = checkout.map(|co| {
            // HEAD stands in for a commit not given.
            let mut wanted = raw.revisions();
            if raw.wants_head() {
                wanted.push("HEAD".into());
            }
            let mut revs = BTreeMap::new();
            for r in wanted {
                if let Some(sha) = co.resolve(&r) {
                    let pushed = co.is_pushed(&sha);
                    revs.insert(r, LocalRev { sha, pushed });
                }
            }
            CheckoutFacts { origin: co.origin_repo(), checkout: co, revs }
        });
        Facts { checkout, env: EnvFacts::from_vars(env_var), tunables: Tunables::from_vars(env_var, cpus) }
    }

    /// The environment alone (commands without a repository, such as `cache`).
    pub fn gather_env() -> Facts {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Facts { checkout: None, env: EnvFacts::from_vars(env_var), tunables: Tunables::from_vars(env_var, cpus) }
    }

    /// No checkout, defaults everywhere (for tests of the pure parts).
    #[cfg(test)]
    pub fn bare() -> Facts {
        Facts { checkout: None, env: EnvFacts::from_vars(|_| None), tunables: Tunables::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_tunables_keep_their_defaults() {
        let t = Tunables::from_vars(|k| (k == "THEROCK_ARTIFACTS_JOBS").then(|| "lots".to_string()), 3);
        assert_eq!(t.jobs, 3);
        let t = Tunables::from_vars(|k| (k == "THEROCK_ARTIFACTS_PART_SIZE").then(|| "0".to_string()), 3);
        assert_eq!(t.part_size, 8 << 20, "a zero part size would never finish");
        let t = Tunables::from_vars(|k| (k == "THEROCK_ARTIFACTS_RETRIES").then(|| "0".to_string()), 3);
        assert_eq!(t.retries, 1, "at least one attempt");
    }

    #[test]
    fn the_cache_directory_follows_the_documented_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        assert_eq!(EnvFacts::from_vars(env(&[("THEROCK_ARTIFACTS_CACHE", "/c"), ("XDG_CACHE_HOME", "/x")])).cache_dir, PathBuf::from("/c"));
        if !cfg!(windows) {
            assert_eq!(EnvFacts::from_vars(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])).cache_dir, PathBuf::from("/x/therock-artifacts"));
            assert_eq!(EnvFacts::from_vars(env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "")])).cache_dir, PathBuf::from("/h/.cache/therock-artifacts"));
        }
    }
}
