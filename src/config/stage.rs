//! `--stage` (find, fetch) and `reuse`: the rules that turn their flags into a `StagePick` or
//! `ReuseOptions`, and the platforms a reuse plan is made for. Pure.

use std::path::Path;

use super::error::{ConfigError, Field};
use super::facts::CheckoutFacts;
use super::parse::{err, given, split_list, subject, walk};
use super::raw::{ReuseRaw, StageRaw};
use super::{ReuseOptions, StagePick, Subject, WalkOptions};
use crate::domain::buckets::Platform;

/// The archive components (`{name}_{component}_{target}`).
pub const COMPONENTS: &[&str] = &["lib", "run", "dev", "dbg", "doc", "test"];

/// `--stage` and its narrowing flags; the stage and artifact names are checked against the
/// commit's topology once it is read.
pub(super) fn stage_pick(s: &StageRaw, cache_dir: &Path) -> Result<Option<Box<StagePick>>, ConfigError> {
    let Some(stage) = given(&s.stage) else { return Ok(None) };
    let exclude_components = split_list(&s.exclude_component);
    if let Some(bad) = exclude_components.iter().find(|c| !COMPONENTS.contains(&c.as_str())) {
        return Err(err(Field::ExcludeComponent, format!("unknown component '{bad}': expected one of {}", COMPONENTS.join(", "))));
    }
    Ok(Some(Box::new(StagePick {
        stage: (stage != "all").then_some(stage),
        exclude_components,
        exclude_artifacts: split_list(&s.exclude_artifact),
        cache_dir: cache_dir.to_path_buf(),
    })))
}

/// A `--changed` input: a repository-relative path (or a submodule name), never one that leaves
/// the repository (`../x`, an absolute path).
pub fn changed_input(s: &str) -> Result<String, ConfigError> {
    let t = s.trim();
    let outside = t.starts_with('/') || t.starts_with('\\') || t.as_bytes().get(1) == Some(&b':') || t.split(['/', '\\']).any(|c| c == "..");
    if outside {
        return Err(err(Field::Changed, format!("'{t}' is outside the repository: give paths relative to its root, such as rocm-libraries/projects/rocBLAS")));
    }
    Ok(t.to_string())
}

/// The platforms of a reuse plan, in the order given, once each: `--platform` when given
/// (`explicit`), then `--platforms` (`linux`, `windows` or `both`); neither: `default` alone.
pub fn platforms(list: &[String], explicit: Option<Platform>, default: Platform) -> Result<Vec<Platform>, ConfigError> {
    let mut out: Vec<Platform> = explicit.into_iter().collect();
    for p in split_list(list) {
        let these = match p.to_ascii_lowercase().as_str() {
            "both" => vec![Platform::Linux, Platform::Windows],
            _ => vec![Platform::parse(&p).map_err(|e| err(Field::Platforms, format!("{e} (or both)")))?],
        };
        out.extend(these.into_iter().filter(|t| !out.contains(t)).collect::<Vec<_>>());
    }
    if out.is_empty() {
        out.push(default);
    }
    Ok(out)
}

/// `reuse`: the commit, the walk, `--changed`, and the platforms.
pub(super) fn reuse(
    r: &ReuseRaw,
    checkout: Option<&CheckoutFacts>,
    cache_dir: &Path,
    explicit: Option<Platform>,
    platform: Platform,
) -> Result<ReuseOptions, ConfigError> {
    let changed: Vec<String> = split_list(&r.changed).iter().map(|c| changed_input(c)).collect::<Result<_, _>>()?;
    Ok(ReuseOptions {
        subject: subject(&r.commit, &None, r.walk.pr.as_ref(), checkout)?,
        walk: walk(&r.walk)?,
        changed: (!changed.is_empty()).then_some(changed),
        cache_dir: cache_dir.to_path_buf(),
        platforms: platforms(&r.platforms, explicit, platform)?,
    })
}

/// `fetch --reuse`: the plan of the one platform fetched.
pub(super) fn fetch_reuse(subject: Subject, walk: WalkOptions, cache_dir: &Path, platform: Platform) -> ReuseOptions {
    ReuseOptions { subject, walk, changed: None, cache_dir: cache_dir.to_path_buf(), platforms: vec![platform] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_default_to_the_one_platform_and_keep_the_order_given_once_each() {
        assert_eq!(platforms(&[], None, Platform::Windows).unwrap(), [Platform::Windows]);
        assert_eq!(platforms(&["windows,linux".into()], None, Platform::Linux).unwrap(), [Platform::Windows, Platform::Linux]);
        assert_eq!(platforms(&["windows".into(), "both".into()], Some(Platform::Linux), Platform::Linux).unwrap(), [Platform::Linux, Platform::Windows]);
        assert_eq!(platforms(&["both".into()], None, Platform::Windows).unwrap(), [Platform::Linux, Platform::Windows]);
        let e = platforms(&["macos".into()], None, Platform::Linux).unwrap_err();
        assert!(e.field == Field::Platforms && e.why.contains("macos") && e.why.contains("both"), "{}", e.why);
    }
}
