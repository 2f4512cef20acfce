//! S3 client: anonymous by default, path-style against a custom endpoint, paginated listings.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use std::time::Duration;

use crate::domain::artifacts::ListedObject;
use crate::domain::release::Listed;
use crate::retry::RetryPolicy;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("S3 denied access to s3://{bucket}/{key} ({code}); the artifact buckets are public, so check AWS_ENDPOINT_URL and any AWS credentials in the environment")]
    AccessDenied { bucket: String, key: String, code: String },
    #[error("S3 bucket {0} does not exist")]
    NoSuchBucket(String),
    #[error("s3://{bucket}/{key} does not exist")]
    NoSuchKey { bucket: String, key: String },
    #[error("s3://{bucket}/{key} changed on S3 while it was being fetched (its ETag no longer matches the listing); run the command again")]
    Changed { bucket: String, key: String },
    #[error("s3://{bucket}/{key} is larger than {max} bytes, more than it can be")]
    TooLarge { bucket: String, key: String, max: usize },
    /// `transient`: worth another attempt (a 5xx, a throttle, a timeout, a broken connection);
    /// a refusal such as a 400 is not.
    #[error("S3 request for s3://{bucket}/{key} failed: {detail}")]
    Failed { bucket: String, key: String, detail: String, transient: bool },
}

impl S3Error {
    /// Whether another attempt may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, S3Error::Failed { transient: true, .. })
    }
}

/// S3 error codes that say "later" whatever the HTTP status (`RequestTimeout` comes as a 400).
const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "InternalError",
    "ServiceUnavailable",
];

/// Whether an error S3 answered is worth another attempt: a 5xx, a 408 or 429, or a code that
/// says so.
fn transient(code: &str, status: Option<u16>) -> bool {
    TRANSIENT_CODES.contains(&code) || status.is_none_or(|s| s >= 500 || s == 408 || s == 429)
}

/// The innermost cause of an error, on one line.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    one_line(&cur.to_string(), 160)
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &flat[..i]),
        None => flat,
    }
}

/// Every TheRock bucket lives in this region.
pub const BUCKET_REGION: &str = "us-east-2";

/// The region requests are signed and sent for: the buckets' own, whatever `AWS_REGION` says
/// (a runner often sets another for its own AWS work, and the SDK does not follow S3's 301
/// redirect); with an endpoint override (a local or mirrored S3), the configured region.
pub fn region_for(endpoint_override: bool, env_region: Option<&str>) -> String {
    match (endpoint_override, env_region.map(str::trim).filter(|r| !r.is_empty())) {
        (true, Some(r)) => r.to_string(),
        _ => BUCKET_REGION.to_string(),
    }
}

/// The S3 client's configuration from environment variables (`get`).
async fn client_config(get: &dyn Fn(&str) -> Option<String>, signed: bool) -> aws_sdk_s3::Config {
    let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let endpoint = nonempty("AWS_ENDPOINT_URL_S3").or_else(|| nonempty("AWS_ENDPOINT_URL"));
    let env_region = nonempty("AWS_REGION").or_else(|| nonempty("AWS_DEFAULT_REGION"));
    let region = region_for(endpoint.is_some(), env_region.as_deref());
    use aws_smithy_http_client::tls;
    let https = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .region(aws_config::Region::new(region))
        // One attempt per call: every request is retried by the tool's one policy (`retry`),
        // with the same budget for a listing, a sidecar and an archive's byte range.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        // Body stalls are detected by the downloader, which only waits while it wants bytes;
        // the SDK's own detector would also count time a slow xz decoder spends elsewhere.
        .stalled_stream_protection(aws_sdk_s3::config::StalledStreamProtectionConfig::disabled());
    if !signed {
        loader = loader.no_credentials();
    }
    let shared = loader.load().await;
    let mut conf = aws_sdk_s3::config::Builder::from(&shared);
    if let Some(ep) = endpoint {
        conf = conf.endpoint_url(ep.trim()).force_path_style(true);
    }
    // Downloads are streamed; the operation timeout must not cut a long body short.
    conf = conf
        .timeout_config(aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(15)).read_timeout(Duration::from_secs(60)).build());
    conf.build()
}

#[derive(Clone)]
pub struct S3 {
    client: aws_sdk_s3::Client,
    retry: RetryPolicy,
}

/// True when the environment names AWS credentials of some kind; otherwise requests go
/// unsigned (the buckets are public) and nothing probes the instance metadata service.
fn credentials_configured() -> bool {
    let set = |k: &str| std::env::var(k).map(|v| !v.trim().is_empty()).unwrap_or(false);
    if ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .iter()
        .any(|k| set(k))
    {
        return true;
    }
    if let Ok(f) = std::env::var("AWS_SHARED_CREDENTIALS_FILE") {
        return std::path::Path::new(&f).is_file();
    }
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials").is_file()).unwrap_or(false)
}

