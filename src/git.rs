//! The local git checkout: origin's GitHub repository, HEAD, merge-bases, first-parent history.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::domain::buckets::Repo;

#[derive(Debug, Clone)]
pub struct Checkout {
    pub dir: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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
    /// The checkout containing the current directory, if any.
    pub fn discover() -> Option<Self> {
        let cwd = std::env::current_dir().ok()?;
        let top = git(&cwd, &["rev-parse", "--show-toplevel"])?;
        Some(Checkout { dir: PathBuf::from(top) })
    }

    pub fn origin_repo(&self) -> Option<Repo> {
        repo_from_remote_url(&git(&self.dir, &["remote", "get-url", "origin"])?)
    }

    /// Full SHA of a revision known locally.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        git(&self.dir, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
    }

    pub fn has_ref(&self, r: &str) -> bool {
        git(&self.dir, &["rev-parse", "--verify", "--quiet", r]).is_some()
    }

    /// Is the commit on some remote-tracking branch (so GitHub can know it)?
    pub fn is_pushed(&self, sha: &str) -> bool {
        git(&self.dir, &["branch", "-r", "--contains", sha]).is_some_and(|o| !o.trim().is_empty())
    }

    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        git(&self.dir, &["merge-base", a, b])
    }

    pub fn is_shallow(&self) -> bool {
        git(&self.dir, &["rev-parse", "--is-shallow-repository"]).as_deref() != Some("false")
    }

    /// First-parent history with subjects and dates, newest first.
    pub fn first_parent_commits(&self, rev: &str, n: usize) -> Option<Vec<crate::domain::run::Commit>> {
        let out = git(&self.dir, &["log", "--first-parent", &format!("--max-count={n}"), "--format=%H%x1f%P%x1f%cI%x1f%aI%x1f%s", rev])?;
        Some(
            out.lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.splitn(5, '\u{1f}').collect();
                    let [sha, parents, committed, authored, subject] = f[..] else { return None };
                    Some(crate::domain::run::Commit {
                        sha: sha.to_string(),
                        parents: parents.split_whitespace().map(String::from).collect(),
                        date: crate::domain::time::parse_rfc3339(committed),
                        subject: Some(subject.to_string()),
                        author_date: Some(authored.to_string()),
                    })
                })
                .collect(),
        )
    }

    /// A file's content at a commit.
    pub fn show(&self, rev: &str, path: &str) -> Option<String> {
        git(&self.dir, &["show", &format!("{rev}:{path}")])
    }

    pub fn has_object(&self, rev: &str) -> bool {
        self.resolve(rev).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
