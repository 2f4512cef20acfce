//! The local git checkout: origin's GitHub repository, HEAD, merge-bases, first-parent history.
//!
//! What resolve asks runs `git` through `tokio::process`, off the runtime's threads. The few
//! questions `config::Facts::gather` asks before any source exists (discover, origin, a
//! revision's SHA, whether it is pushed) are the blocking `*` methods marked so below.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::domain::buckets::Repo;
use crate::domain::run::Commit;

#[derive(Debug, Clone)]
pub struct Checkout {
    pub dir: PathBuf,
}

/// Trimmed stdout of a successful git command.
fn stdout_of(out: std::io::Result<Output>) -> Option<String> {
    let out = out.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Blocking: only for the facts gathered before the sources run.
fn git_blocking(dir: &Path, args: &[&str]) -> Option<String> {
    stdout_of(std::process::Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output())
}

async fn git(dir: &Path, args: &[&str]) -> Option<String> {
    stdout_of(tokio::process::Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().await)
}

/// `https://github.com/O/R(.git)`, `git@github.com:O/R.git`, `ssh://git@host/O/R.git`.
pub fn repo_from_remote_url(url: &str) -> Option<Repo> {
    let url = url.trim();
    let path = if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        rest.split_once('/')?.1
    } else if let Some((_, p)) = url.split_once(':') {
        p
    } else {
        return None;
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    Repo::parse(&format!("{}/{}", parts[parts.len() - 2], parts[parts.len() - 1])).ok()
}

impl Checkout {
    /// The checkout containing the current directory, if any (blocking).
    pub fn discover() -> Option<Self> {
        let cwd = std::env::current_dir().ok()?;
        let top = git_blocking(&cwd, &["rev-parse", "--show-toplevel"])?;
        Some(Checkout { dir: PathBuf::from(top) })
    }

    /// The GitHub repository of `origin` (blocking).
    pub fn origin_repo(&self) -> Option<Repo> {
        repo_from_remote_url(&git_blocking(&self.dir, &["remote", "get-url", "origin"])?)
    }

    /// Full SHA of a revision known locally (blocking).
    pub fn resolve(&self, rev: &str) -> Option<String> {
        git_blocking(&self.dir, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
    }

    /// Is the commit on some remote-tracking branch, so GitHub can know it (blocking)?
    pub fn is_pushed(&self, sha: &str) -> bool {
        git_blocking(&self.dir, &["branch", "-r", "--contains", sha]).is_some_and(|o| !o.trim().is_empty())
    }

    pub async fn has_ref(&self, r: &str) -> bool {
        git(&self.dir, &["rev-parse", "--verify", "--quiet", r]).await.is_some()
    }

    pub async fn has_object(&self, rev: &str) -> bool {
        git(&self.dir, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]).await.is_some()
    }

    pub async fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        git(&self.dir, &["merge-base", a, b]).await
    }

    pub async fn is_shallow(&self) -> bool {
        git(&self.dir, &["rev-parse", "--is-shallow-repository"]).await.as_deref() != Some("false")
    }

    /// First-parent history with subjects and dates, newest first.
    pub async fn first_parent_commits(&self, rev: &str, n: usize) -> Option<Vec<Commit>> {
        let out = git(&self.dir, &["log", "--first-parent", &format!("--max-count={n}"), "--format=%H%x1f%P%x1f%cI%x1f%aI%x1f%s", rev]).await?;
        Some(out.lines().filter_map(log_line).collect())
    }

    /// The branch checked out, when HEAD is `sha` and on a branch.
    pub async fn branch_at(&self, sha: &str) -> Option<String> {
        if git(&self.dir, &["rev-parse", "HEAD"]).await.as_deref().map(str::trim) != Some(sha) {
            return None;
        }
        let b = git(&self.dir, &["rev-parse", "--abbrev-ref", "HEAD"]).await?;
        let b = b.trim();
        (!b.is_empty() && b != "HEAD").then(|| b.to_string())
    }

    /// The paths changed between two commits (`git diff --name-only`; a submodule bump is its path).
    pub async fn changed_paths(&self, base: &str, head: &str) -> Option<Vec<String>> {
        let out = git(&self.dir, &["diff", "--name-only", "--no-renames", base, head, "--"]).await?;
        Some(out.lines().filter(|l| !l.is_empty()).map(String::from).collect())
    }

    /// The gitlink of the submodule at `path` at `rev` (`git ls-tree`), when it is one.
    pub async fn gitlink(&self, rev: &str, path: &str) -> Option<String> {
        let out = git(&self.dir, &["ls-tree", rev, "--", path]).await?;
        gitlink_of(&out)
    }

    /// A file's content at a commit.
    pub async fn show(&self, rev: &str, path: &str) -> Option<String> {
        git(&self.dir, &["show", &format!("{rev}:{path}")]).await
    }
}

/// The SHA of a `160000 commit <sha>\t<path>` line of `git ls-tree`.
fn gitlink_of(ls_tree: &str) -> Option<String> {
    let (meta, _) = ls_tree.lines().next()?.split_once('\t')?;
    match meta.split_whitespace().collect::<Vec<_>>()[..] {
        ["160000", "commit", sha] => Some(sha.to_string()),
        _ => None,
    }
}

/// One line of `git log --format=%H%x1f%P%x1f%cI%x1f%aI%x1f%s`.
fn log_line(l: &str) -> Option<Commit> {
    let f: Vec<&str> = l.splitn(5, '\u{1f}').collect();
    let [sha, parents, committed, authored, subject] = f[..] else { return None };
    Some(Commit {
        sha: sha.to_string(),
        parents: parents.split_whitespace().map(String::from).collect(),
        date: crate::domain::time::parse_rfc3339(committed),
        subject: Some(subject.to_string()),
        author_date: Some(authored.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_commit_entry_is_a_gitlink() {
        let sha = "a".repeat(40);
        assert_eq!(gitlink_of(&format!("160000 commit {sha}\trocm-systems\n")), Some(sha));
        assert_eq!(gitlink_of("100644 blob 0123\tREADME.md"), None);
        assert_eq!(gitlink_of(""), None);
    }

    #[test]
    fn remote_url_forms() {
        for u in [
            "https://github.com/ROCm/TheRock.git",
            "https://github.com/ROCm/TheRock",
            "git@github.com:ROCm/TheRock.git",
            "ssh://git@github.com/ROCm/TheRock.git",
            "https://user@github.com/ROCm/TheRock/",
        ] {
            assert_eq!(repo_from_remote_url(u).unwrap().full(), "ROCm/TheRock", "{u}");
        }
        assert!(repo_from_remote_url("/local/path").is_none());
    }
}