impl S3 {
    /// The client for the environment's endpoint, region and credentials; `retry` is every
    /// request's budget.
    pub async fn from_env(retry: RetryPolicy) -> anyhow::Result<Self> {
        Ok(S3 { client: aws_sdk_s3::Client::from_conf(client_config(&|k| std::env::var(k).ok(), credentials_configured()).await), retry })
    }

    /// The budget every request gets (the downloader resumes byte ranges with it too).
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// `op` until it succeeds, fails for good, or its attempts run out.
    async fn retrying<T, F: std::future::Future<Output = Result<T, S3Error>>>(&self, mut op: impl FnMut() -> F) -> Result<T, S3Error> {
        let mut failures = 0;
        loop {
            match op().await {
                Err(e) if e.is_transient() => {
                    failures += 1;
                    if !self.retry.retries_after(failures) {
                        return Err(e);
                    }
                    tokio::time::sleep(self.retry.delay(failures)).await;
                }
                other => return other,
            }
        }
    }

    fn map_err<E>(bucket: &str, key: &str, e: SdkError<E>) -> S3Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = e.code().unwrap_or("").to_string();
        let status = e.raw_response().map(|r| r.status().as_u16());
        match (code.as_str(), status) {
            ("AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId" | "SignatureDoesNotMatch", _) | (_, Some(403)) => {
                S3Error::AccessDenied { bucket: bucket.into(), key: key.into(), code: if code.is_empty() { "HTTP 403".into() } else { code } }
            }
            ("NoSuchBucket", _) => S3Error::NoSuchBucket(bucket.into()),
            ("PreconditionFailed", _) | (_, Some(412)) => S3Error::Changed { bucket: bucket.into(), key: key.into() },
            ("NoSuchKey", _) | (_, Some(404)) => S3Error::NoSuchKey { bucket: bucket.into(), key: key.into() },
            _ => {
                // An answer S3 gave is judged by its code and status; no answer, or one that
                // broke off or could not be read, is worth another attempt.
                let transient = match &e {
                    SdkError::ServiceError(_) => transient(&code, status),
                    SdkError::ConstructionFailure(_) => false,
                    _ => true,
                };
                S3Error::Failed { bucket: bucket.into(), key: key.into(), detail: Self::describe(&e), transient }
            }
        }
    }

    /// What S3 (or the network) said, in one short clause, and what to do about it.
    fn describe<E>(e: &SdkError<E>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        match (e.code(), e.message(), status) {
            (Some(code), msg, st) => {
                let st = st.map(|s| format!("HTTP {s} ")).unwrap_or_default();
                let msg = msg.map(|m| format!(": {}", one_line(m, 160))).unwrap_or_default();
                format!("S3 answered {st}{code}{msg}; retry later, or check AWS_ENDPOINT_URL")
            }
            (None, _, Some(st)) => format!("S3 answered HTTP {st} without an error code; retry later, or check AWS_ENDPOINT_URL"),
            (None, _, None) => {
                let what = match e {
                    SdkError::TimeoutError(_) => "the request timed out".to_string(),
                    SdkError::DispatchFailure(_) => format!("could not reach S3 ({})", root_cause(e)),
                    _ => format!("no usable answer ({})", root_cause(e)),
                };
                format!("{what}; check the network, or AWS_ENDPOINT_URL if it is set")
            }
        }
    }

    /// Lists the objects directly under `prefix` (delimiter `/`: nested keys such as `logs/`
    /// never appear), following continuation tokens.
    pub async fn list_prefix(&self, bucket: &str, prefix: &str) -> Result<Vec<ListedObject>, S3Error> {
        let (listed, _) = self.list_dated(bucket, prefix).await?;
        Ok(listed.into_iter().map(|l| ListedObject { filename: l.filename, size: l.size, etag: l.etag }).collect())
    }

    /// `list_prefix` with each object's `LastModified`, and the pages it took (one per 1,000 keys).
    pub async fn list_dated(&self, bucket: &str, prefix: &str) -> Result<(Vec<Listed>, u32), S3Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = || {
                let req = self
                    .client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .delimiter("/")
                    // Keys come URL-encoded: one holding a character XML 1.0 cannot carry (a
                    // control character) would otherwise make the whole answer unreadable.
                    .encoding_type(aws_sdk_s3::types::EncodingType::Url)
                    .set_continuation_token(token.clone());
                async move { req.send().await.map_err(|e| Self::map_err(bucket, prefix, e)) }
            };
            let resp = self.retrying(page).await?;
            let encoded = resp.encoding_type() == Some(&aws_sdk_s3::types::EncodingType::Url);
            pages += 1;
            for o in resp.contents() {
                let Some(key) = o.key() else { continue };
                let key = if encoded { url_decoded(key) } else { key.to_string() };
                let Some(name) = key.strip_prefix(prefix) else { continue };
                if name.is_empty() || name.contains('/') {
                    continue;
                }
                out.push(Listed {
                    filename: name.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: o.e_tag().map(String::from),
                    last_modified: o.last_modified().map(|t| t.secs()),
                });
            }
            match (resp.is_truncated(), resp.next_continuation_token()) {
                (Some(true), Some(t)) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok((out, pages))
    }

    /// The current size and ETag of an object (after it changed under a download).
    pub async fn head(&self, bucket: &str, key: &str) -> Result<(u64, Option<String>), S3Error> {
        let head = || async { self.client.head_object().bucket(bucket).key(key).send().await.map_err(|e| Self::map_err(bucket, key, e)) };
        let resp = self.retrying(head).await?;
        Ok((resp.content_length().unwrap_or(0).max(0) as u64, resp.e_tag().map(String::from)))
    }

    /// A whole small object (sidecars), at most `max` bytes; `Ok(None)` when it does not exist.
    pub async fn get_small(&self, bucket: &str, key: &str, max: usize) -> Result<Option<Vec<u8>>, S3Error> {
        self.retrying(|| self.get_small_once(bucket, key, max)).await
    }

    async fn get_small_once(&self, bucket: &str, key: &str, max: usize) -> Result<Option<Vec<u8>>, S3Error> {
        let resp = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(r) => r,
            Err(e) => {
                return match Self::map_err(bucket, key, e) {
                    S3Error::NoSuchKey { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        if resp.content_length().is_some_and(|n| n > max as i64) {
            return Err(S3Error::TooLarge { bucket: bucket.into(), key: key.into(), max });
        }
        let mut body = resp.body;
        let mut data = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| S3Error::Failed { bucket: bucket.into(), key: key.into(), detail: root_cause(&e), transient: true })?;
            if data.len() + chunk.len() > max {
                return Err(S3Error::TooLarge { bucket: bucket.into(), key: key.into(), max });
            }
            data.extend_from_slice(&chunk);
        }
        Ok(Some(data))
    }

    /// Starts a GET of bytes `[start, end)` (`end` = `None`: to the end of the object; a Range
    /// request unless the whole object is asked for), pinned to `etag` when known so a resumed
    /// or multi-part download never mixes two versions of an object. One attempt: the
    /// downloader resumes with `retry()`, counting a failed request and a broken body alike.
    pub async fn get_range(&self, bucket: &str, key: &str, start: u64, end: Option<u64>, etag: Option<&str>) -> Result<(ByteStream, Option<String>), S3Error> {
        let mut req = self.client.get_object().bucket(bucket).key(key);
        match end {
            Some(end) if end > start => req = req.range(format!("bytes={start}-{}", end - 1)),
            _ if start > 0 => req = req.range(format!("bytes={start}-")),
            _ => {}
        }
        if let Some(e) = etag {
            req = req.if_match(e);
        }
        let resp = req.send().await.map_err(|e| Self::map_err(bucket, key, e))?;
        let etag = resp.e_tag().map(String::from);
        Ok((resp.body, etag))
    }
}

