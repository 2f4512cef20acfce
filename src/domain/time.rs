//! RFC 3339 timestamps to Unix seconds and back (GitHub's `2026-01-02T03:04:05Z`, git's `%cI`
//! offsets), through chrono.

use chrono::{DateTime, SecondsFormat, Utc};

/// Unix seconds of an RFC 3339 time; a time without an offset is read as UTC.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let parsed = DateTime::parse_from_rfc3339(s).or_else(|_| DateTime::parse_from_rfc3339(&format!("{s}Z")));
    parsed.ok().map(|t| t.timestamp())
}

/// Unix seconds as RFC 3339 in UTC (`2026-01-02T03:04:05Z`).
pub fn rfc3339(unix: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp(unix, 0).map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-01-02T03:04:05Z"), Some(1767323045));
        assert_eq!(parse_rfc3339("2026-01-02T05:04:05+02:00"), Some(1767323045));
        assert_eq!(parse_rfc3339("2026-01-02T03:04:05.123Z"), Some(1767323045));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2026-01-02T03:04:05+1é00"), None, "no panic on a byte slice inside a character");
    }

    #[test]
    fn formats_utc_to_the_second_and_round_trips() {
        assert_eq!(rfc3339(1767323045).as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(rfc3339(0).as_deref().and_then(parse_rfc3339), Some(0));
    }
}
