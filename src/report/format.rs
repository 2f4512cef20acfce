//! Formatters every rendering shares: sizes and deltas, and the Markdown escapes that keep
//! untrusted values (archive names, commit subjects, server messages) in their place.

use crate::domain::units::human_bytes;

pub fn fmt_delta(d: i64) -> String {
    let s = human_bytes(d.unsigned_abs());
    match d.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => "0".into(),
    }
}

pub fn fmt_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.2}%")).unwrap_or_default()
}

pub fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Markdown: a value shown as code: it cannot close the code span, break a table row, or start a line.
pub fn code(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("`{}`", clean.replace('`', "'").replace('|', "\\|"))
}

/// Markdown: a link target: an http(s) URL without anything that could end the link early.
pub fn link(url: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return String::new();
    }
    url.chars().filter(|c| !c.is_control() && !matches!(c, ' ' | '(' | ')' | '<' | '>' | '"' | '`')).collect()
}

/// Markdown: untrusted text shown as text: no links, images, HTML, emphasis or table breaks.
/// Parentheses are escaped only where they would make a link target (`](...)`), `!` only before
/// `[` (an image): "commit(s)" stays as written.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut in_target = false;
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => true,
            '!' => chars.get(i + 1) == Some(&'['),
            '(' if i > 0 && chars[i - 1] == ']' => {
                in_target = true;
                true
            }
            ')' if in_target => {
                in_target = false;
                true
            }
            _ => false,
        };
        if escape {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Untrusted text cut to a length a summary can carry.
pub fn short(s: &str) -> String {
    match s.char_indices().nth(600) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_values_cannot_escape_their_place_in_the_summary() {
        assert_eq!(code("a`b|c\nd"), "`a'b\\|c d`");
        assert_eq!(text("[x](http://e/) <img> *b*"), "\\[x\\]\\(http://e/\\) \\<img\\> \\*b\\*");
        assert_eq!(link("javascript:alert(1)"), "");
        assert_eq!(text("3 commit(s) between (a and b)!"), "3 commit(s) between (a and b)!", "no needless escapes");
        assert_eq!(text("![i](x)"), "\\!\\[i\\]\\(x\\)");
        assert_eq!(link("https://github.com/o/r/actions/runs/1) ![x](y"), "https://github.com/o/r/actions/runs/1![x]y");
    }
}
