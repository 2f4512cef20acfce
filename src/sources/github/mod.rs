//! GitHub REST client: octocrab transport, our own retry and rate-limit policy, `Link` paging.
//! The endpoints and GitHub's JSON shapes live in `api`; they hand the rest of the tool the
//! domain's own run and commit types.

mod api;

pub(crate) use api::decode_any;

use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::retry::RetryPolicy;

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    #[error("{0} was not found on GitHub (HTTP 404)")]
    NotFound(String),
    #[error("GitHub API rate limit exceeded while reading {what}: {detail}")]
    RateLimited { what: String, detail: String },
    #[error("GitHub refused access to {what} (HTTP {status}): {message}")]
    Refused { what: String, status: u16, message: String },
    #[error("GitHub refused {what} (HTTP 403: {message}): the token lacks the `{permission}` permission; give the job `permissions: {{ {} }}` (a workflow that narrows `permissions:` grants nothing else)", permissions_block(permission))]
    NoPermission { what: String, message: String, permission: &'static str },
    #[error("GitHub API failed for {what} after {attempts} attempts: {}", last.as_ref().map(ToString::to_string).unwrap_or_default())]
    Unavailable { what: String, attempts: u32, last: Option<Transient> },
    #[error("GitHub answered {what} with malformed JSON")]
    BadJson {
        what: String,
        #[source]
        err: serde_json::Error,
    },
    #[error("GitHub answered {what} with malformed JSON: the answer is larger than {} MiB, far more than any page of this API", MAX_BODY >> 20)]
    TooLarge { what: String },
    #[error("GitHub answered {what} with malformed JSON: {why}")]
    BadContent { what: String, why: ContentError },
}

impl GhError {
    /// GitHub knows no such thing: a 404, or the 422 it gives for a commit it cannot find.
    pub fn is_missing(&self) -> bool {
        matches!(self, GhError::NotFound(_) | GhError::Refused { status: 422, .. })
    }

    fn bad_json(what: &str, err: serde_json::Error) -> GhError {
        GhError::BadJson { what: what.into(), err }
    }
}

/// Why one attempt failed in a way worth retrying (the last one is reported).
#[derive(Debug, thiserror::Error)]
pub enum Transient {
    #[error("network error: {}", short_err(.0))]
    Network(octocrab::Error),
    #[error("connection broke while reading: {}", short_err(&**.0))]
    Broken(Box<dyn std::error::Error + Send + Sync>),
    #[error("no complete answer within {0} s")]
    Timeout(u64),
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    /// A rate limit was waited out (the wait is the delay).
    #[error("{0}")]
    RateLimit(&'static str),
}

/// A contents answer that is JSON but not a file's text.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("unexpected encoding '{0}'")]
    Encoding(String),
    #[error("{0}")]
    Base64(base64::DecodeError),
}

/// How patient the client is. Environment knobs exist so tests and impatient users can shorten
/// waits.
#[derive(Debug, Clone)]
pub struct Patience {
    /// Attempts per request and the waits between them (the tool's one policy).
    pub retry: RetryPolicy,
    /// The longest rate-limit wait worth sitting through; longer waits fail at once.
    pub max_wait: Duration,
    /// The longest one request may take, its whole answer included (a server that trickles
    /// bytes would otherwise hold the run forever).
    pub timeout: Duration,
}

/// The largest answer read from the API (a page of 100 runs is about 0.5 MB).
const MAX_BODY: usize = 32 << 20;

pub struct GitHub {
    octo: octocrab::Octocrab,
    api: String,
    retry: Patience,
    requests: AtomicU64,
    /// A rate-limit "retry after" instant shared by every task (never held across an await).
    gate: Mutex<Option<Instant>>,
    pub anonymous: bool,
}

/// Where the token comes from, in the documented order.
pub async fn discover_token(explicit: Option<String>) -> Option<String> {
    let from_env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let Some(t) = explicit.filter(|t| !t.trim().is_empty()) {
        return Some(t.trim().to_string());
    }
    if let Some(t) = from_env("GITHUB_TOKEN").or_else(|| from_env("GH_TOKEN")) {
        return Some(t.trim().to_string());
    }
    let out = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new("gh").args(["auth", "token"]).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).output(),
    )
    .await;
    match out {
        Ok(Ok(o)) if o.status.success() => {
            let t = String::from_utf8_lossy(&o.stdout).trim().to_string();
            (!t.is_empty()).then_some(t)
        }
        _ => None,
    }
}

