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
    let (num, shift) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 10),
        (i, 'm' | 'M') => (&s[..i], 20),
        (i, 'g' | 'G') => (&s[..i], 30),
        (i, 't' | 'T') => (&s[..i], 40),
        _ => (s, 0),
    };
    let v: f64 = num.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    let bytes = v * (1u64 << shift) as f64;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// `14d`, `36h`, `90m`, `3600` (seconds): an age in seconds.
pub fn parse_age(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last()? {
        (i, 'd' | 'D') => (&s[..i], 86_400),
        (i, 'h' | 'H') => (&s[..i], 3_600),
        (i, 'm' | 'M') => (&s[..i], 60),
        (i, 's' | 'S') => (&s[..i], 1),
        _ => (s, 1),
    };
    let v: f64 = num.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    Some((v * unit as f64) as u64)
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
        assert_eq!(parse_age("36h"), Some(36 * 3_600));
        assert_eq!(parse_age("1.5d"), Some(129_600));
        assert_eq!(parse_age("soon"), None);
    }
}
