//! Lines for people on stderr (and, in action mode, the text on stdout). On a runner every
//! output line starting with `::` is a workflow command, and archive names, S3 keys, inputs and
//! server messages are not ours: in action mode they are neutralized before they are printed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

static ACTION: AtomicBool = AtomicBool::new(false);

/// The bar or spinner drawn on the terminal now, if any: lines are printed above it, never
/// through it.
static DRAWN: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// From now on, text is printed as a runner must see it.
pub fn set_action_mode() {
    ACTION.store(true, Ordering::Relaxed);
}

pub fn action_mode() -> bool {
    ACTION.load(Ordering::Relaxed)
}

/// Text a runner reads as plain output, never as a workflow command: a line that would start a
/// command (`::`, after any blanks) is shown behind `> `, a legacy `##[` is broken up, and a lone
/// CR (which the runner also splits lines on) becomes a line break.
pub fn neutralize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("::") {
            out.push_str("> ");
        }
        out.push_str(&line.replace("##[", "# #["));
    }
    out
}

/// Text with every control character but line breaks and tabs shown escaped (`\x1b`, `\u{9b}`):
/// commit subjects, server messages and key names are not ours, and an escape sequence in them
/// would retitle, recolour or clear a terminal.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x80 && c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn guarded(text: &str) -> std::borrow::Cow<'_, str> {
    let text = escape_controls(text);
    if action_mode() {
        std::borrow::Cow::Owned(neutralize(&text))
    } else {
        text
    }
}

/// One line (or more) on stderr (above the bar or spinner, when one is drawn).
pub fn line(text: &str) {
    let text = guarded(text);
    let drawn = DRAWN.lock().unwrap_or_else(|e| e.into_inner());
    let write = || {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    };
    match &*drawn {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Whether stderr is a person's terminal, where a bar or a spinner is drawn (never in action
/// mode: a runner's log is not a terminal, whatever it claims).
pub fn draws(tty: bool) -> bool {
    tty && !action_mode()
}

/// From now on `bar` is drawn on stderr: `line` prints above it.
pub fn drawing(bar: &indicatif::ProgressBar) {
    *DRAWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
}

/// The drawn bar is cleared and forgotten.
pub fn done_drawing() {
    if let Some(bar) = DRAWN.lock().unwrap_or_else(|e| e.into_inner()).take() {
        bar.finish_and_clear();
    }
}

/// A spinner on a terminal while something slow is asked (GitHub): `asking GitHub about
/// ROCm/TheRock`. Nothing where stderr is not a terminal. Cleared when dropped.
pub struct Spinner(bool);

impl Spinner {
    pub fn start(message: String) -> Spinner {
        // One thing drawn at a time: a spinner inside another's work (reuse inside fetch) is none.
        if !draws(std::io::IsTerminal::is_terminal(&std::io::stderr())) || DRAWN.lock().map_or(true, |d| d.is_some()) {
            return Spinner(false);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(escape_controls(&message).into_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        drawing(&bar);
        Spinner(true)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if self.0 {
            done_drawing();
        }
    }
}

/// Text for stdout that is not a workflow command of ours.
pub fn stdout_text(text: &str) {
    let _ = write!(std::io::stdout().lock(), "{}", guarded(text));
}

/// `say!("...", args)`: a line on stderr, safe in action mode.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::log::line(&format!($($t)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_off_a_terminal() {
        assert!(!draws(false));
    }

    #[test]
    fn control_characters_from_outside_are_shown_escaped() {
        assert_eq!(escape_controls("a\x1b]0;pwned\x07b\u{9b}2J\tc\nd"), "a\\x1b]0;pwned\\x07b\\u{9b}2J\tc\nd");
        assert!(matches!(escape_controls("plain\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_line_that_would_be_a_workflow_command_is_shown_not_run() {
        assert_eq!(neutralize("fetched evil\n::warning::pwned"), "fetched evil\n> ::warning::pwned");
        assert_eq!(neutralize("a\r  ::set-env name=X::1"), "a\n>   ::set-env name=X::1");
        assert_eq!(neutralize("x ##[error]y"), "x # #[error]y");
        assert_eq!(neutralize("plain: text :: inside"), "plain: text :: inside");
    }
}
