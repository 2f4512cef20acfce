//! What a killed fetch left in the output: its staging tree, and perhaps a commit half-done.
//!
//! Only a journal this tool signed (see `log`) for this very output is acted on, and only on
//! the names a commit makes: paths inside the output (never through a symlink), entries set
//! aside in that staging tree's own `replaced/` or next to their place under the tool's prefix,
//! temporary names next to their destination. A journal that fails any check is ignored with a
//! warning. Nothing under `replaced/` that no line accounts for is ever deleted: the staging
//! tree holding it is kept, and named.

use std::io;
use std::path::{Component, Path};

use super::log::{self, Key};
use super::{forward, undo, Source, Step};
use crate::fetch::extract::remove_path;

/// Whether `p` is strictly inside `out` (both absolute, no `.` or `..`), with no symlink
/// between `out` and `p`'s parent.
fn inside(p: &Path, out: &Path) -> bool {
    let lexical = p.is_absolute() && p.starts_with(out) && p != out && !p.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir));
    lexical && p.parent().is_some_and(|d| no_links_between(out, d))
}

fn no_links_between(out: &Path, d: &Path) -> bool {
    let Ok(rest) = d.strip_prefix(out) else { return false };
    let mut at = out.to_path_buf();
    for c in rest.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return false;
        }
    }
    true
}

/// A name the commit gives: `prefix`-something, in `dir`.
fn tool_name_in(p: &Path, dir: Option<&Path>, prefix: &str) -> bool {
    p.parent() == dir && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix))
}

pub(super) fn valid(step: &Step, out: &Path, staging: &Path) -> bool {
    const OLD: &str = ".therock-artifacts-old-";
    const NEW: &str = ".therock-artifacts-new-";
    let trash = staging.join("replaced");
    match step {
        Step::SetAside { to, from, alt } => inside(to, out) && tool_name_in(from, Some(&trash), OLD) && tool_name_in(alt, to.parent(), OLD),
        Step::Place { src, dst, tmp } => {
            let src_ok = match src {
                Source::Move(s) => s.starts_with(staging),
                Source::Copy(_) | Source::Empty => true,
            };
            src_ok && inside(dst, out) && !dst.starts_with(staging) && tool_name_in(tmp, dst.parent(), NEW)
        }
        Step::Created(p) => inside(p, out),
        Step::Done => true,
    }
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut rd| rd.next().is_none())
}

/// Deals with `staging`, a staging tree in `out` left by a fetch that is gone (the output lock
/// is held): a commit it left half-done is undone (or, if it had ended, finished), then the
/// tree is removed, unless it holds set-aside entries nothing could put back.
pub fn recover_staging(out: &Path, staging: &Path, key: Result<&Key, &io::Error>) {
    let journal = staging.join(log::LOG);
    if std::fs::symlink_metadata(&journal).is_ok() {
        match log::read(&journal, out, key) {
            Ok(steps) if steps.iter().all(|s| valid(s, out, staging)) => {
                if steps.contains(&Step::Done) {
                    forward(&steps);
                    crate::say!("finished the commit an interrupted fetch left in {}", out.display());
                } else {
                    for k in undo(&steps) {
                        crate::say!("warning: cannot put back {k}: it is kept");
                    }
                    crate::say!("undid the commit an interrupted fetch left half-done in {}", out.display());
                }
            }
            Ok(_) => crate::say!("warning: ignored the journal {}: it names paths no commit into {} makes", journal.display(), out.display()),
            Err(why) => crate::say!("warning: ignored the journal {}: {why}", journal.display()),
        }
    }
    let trash = staging.join("replaced");
    if std::fs::symlink_metadata(&trash).is_ok_and(|m| m.is_dir()) && !is_empty_dir(&trash) {
        crate::say!(
            "warning: kept {}: it holds entries an interrupted fetch set aside that no journal of this tool accounts for (move back what you need, then remove it)",
            staging.display()
        );
        return;
    }
    match remove_path(staging) {
        Ok(()) => crate::say!("removed {}, left by an interrupted fetch", staging.display()),
        Err(err) => crate::say!("warning: cannot remove {}, left by an interrupted fetch: {err}", staging.display()),
    }
}
