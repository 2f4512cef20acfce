//! The one retry policy: how many attempts a request gets and how long to wait between them,
//! shared by the GitHub client, every S3 request (listings, sidecars, heads) and the
//! downloader's resumes of an archive's byte ranges.
//!
//! The wait before attempt `n + 1` (after `n` failures, counted from 1) is `base * 2^(n-1)`,
//! jittered to 0.5x-1.5x so many clients that failed together do not retry together, and
//! capped. `base` is `THEROCK_ARTIFACTS_BACKOFF_MS` (1 s); GitHub's attempts are
//! `THEROCK_ARTIFACTS_RETRIES` (5); every S3 request gets `S3_ATTEMPTS`.

use std::time::Duration;

/// Attempts of one S3 request (a listing page, a sidecar, a head, a byte range of an archive):
/// with the default base, about 30 s of waits (15-45 s with the jitter) before giving up.
pub const S3_ATTEMPTS: u32 = 6;

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The first wait; each next one doubles.
    pub base: Duration,
    /// No wait is longer.
    pub cap: Duration,
    /// Spread each wait over 0.5x-1.5x.
    pub jitter: bool,
}

impl RetryPolicy {
    /// `attempts` in all, waits from `base`, jittered, capped at `MAX_DELAY`.
    pub fn new(attempts: u32, base: Duration) -> RetryPolicy {
        RetryPolicy { attempts: attempts.max(1), base, cap: MAX_DELAY, jitter: true }
    }

    /// Every S3 request's budget.
    pub fn s3(base: Duration) -> RetryPolicy {
        RetryPolicy::new(S3_ATTEMPTS, base)
    }

    /// The wait after the `failures`-th failure (1 for the first), before the next attempt.
    pub fn delay(&self, failures: u32) -> Duration {
        let doubling = 2f64.powi(failures.saturating_sub(1).min(16) as i32);
        let spread = if self.jitter { 0.5 + fastrand::f64() } else { 1.0 };
        let ms = self.base.as_millis() as f64 * doubling * spread;
        Duration::from_millis(ms.min(self.cap.as_millis() as f64) as u64)
    }

    /// Whether another attempt follows the `failures`-th failure.
    pub fn retries_after(&self, failures: u32) -> bool {
        failures < self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::new(5, Duration::from_millis(100));
        let d1 = p.delay(1);
        assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(150), "{d1:?}");
        let d4 = p.delay(4);
        assert!(d4 >= Duration::from_millis(400) && d4 <= Duration::from_millis(1200), "{d4:?}");
        assert!(p.delay(31) <= MAX_DELAY);
        let steady = RetryPolicy { jitter: false, ..p };
        assert_eq!((steady.delay(1), steady.delay(2), steady.delay(3)), (Duration::from_millis(100), Duration::from_millis(200), Duration::from_millis(400)));
    }

    #[test]
    fn the_budget_counts_the_first_attempt() {
        let p = RetryPolicy::new(0, Duration::ZERO);
        assert_eq!(p.attempts, 1, "at least one attempt");
        assert!(!p.retries_after(1));
        let p = RetryPolicy::s3(Duration::ZERO);
        assert!(p.retries_after(S3_ATTEMPTS - 1) && !p.retries_after(S3_ATTEMPTS));
    }
}
