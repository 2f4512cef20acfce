//! The runner's file and workflow commands: `$GITHUB_OUTPUT` blocks, the step summary,
//! `::error::` and friends, and handing the extracted tree to the workspace's owner.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// `name<<DELIM` blocks with a random delimiter that never occurs in the value.
pub fn output_block(name: &str, value: &str) -> String {
    let mut delim;
    loop {
        delim = format!("ghadelimiter_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        if !value.contains(&delim) {
            break;
        }
    }
    format!("{name}<<{delim}\n{value}\n{delim}\n")
}

pub fn append(path: &Path, text: &str, what: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).with_context(|| format!("cannot write {what} file {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {what} file {}", path.display()))
}

/// Keeps a step summary far under GitHub's 1 MiB limit, cutting at a line (or at least a
/// character) boundary.
pub fn clamp_summary(md: &mut String, limit: usize) {
    if md.len() <= limit {
        return;
    }
    let mut cut = limit;
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = md[..cut].rfind('\n') {
        cut = nl + 1;
    }
    md.truncate(cut);
    md.push_str("\n(truncated)\n");
}

/// Gives the extracted tree the owner of the workspace (container actions run as root; later
/// steps run as the runner user).
#[cfg(unix)]
pub fn chown_like_workspace(dir: &Path, workspace: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(workspace).with_context(|| format!("cannot read GITHUB_WORKSPACE {}", workspace.display()))?;
    let (uid, gid) = (m.uid(), m.gid());
    let own = std::fs::symlink_metadata(dir)?;
    if own.uid() == uid && own.gid() == gid {
        return Ok(());
    }
    crate::fetch::chown_tree(dir, uid, gid).with_context(|| format!("cannot give {} the owner of the workspace", dir.display()))
}

#[cfg(not(unix))]
pub fn chown_like_workspace(_dir: &Path, _workspace: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_clamped_at_a_boundary() {
        let mut md = "| é |\n".repeat(100_000);
        clamp_summary(&mut md, 1001);
        assert!(md.len() <= 1001 + 20 && md.ends_with("(truncated)\n"), "{}", md.len());
        assert!(md.trim_end_matches("\n(truncated)\n").ends_with("| é |\n"));
    }

    #[test]
    fn escaping_and_blocks() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        let b = output_block("results", "line1\nline2");
        let mut it = b.lines();
        let head = it.next().unwrap();
        let delim = head.strip_prefix("results<<").unwrap();
        assert_eq!(it.next().unwrap(), "line1");
        assert_eq!(it.next().unwrap(), "line2");
        assert_eq!(it.next().unwrap(), delim);
    }
}
