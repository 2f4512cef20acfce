//! Sizes for people: `1.5 GiB` out, `50G` in.

/// `n` bytes as people read them (`512 B`, `1.5 MiB`).
pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// `50G`, `512M`, `10k`, `1000`: bytes (suffixes K, M, G, T are powers of 1024; a trailing
/// `B` or `iB` is allowed).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_suffix("iB").or_else(|| s.strip_suffix('B')).unwrap_or(s);
    let shift = |c: char| match c.to_ascii_uppercase() {
        'K' => Some(10),
        'M' => Some(20),
        'G' => Some(30),
        'T' => Some(40),
        _ => None,
    };
    let bytes = parse_scaled(s, |c| shift(c).map(|n| (1u64 << n) as f64))?;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// `2w`, `14d`, `36h`, `90m`, `3600` (seconds): an age in seconds.
pub fn parse_age(s: &str) -> Option<u64> {
    let unit = |c: char| match c.to_ascii_lowercase() {
        'w' => Some(7.0 * 86_400.0),
        'd' => Some(86_400.0),
        'h' => Some(3_600.0),
        'm' => Some(60.0),
        's' => Some(1.0),
        _ => None,
    };
    parse_scaled(s, unit).map(|v| v as u64)
}

/// A non-negative number with an optional one-letter unit (`unit` says what it multiplies by).
fn parse_scaled(s: &str, unit: impl Fn(char) -> Option<f64>) -> Option<f64> {
    let s = s.trim();
    let (i, last) = s.char_indices().last()?;
    let (num, scale) = match unit(last) {
        Some(u) => (&s[..i], u),
        None => (s, 1.0),
    };
    let v: f64 = num.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    Some(v * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("50G"), Some(50 << 30));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
    }

    #[test]
    fn ages_take_days_hours_minutes() {
        assert_eq!(parse_age("14d"), Some(14 * 86_400));
        assert_eq!(parse_age("2w"), Some(14 * 86_400), "weeks, as humantime and gh write them");
        assert_eq!(parse_age("36h"), Some(36 * 3_600));
        assert_eq!(parse_age("1.5d"), Some(129_600));
        assert_eq!(parse_age("soon"), None);
    }
}
