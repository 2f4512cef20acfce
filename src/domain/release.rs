//! Release tarballs (therock-facts.md 5e): the version grammar and its bucket, the tarball name
//! grammar, which listed tarball is the latest, and what a listing holds when nothing matched.

use std::collections::BTreeSet;

use super::buckets::Platform;

/// The accepted shapes, as error messages name them.
pub const SHAPES: &str = "latest, X.Y.ZaYYYYMMDD or X.Y.ZrcYYYYMMDD (nightly, e.g. 7.11.0a20251124), X.Y.Z.dev0+<hex sha> (dev) or X.Y.Z (release)";

/// The key prefix of the tarballs in every release bucket (`THEROCK_ARTIFACTS_RELEASE_PREFIX`
/// overrides it: upstream moved it once, to `v5/rocm/core/tarball/`, and moved it back).
pub const DEFAULT_PREFIX: &str = "v4/tarball/";

/// Which bucket a version lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Nightly,
    Dev,
    Release,
}

impl Channel {
    pub fn bucket(self) -> &'static str {
        match self {
            Channel::Nightly => "therock-nightly-tarball",
            Channel::Dev => "therock-dev-tarball",
            Channel::Release => "therock-release-tarball",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Nightly => "nightly",
            Channel::Dev => "dev",
            Channel::Release => "release",
        }
    }
    /// The plural people read in an answer: "nightlies", "dev tarballs".
    pub fn plural(self) -> &'static str {
        match self {
            Channel::Nightly => "nightlies",
            Channel::Dev => "dev tarballs",
            Channel::Release => "releases",
        }
    }
}

/// A release version: `X.Y.Z`, then `aYYYYMMDD` / `rcYYYYMMDD` (nightly), `.dev0+<hex>` (dev)
/// or nothing (a release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub text: String,
    pub numbers: [u64; 3],
    pub channel: Channel,
    /// `YYYYMMDD` of a nightly.
    pub date: Option<u32>,
}

fn triple(s: &str) -> Option<[u64; 3]> {
    let mut it = s.split('.');
    let mut n = [0u64; 3];
    for slot in &mut n {
        let p = it.next()?;
        if p.is_empty() || p.len() > 6 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    it.next().is_none().then_some(n)
}

/// A calendar date `YYYYMMDD` (month 1-12, day 1-31).
fn date8(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: u32 = s.parse().ok()?;
    ((1..=12).contains(&(d / 100 % 100)) && (1..=31).contains(&(d % 100))).then_some(d)
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let text = s.trim().to_string();
        if let Some((base, sha)) = text.split_once(".dev0+") {
            let ok = !sha.is_empty() && sha.len() <= 40 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return ok.then(|| triple(base)).flatten().map(|numbers| Version { text: text.clone(), numbers, channel: Channel::Dev, date: None });
        }
        for tag in ["rc", "a"] {
            if let Some(at) = text.find(tag) {
                let (base, date) = (&text[..at], &text[at + tag.len()..]);
                let (numbers, date) = (triple(base)?, date8(date)?);
                return Some(Version { text: text.clone(), numbers, channel: Channel::Nightly, date: Some(date) });
            }
        }
        triple(&text).map(|numbers| Version { text: text.clone(), numbers, channel: Channel::Release, date: None })
    }
}

/// What `--release` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Latest,
    Exact(Version),
}

impl Wanted {
    /// `latest` or a version; else the accepted shapes.
    pub fn parse(s: &str) -> Result<Wanted, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Ok(Wanted::Latest);
        }
        Version::parse(s).map(Wanted::Exact).ok_or_else(|| format!("malformed release version '{s}': expected {SHAPES}"))
    }
}

/// `therock-dist-{platform}-{group}-{version}.tar.gz`; `tests` for a `{group}-tests` sibling
/// (the group without its `-tests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarballName {
    pub filename: String,
    pub platform: Platform,
    pub group: String,
    pub tests: bool,
    pub version: Version,
}

/// The tarball's filename.
pub fn tarball_filename(platform: Platform, group: &str, tests: bool, version: &str) -> String {
    let tests = if tests { "-tests" } else { "" };
    format!("therock-dist-{platform}-{group}{tests}-{version}.tar.gz")
}

/// The listing prefix of every tarball of a platform.
pub fn platform_prefix(layout: &str, platform: Platform) -> String {
    format!("{layout}therock-dist-{platform}-")
}