pub fn api_base_from_env() -> String {
    std::env::var("GITHUB_API_URL")
        .ok()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_string())
}

struct Page {
    body: bytes::Bytes,
    next: Option<String>,
}

enum Attempt {
    Done(Page),
    Retry(Transient, Option<Duration>),
    Fail(GhError),
}

impl GitHub {
    pub fn new(api: String, token: Option<String>, retry: Patience) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut b = octocrab::Octocrab::builder()
            .base_uri(api.as_str())
            .with_context(|| format!("GITHUB_API_URL '{api}' is not a valid URL"))?
            .add_header(http::header::ACCEPT, "application/vnd.github+json".to_string())
            .add_header(http::HeaderName::from_static("x-github-api-version"), "2022-11-28".to_string())
            .add_header(http::header::USER_AGENT, concat!("therock-artifacts/", env!("CARGO_PKG_VERSION")).to_string())
            .set_connect_timeout(Some(Duration::from_secs(15)))
            .set_read_timeout(Some(Duration::from_secs(60)));
        let anonymous = token.is_none();
        if let Some(t) = token {
            b = b.personal_token(t);
        }
        let octo = b.build().context("could not set up the GitHub client")?;
        Ok(GitHub { octo, api, retry, requests: AtomicU64::new(0), gate: Mutex::new(None), anonymous })
    }

    pub fn requests_made(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api, path)
    }

    async fn wait_gate(&self) {
        let until = *self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = until {
            let now = Instant::now();
            if t > now {
                tokio::time::sleep(t - now).await;
            }
        }
    }

    async fn attempt(&self, url: &str, what: &str) -> Attempt {
        self.wait_gate().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let exchange = async {
            let resp = match self.octo._get(url).await {
                Ok(r) => r,
                Err(e) => return Err(Attempt::Retry(Transient::Network(e), None)),
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            match http_body_util::BodyExt::collect(http_body_util::Limited::new(resp.into_body(), MAX_BODY)).await {
                Ok(b) => Ok((status, headers, b.to_bytes())),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Attempt::Fail(GhError::TooLarge { what: what.into() })),
                Err(e) => Err(Attempt::Retry(Transient::Broken(e), None)),
            }
        };
        let (status, headers, body) = match tokio::time::timeout(self.retry.timeout, exchange).await {
            Ok(Ok(x)) => x,
            Ok(Err(a)) => return a,
            Err(_) => return Attempt::Retry(Transient::Timeout(self.retry.timeout.as_secs()), None),
        };
        let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim).map(String::from);
        if (200..300).contains(&status) {
            let next = header("link").and_then(|l| next_link(&l));
            return Attempt::Done(Page { body, next });
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        if status == 404 {
            return Attempt::Fail(GhError::NotFound(what.to_string()));
        }
        if status == 403 || status == 429 {
            if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
                return self.rate_wait(what, Duration::from_secs(secs), "secondary rate limit").await;
            }
            if header("x-ratelimit-remaining").as_deref() == Some("0") {
                let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                let wait = Duration::from_secs(reset.saturating_sub(now) + 1);
                return self.rate_wait(what, wait, "primary rate limit").await;
            }
            if status == 429 {
                return Attempt::Retry(Transient::Status { status, message }, None);
            }
            if message.contains("not accessible by integration") {
                return Attempt::Fail(GhError::NoPermission { what: what.into(), message, permission: permission_for(url) });
            }
            return Attempt::Fail(GhError::Refused { what: what.into(), status, message });
        }
        if status >= 500 || status == 408 {
            return Attempt::Retry(Transient::Status { status, message }, None);
        }
        Attempt::Fail(GhError::Refused { what: what.into(), status, message })
    }

    async fn rate_wait(&self, what: &str, wait: Duration, kind: &'static str) -> Attempt {
        if wait > self.retry.max_wait {
            let hint = if self.anonymous { "; anonymous requests get 60 an hour: set GITHUB_TOKEN or GH_TOKEN" } else { "" };
            return Attempt::Fail(GhError::RateLimited {
                what: what.into(),
                detail: format!("{kind}, resets in {} s, longer than the {} s this tool waits{hint}", wait.as_secs(), self.retry.max_wait.as_secs()),
            });
        }
        crate::say!("GitHub {kind} reached; waiting {} s before retrying", wait.as_secs());
        *self.gate.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + wait);
        Attempt::Retry(Transient::RateLimit(kind), Some(Duration::ZERO))
    }

    async fn get_page(&self, url: &str, what: &str) -> Result<Page, GhError> {
        let (policy, mut last) = (self.retry.retry, None);
        for failures in 1..=policy.attempts {
            match self.attempt(url, what).await {
                Attempt::Done(p) => return Ok(p),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(why, delay) => {
                    last = Some(why);
                    if policy.retries_after(failures) {
                        tokio::time::sleep(delay.unwrap_or_else(|| policy.delay(failures))).await;
                    }
                }
            }
        }
        Err(GhError::Unavailable { what: what.into(), attempts: policy.attempts, last })
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, GhError> {
        let page = self.get_page(&self.url(path), what).await?;
        serde_json::from_slice(&page.body).map_err(|e| GhError::bad_json(what, e))
    }

    /// Follows `Link: rel="next"` until `max_items` items are read or the pages end (or lead back).
    async fn get_paged<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
        max_items: usize,
        items: impl Fn(bytes::Bytes) -> Result<Vec<T>, serde_json::Error>,
    ) -> Result<Vec<T>, GhError> {
        let mut out = Vec::new();
        let mut url = Some(self.url(path));
        let mut seen = PagesRead::default();
        while let Some(u) = url.take() {
            if !seen.first_visit(&u, what) {
                break;
            }
            let page = self.get_page(&u, what).await?;
            let mut batch = items(page.body).map_err(|e| GhError::bad_json(what, e))?;
            let empty = batch.is_empty();
            out.append(&mut batch);
            if out.len() >= max_items || empty {
                break;
            }
            url = page.next;
        }
        out.truncate(max_items);
        Ok(out)
    }
}

