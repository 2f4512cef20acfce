//! `contains`: which TheRock commit first pins a super-repo commit. Pure rules: the search for
//! the oldest bump whose gitlink includes the commit, what "includes" means given the compare
//! API's answer, and the dev tarball (`therock-dev-tarball`, facts 5e) built from a TheRock commit.

use super::release::{Channel, TarballName};

/// The search for the oldest of `0..n` (oldest first) that holds, when the newest (`n - 1`)
/// holds and whatever lies before `0` does not: O(log n) probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstTrue {
    /// The newest known not to hold (`None`: only what lies before 0).
    lo: Option<usize>,
    /// The oldest known to hold.
    hi: usize,
}

impl FirstTrue {
    /// `n` > 0 entries, the newest known to hold.
    pub fn new(n: usize) -> Self {
        FirstTrue { lo: None, hi: n.saturating_sub(1) }
    }

    /// Restarts above `lo` (known not to hold), up to the newest.
    pub fn above(lo: usize, n: usize) -> Self {
        FirstTrue { lo: Some(lo), hi: n.saturating_sub(1) }
    }

    /// The entry to probe next, or `None` once the answer is known.
    pub fn next(&self) -> Option<usize> {
        let a = self.lo.map_or(0, |l| l + 1);
        (a < self.hi).then(|| a + (self.hi - a) / 2)
    }

    pub fn record(&mut self, i: usize, holds: bool) {
        if holds {
            self.hi = self.hi.min(i);
        } else {
            self.lo = Some(self.lo.map_or(i, |l| l.max(i)));
        }
    }

    /// The oldest entry that holds.
    pub fn answer(&self) -> usize {
        self.hi
    }
}

/// Does a gitlink include the commit, by `compare/{commit}...{gitlink}`'s status?
pub fn status_includes(status: &str) -> bool {
    matches!(status, "identical" | "ahead")
}

/// The commits a gitlink may be and include the commit: the commit itself and those the
/// newest gitlink has that it lacks (`compare`'s list), when that list is complete. On a
/// linear history (the super-repos merge by squashing) a gitlink includes the commit exactly
/// when it is one of them; the answer is checked with one exact comparison all the same.
pub fn descendants(commit: &str, listed: &[String], ahead_by: u64) -> Option<std::collections::HashSet<String>> {
    (listed.len() as u64 >= ahead_by).then(|| listed.iter().cloned().chain(std::iter::once(commit.to_string())).collect())
}

/// A dev tarball: `v4/tarball/therock-dist-{platform}-{group}-{X.Y.Z.dev0+<sha>}.tar.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevTarball {
    pub platform: String,
    pub group: String,
    pub version: String,
    /// The TheRock commit (or its prefix) the version names.
    pub sha: String,
}

/// The file name's parts, for a dev tarball (a `-tests` sibling, another channel's version or
/// a name outside the pattern is `None`): release.rs's tarball grammar, of the dev channel,
/// with at least 7 digits of SHA.
pub fn dev_tarball(name: &str) -> Option<DevTarball> {
    let t = TarballName::parse(name).filter(|t| !t.tests && t.version.channel == Channel::Dev)?;
    let sha = t.version.text.split_once(".dev0+")?.1.to_string();
    (sha.len() >= 7).then(|| DevTarball { platform: t.platform.as_str().into(), sha, group: t.group, version: t.version.text })
}

/// The first of `commits` (oldest first: the TheRock commit asked about, then later ones)
/// that a tarball names, and that tarball (for one of `groups`, or any when empty).
pub fn first_tarball<'a>(tarballs: &'a [DevTarball], commits: &[String], groups: &[String]) -> Option<&'a DevTarball> {
    commits.iter().find_map(|c| tarballs.iter().find(|t| (groups.is_empty() || groups.contains(&t.group)) && c.starts_with(&t.sha)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_finds_the_oldest_that_holds_in_log2_probes() {
        for n in 1..70usize {
            for first in 0..n {
                let mut s = FirstTrue::new(n);
                let mut probes = 0;
                while let Some(i) = s.next() {
                    probes += 1;
                    s.record(i, i >= first);
                }
                assert_eq!(s.answer(), first, "n {n}");
                assert!(probes <= (usize::BITS - (n - 1).leading_zeros()) as usize, "n {n}: {probes} probes");
            }
        }
        let mut s = FirstTrue::above(3, 10);
        assert!(s.next().unwrap() > 3);
        s.record(9, true);
    }

    #[test]
    fn a_gitlink_includes_the_commit_when_it_is_it_or_ahead_of_it() {
        assert!(status_includes("identical") && status_includes("ahead"));
        assert!(!status_includes("behind") && !status_includes("diverged"));
        let set = descendants("x", &["y".into(), "z".into()], 2).unwrap();
        assert!(set.contains("x") && set.contains("z"));
        assert!(descendants("x", &["y".into()], 300).is_none(), "an incomplete list decides nothing");
    }

    #[test]
    fn dev_tarball_names_parse_and_others_do_not() {
        let t = dev_tarball("therock-dist-linux-gfx94X-dcgpu-7.10.0.dev0+0123abc.tar.gz").unwrap();
        assert_eq!((t.platform.as_str(), t.group.as_str(), t.version.as_str(), t.sha.as_str()), ("linux", "gfx94X-dcgpu", "7.10.0.dev0+0123abc", "0123abc"));
        assert!(dev_tarball("therock-dist-linux-gfx94X-dcgpu-tests-7.10.0.dev0+0123abc.tar.gz").is_none());
        assert!(dev_tarball("therock-dist-linux-gfx94X-dcgpu-7.10.0a20261102.tar.gz").is_none(), "a nightly");
        assert!(dev_tarball("therock-dist-macos-gfx94X-dcgpu-7.10.0.dev0+0123abc.tar.gz").is_none());
        assert!(dev_tarball("therock-dist-linux-gfx94X-dcgpu-7.10.0.dev0+XYZ.tar.gz").is_none());
        assert!(dev_tarball("therock-dist-linux-gfx94X-dcgpu-7.10.0.dev0+0123ab.tar.gz").is_none(), "fewer than 7 digits of SHA");
    }

    #[test]
    fn the_first_tarball_is_of_the_commit_or_the_next_one_that_has_one() {
        let t = |g: &str, s: &str| DevTarball { platform: "linux".into(), group: g.into(), version: format!("7.10.0.dev0+{s}"), sha: s.into() };
        let tarballs = vec![t("gfx94X-dcgpu", "ccccccc"), t("gfx110X-all", "bbbbbbb")];
        let commits = vec!["a".repeat(40), "b".repeat(40), "c".repeat(40)];
        assert_eq!(first_tarball(&tarballs, &commits, &["gfx94X-dcgpu".into()]).unwrap().sha, "ccccccc");
        assert_eq!(first_tarball(&tarballs, &commits, &[]).unwrap().sha, "bbbbbbb");
        assert!(first_tarball(&tarballs, &commits[..1], &[]).is_none());
    }
}