impl TarballName {
    /// A bare filename; anything outside the pattern (sidecars, other files) is `None`. A
    /// version never holds `-`, so it is what follows the last one.
    pub fn parse(filename: &str) -> Option<TarballName> {
        let rest = filename.strip_prefix("therock-dist-")?.strip_suffix(".tar.gz")?;
        let (platform, rest) = rest.split_once('-')?;
        let platform = Platform::parse(platform).ok().filter(|p| p.as_str() == platform)?;
        let (group, version) = rest.rsplit_once('-')?;
        let version = Version::parse(version).filter(|v| v.text == version)?;
        let key_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if group.is_empty() || !group.chars().all(key_safe) {
            return None;
        }
        let (group, tests) = match group.strip_suffix("-tests") {
            Some(g) if !g.is_empty() => (g, true),
            _ => (group, false),
        };
        Some(TarballName { filename: filename.to_string(), platform, group: group.to_string(), tests, version })
    }
}

/// One listed tarball (or any listed object: names outside the pattern are dropped here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub filename: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Seconds since the epoch.
    pub last_modified: Option<i64>,
}

/// The newest nightly of `group` on `platform`: by the date in its version, then the listing's
/// `LastModified`, then the version numbers. `-tests` siblings and other names never count.
pub fn latest<'a>(listed: &'a [Listed], platform: Platform, group: &str) -> Option<(&'a Listed, TarballName)> {
    listed
        .iter()
        .filter_map(|l| TarballName::parse(&l.filename).map(|n| (l, n)))
        .filter(|(_, n)| n.platform == platform && n.group == group && !n.tests && n.version.channel == Channel::Nightly)
        .max_by_key(|(l, n)| (n.version.date, l.last_modified, n.version.numbers))
}

/// The sidecar of a listed tarball, when the listing holds one.
pub fn has_sidecar(listed: &[Listed], filename: &str) -> bool {
    let want = format!("{filename}.sha256sum");
    listed.iter().any(|l| l.filename == want)
}