/// The `permissions:` a job needs: `actions` and `contents` always, `pull-requests` only when
/// a pull request is read (a pull request number given, not an event's payload).
fn permissions_block(refused: &str) -> String {
    let mut v = vec!["actions: read", "contents: read"];
    if refused == "pull-requests: read" {
        v.push(refused);
    }
    v.join(", ")
}

/// The `permissions:` scope a workflow token needs for an API URL.
fn permission_for(url: &str) -> &'static str {
    if url.contains("/actions/") {
        "actions: read"
    } else if url.contains("/pulls") {
        "pull-requests: read"
    } else {
        "contents: read"
    }
}

/// The innermost two causes of an HTTP client's error (such as "tcp connect error: Connection
/// refused (os error 111)"): the layers above them only repeat "service error", "client error".
fn short_err(e: &dyn std::error::Error) -> String {
    let mut chain = vec![e.to_string()];
    let mut src = e.source();
    while let Some(c) = src {
        chain.push(c.to_string());
        src = c.source();
    }
    chain.dedup();
    chain[chain.len().saturating_sub(2)..].join(": ")
}

/// What stays as written in a path or query value: RFC 3986's unreserved characters and `/`.
const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, KEEP).to_string()
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut segs = part.split(';');
        let url = segs.next()?.trim();
        let is_next = segs.any(|s| s.trim().replace(' ', "") == "rel=\"next\"");
        (is_next && url.starts_with('<') && url.ends_with('>')).then(|| url[1..url.len() - 1].to_string())
    })
}

/// The pages of one listing read so far: a `next` link back to one of them ends the listing.
#[derive(Default)]
pub struct PagesRead(std::collections::HashSet<String>);

impl PagesRead {
    /// Whether `url` is new (and now read); warns once it is not.
    pub fn first_visit(&mut self, url: &str, what: &str) -> bool {
        let new = self.0.insert(url.to_string());
        if !new {
            crate::say!("warning: GitHub's pages of {what} lead back to a page already read; stopping there");
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let l = r#"<https://api.github.com/repositories/1/actions/runs?page=2>; rel="next", <https://api.github.com/repositories/1/actions/runs?page=9>; rel="last""#;
        assert_eq!(next_link(l).unwrap(), "https://api.github.com/repositories/1/actions/runs?page=2");
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn encoding() {
        assert_eq!(urlencode("gfx942:xnack+"), "gfx942%3Axnack%2B");
        assert_eq!(urlencode("feature/x"), "feature/x");
        assert_eq!(urlencode("a b&c=é"), "a%20b%26c%3D%C3%A9");
    }
}