/// A key as S3 sends it with `encoding-type=url` (`%XX` escapes, `+` for a space), decoded; an
/// escape that is not one, or bytes that are not UTF-8, are kept as they came (such a key is no
/// artifact's name, and is skipped by the name grammar).
fn url_decoded(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => {
                out.push(u8::from_str_radix(&key[i + 1..i + 3], 16).unwrap_or(b'%'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_keys_are_decoded() {
        assert_eq!(url_decoded("123-linux/a%01b_lib_gfx942.tar.zst"), "123-linux/a\u{1}b_lib_gfx942.tar.zst");
        assert_eq!(url_decoded("x%2By+z%"), "x+y z%");
        assert_eq!(url_decoded("%zz%4%+1"), "%zz%4% 1");
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[tokio::test]
    async fn the_buckets_region_wins_over_the_runners_and_an_endpoint_override_keeps_its_own() {
        let c = client_config(&vars(&[("AWS_REGION", "eu-west-1")]), false).await;
        assert_eq!(c.region().map(|r| r.as_ref()), Some("us-east-2"));
        let c = client_config(&vars(&[("AWS_DEFAULT_REGION", "ap-south-1")]), false).await;
        assert_eq!(c.region().map(|r| r.as_ref()), Some("us-east-2"));
        let c = client_config(&vars(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")]), false).await;
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"), "a local S3 keeps the configured region");
        let c = client_config(&vars(&[("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")]), false).await;
        assert_eq!(c.region().map(|r| r.as_ref()), Some("us-east-2"));
    }

    #[test]
    fn a_refusal_is_final_and_a_server_error_or_throttle_is_tried_again() {
        assert!(!transient("InvalidArgument", Some(400)));
        assert!(transient("RequestTimeout", Some(400)), "S3 sends a 400 for it");
        assert!(transient("SlowDown", Some(503)) && transient("", Some(500)) && transient("", Some(429)));
    }
}