/// What a listing of a platform's tarballs holds, for an answer that found nothing: the group's
/// newest version there, and the groups with any tarball of the channel.
pub fn what_is_there(listed: &[Listed], platform: Platform, group: &str, channel: Channel) -> String {
    let names: Vec<TarballName> =
        listed.iter().filter_map(|l| TarballName::parse(&l.filename)).filter(|n| n.platform == platform && !n.tests && n.version.channel == channel).collect();
    let newest = names.iter().filter(|n| n.group == group).max_by_key(|n| (n.version.date, n.version.numbers)).map(|n| n.version.text.clone());
    let groups: BTreeSet<&str> = names.iter().map(|n| n.group.as_str()).collect();
    let first = match newest {
        Some(v) => format!("{group} has {} up to {v}", channel.plural()),
        None => format!("{group} has no {} for {platform}", channel.plural()),
    };
    if groups.is_empty() {
        return format!("{first}; no group has {} for {platform} there", channel.plural());
    }
    format!("{first}; groups with {}: {}", channel.plural(), groups.into_iter().collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(name: &str, modified: i64) -> Listed {
        Listed { filename: name.into(), size: 1, etag: None, last_modified: Some(modified) }
    }

    #[test]
    fn the_shape_of_a_version_names_its_bucket() {
        let v = Version::parse("7.11.0a20251124").unwrap();
        assert_eq!((v.channel, v.date, v.numbers), (Channel::Nightly, Some(20251124), [7, 11, 0]));
        assert_eq!(v.channel.bucket(), "therock-nightly-tarball");
        assert_eq!(Version::parse("6.4.0rc20250416").unwrap().channel, Channel::Nightly);
        let d = Version::parse("6.4.0.dev0+8f6cdfc0d95845f4ca5a46de59d58894972a29a9").unwrap();
        assert_eq!((d.channel.bucket(), d.date), ("therock-dev-tarball", None));
        assert_eq!(Version::parse("7.0.0").unwrap().channel, Channel::Release);
    }

    #[test]
    fn a_malformed_version_is_refused_naming_the_accepted_shapes() {
        for bad in ["7.11", "7.11.0a2025112", "7.11.0a20251324", "7.11.0b20251124", "7.11.0.dev0+", "7.11.0.dev0+XYZ", "v7.11.0", "7.11.0a20251124x", ""] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
        let e = Wanted::parse("7.11").unwrap_err();
        assert!(e.contains("'7.11'") && e.contains("X.Y.ZaYYYYMMDD") && e.contains("dev0"), "{e}");
        assert_eq!(Wanted::parse(" latest ").unwrap(), Wanted::Latest);
    }

    #[test]
    fn a_tarball_name_splits_at_its_last_hyphen_and_knows_its_tests_sibling() {
        let n = TarballName::parse("therock-dist-linux-gfx94X-dcgpu-7.11.0a20251124.tar.gz").unwrap();
        assert_eq!((n.platform, n.group.as_str(), n.tests, n.version.text.as_str()), (Platform::Linux, "gfx94X-dcgpu", false, "7.11.0a20251124"));
        let t = TarballName::parse("therock-dist-windows-gfx110X-all-tests-7.11.0a20251124.tar.gz").unwrap();
        assert_eq!((t.platform, t.group.as_str(), t.tests), (Platform::Windows, "gfx110X-all", true));
        assert_eq!(TarballName::parse("therock-dist-linux-multiarch-7.12.0.dev0+abc123.tar.gz").unwrap().version.channel, Channel::Dev);
        for bad in [
            "therock-dist-linux-gfx94X-dcgpu-7.11.0a20251124.tar.gz.sha256sum",
            "therock-dist-linux-gfx94X-dcgpu-latest.tar.gz",
            "therock-dist-macos-gfx94X-dcgpu-7.11.0a20251124.tar.gz",
            "therock-dist-linux-7.11.0a20251124.tar.gz",
            "therock-dist-linux-gfx94X dcgpu-7.11.0a20251124.tar.gz",
        ] {
            assert!(TarballName::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(tarball_filename(Platform::Linux, "gfx94X-dcgpu", true, "7.11.0a20251124"), "therock-dist-linux-gfx94X-dcgpu-tests-7.11.0a20251124.tar.gz");
    }

    #[test]
    fn latest_is_the_newest_date_then_last_modified_and_never_a_tests_sibling() {
        let listed = vec![
            l("therock-dist-linux-gfx94X-dcgpu-7.11.0a20251124.tar.gz", 300),
            l("therock-dist-linux-gfx94X-dcgpu-7.10.0rc20251125.tar.gz", 100),
            l("therock-dist-linux-gfx94X-dcgpu-7.12.0a20251125.tar.gz", 200),
            l("therock-dist-linux-gfx94X-dcgpu-tests-7.12.0a20251126.tar.gz", 400),
            l("therock-dist-linux-gfx94X-dcgpu-7.13.0.dev0+abcdef.tar.gz", 500),
            l("therock-dist-linux-gfx94X-dcgpu-garbage.tar.gz", 600),
            l("therock-dist-linux-gfx110X-all-7.12.0a20251130.tar.gz", 700),
        ];
        let (hit, name) = latest(&listed, Platform::Linux, "gfx94X-dcgpu").unwrap();
        assert_eq!(name.version.text, "7.12.0a20251125", "same date: the later LastModified wins");
        assert_eq!(hit.last_modified, Some(200));
        assert!(latest(&listed, Platform::Windows, "gfx94X-dcgpu").is_none());
        assert!(latest(&listed, Platform::Linux, "gfx120X-all").is_none());
    }

    #[test]
    fn nothing_found_names_the_newest_version_and_the_groups_there() {
        let listed = vec![
            l("therock-dist-linux-gfx94X-dcgpu-7.12.0a20261102.tar.gz", 1),
            l("therock-dist-linux-gfx94X-dcgpu-7.12.0a20261101.tar.gz", 1),
            l("therock-dist-linux-gfx110X-all-tests-7.12.0a20261102.tar.gz", 1),
            l("therock-dist-linux-gfx1151-7.12.0a20261102.tar.gz", 1),
        ];
        assert_eq!(
            what_is_there(&listed, Platform::Linux, "gfx94X-dcgpu", Channel::Nightly),
            "gfx94X-dcgpu has nightlies up to 7.12.0a20261102; groups with nightlies: gfx1151, gfx94X-dcgpu"
        );
        assert!(what_is_there(&listed, Platform::Linux, "gfx120X-all", Channel::Nightly).starts_with("gfx120X-all has no nightlies for linux; groups"));
        assert!(what_is_there(&[], Platform::Linux, "gfx120X-all", Channel::Dev).ends_with("no group has dev tarballs for linux there"));
        assert!(has_sidecar(&[l("a.tar.gz.sha256sum", 1)], "a.tar.gz"));
    }
}
