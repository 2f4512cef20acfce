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

/// Unix seconds as GitHub writes a timestamp (`2026-01-02T03:04:05Z`, UTC).
pub fn format_rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_a_timestamp_writes_it_back_as_github_does() {
        for s in ["1970-01-01T00:00:00Z", "2026-09-20T09:30:00Z", "2024-02-29T23:59:59Z", "2000-03-01T00:00:00Z", "1969-12-31T23:59:59Z"] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
        assert_eq!(format_rfc3339(parse_rfc3339("2026-01-02T05:04:05+02:00").unwrap()), "2026-01-02T03:04:05Z");
    }
    #[test]
    fn formats_what_it_parses() {
        for s in ["1970-01-01T00:00:00Z", "2026-01-02T03:04:05Z", "2024-02-29T23:59:59Z", "2026-12-31T00:00:01Z"] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
    }

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
