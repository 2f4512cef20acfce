//! Windows' rules for file names, applied where the output is on Windows: the characters no
//! Windows name may hold (mapped), the names Windows keeps for devices and the names it
//! silently changes (refused), and the case it folds. Pure: the callers decide where they apply.

use std::borrow::Cow;

/// Characters no Windows file name may hold (`:` would name an NTFS alternate data stream).
const INVALID: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Device names Windows reserves, with or without an extension (`aux.txt` is the AUX device).
const DEVICES: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

/// A name Windows can hold: every invalid character (and control character) as `%XX`, its
/// byte in hex (`rccl_lib_gfx942:xnack+.tar.zst` -> `rccl_lib_gfx942%3Axnack+.tar.zst`);
/// other names unchanged.
pub fn map_name(name: &str) -> Cow<'_, str> {
    if !name.chars().any(needs_mapping) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if needs_mapping(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_mapping(c: char) -> bool {
    INVALID.contains(&c) || (c as u32) < 0x20
}

/// Why Windows cannot hold `name` as written (a reserved device name, or a trailing dot or
/// space, which Windows drops, so that `a.` and `a` would be one file); `None` when it can.
pub fn refusal(name: &str) -> Option<String> {
    if name.ends_with('.') && name != "." && name != ".." {
        return Some(format!("'{name}' ends with a dot, which Windows drops"));
    }
    if name.ends_with(' ') {
        return Some(format!("'{name}' ends with a space, which Windows drops"));
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    let numbered = |p: &str| upper.strip_prefix(p).is_some_and(|n| matches!(n, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"));
    if DEVICES.contains(&upper.as_str()) || numbered("COM") || numbered("LPT") {
        return Some(format!("'{name}' is the device {stem} on Windows"));
    }
    None
}

/// The name as a case-insensitive file system compares it.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_and_the_other_invalid_characters_map_to_their_hex_bytes() {
        assert_eq!(map_name("rccl_lib_gfx942:xnack+.tar.zst"), "rccl_lib_gfx942%3Axnack+.tar.zst");
        assert_eq!(map_name("a<b>c\"d|e?f*g\u{1}"), "a%3Cb%3Ec%22d%7Ce%3Ff%2Ag%01");
        assert!(matches!(map_name("blas_lib_gfx942.tar.zst"), Cow::Borrowed(_)), "ordinary names are not copied");
    }

    #[test]
    fn device_names_with_or_without_an_extension_are_refused_in_any_case() {
        for n in ["CON", "nul", "aux.txt", "Com1", "LPT9.log", "prn .x", "CONOUT$"] {
            assert!(refusal(n).is_some(), "{n}");
        }
        for n in ["console", "con_x.h", "COM10", "auxiliary.txt", "nul-device", "a.con"] {
            assert_eq!(refusal(n), None, "{n}");
        }
    }

    #[test]
    fn trailing_dots_and_spaces_are_refused() {
        assert!(refusal("lib.").unwrap().contains("dot"));
        assert!(refusal("lib ").unwrap().contains("space"));
        assert_eq!(refusal(".hidden"), None);
        assert_eq!(refusal("."), None);
    }

    #[test]
    fn folding_ignores_case() {
        assert_eq!(fold("Esc"), fold("ESC"));
        assert_ne!(fold("a"), fold("b"));
    }
}
