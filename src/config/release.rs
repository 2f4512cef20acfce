//! `find --release` / `fetch --release` and `fetch --components`: the rules that turn their
//! flags into a `ReleaseOptions` or a `Pick`'s component set. Pure.

use std::collections::BTreeSet;

use super::error::{ConfigError, Field};
use super::facts::Facts;
use super::parse::{err, fetch_options, given, split_list};
use super::raw::{FetchOptsRaw, Raw, RawCommand, ReleaseRaw};
use super::{Command, ExtractMode, ReleaseOptions};
use crate::domain::release::Wanted;

/// `--components` (with `--tests`): the pairs to keep, or `None` for every archive.
pub(super) fn components(o: &FetchOptsRaw, tests: bool) -> Result<Option<BTreeSet<String>>, ConfigError> {
    let names = split_list(&o.components);
    if names.is_empty() {
        if tests {
            return Err(err(
                Field::Tests,
                "applies to --release (the -tests tarball) or --components (each set's test archives); a fetch of a run takes every archive without either",
            ));
        }
        return Ok(None);
    }
    crate::domain::components::pairs(&names, tests).map(Some).map_err(|e| err(Field::Components, e))
}

/// `find --release` / `fetch --release`: one group (a family or `multiarch`), a version or
/// `latest`, and for a fetch the layouts a tarball without a manifest can take.
pub fn release(raw: &Raw, r: &ReleaseRaw, facts: &Facts) -> Result<Command, ConfigError> {
    let wanted = Wanted::parse(&given(&r.release).unwrap_or_default()).map_err(|e| err(Field::Release, e))?;
    let run_given = |c: &Option<String>, id: &Option<String>| given(c).is_some() || given(id).is_some();
    let fetch = match &raw.command {
        RawCommand::Find(f) if run_given(&f.commit, &f.run_id) => {
            return Err(err(Field::Release, "names a release tarball: it cannot be combined with a commit or a run id"))
        }
        RawCommand::Fetch(f) if run_given(&f.commit, &f.run_id) || f.baseline || given(&f.walk.pr).is_some() => {
            return Err(err(Field::Release, "names a release tarball: it cannot be combined with a commit, a run id, a pull request or --baseline"))
        }
        RawCommand::Fetch(f) if !split_list(&f.fetch.components).is_empty() => {
            return Err(err(Field::Components, "picks archives of a CI run; a release tarball is one whole install (drop --release, or --components)"))
        }
        RawCommand::Fetch(f) => Some(fetch_options(&f.fetch, &f.output_dir, &facts.env.cache_dir)?),
        _ => None,
    };
    if fetch.as_ref().is_some_and(|f| !f.pick.include.is_empty() || !f.pick.exclude.is_empty()) {
        return Err(err(Field::Include, "picks archives of a CI run, as --exclude does; a release tarball is one whole install"));
    }
    if let Some(mode @ (ExtractMode::PerArtifact | ExtractMode::Bootstrap)) = fetch.as_ref().map(|f| f.pick.extract) {
        return Err(err(
            Field::Extract,
            format!(
                "'{}' needs the artifact_manifest.txt of CI archives, which a release tarball lacks: use flatten (its tree into the output) or archives",
                mode.as_str()
            ),
        ));
    }
    if !raw.common.amdgpu_target.is_empty() {
        return Err(err(Field::AmdgpuTarget, "does not apply to a release tarball: its group names its targets"));
    }
    let groups = split_list(&raw.common.artifact_group);
    let key_safe = |g: &str| !g.is_empty() && g.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let group = match groups.as_slice() {
        [g] if key_safe(g) => g.clone(),
        [g] => return Err(err(Field::ArtifactGroup, format!("invalid release group '{g}': expected a GPU family such as gfx94X-dcgpu, or multiarch"))),
        [] => return Err(err(Field::ArtifactGroup, "a release tarball needs its group: a GPU family such as gfx94X-dcgpu, or multiarch")),
        many => return Err(err(Field::ArtifactGroup, format!("a release tarball is of one group, but {} were given ({})", many.len(), many.join(", ")))),
    };
    let prefix = match facts.env.release_prefix.as_deref().map(|p| p.trim().trim_matches('/')) {
        Some("") => String::new(),
        Some(p) => format!("{p}/"),
        None => crate::domain::release::DEFAULT_PREFIX.to_string(),
    };
    Ok(Command::Release(Box::new(ReleaseOptions { wanted, group, tests: r.tests, prefix, fetch })))
}

#[cfg(test)]
mod tests {
    use super::super::raw::{Common, FetchRaw, FindRaw};
    use super::super::Config;
    use super::*;

    fn raw(command: RawCommand) -> Raw {
        Raw { common: Common { repo: Some("ROCm/TheRock".into()), artifact_group: vec!["gfx94X-dcgpu".into()], ..Common::default() }, command, token: None }
    }

    fn build(r: Raw) -> Result<Config, ConfigError> {
        Config::build(r, Facts::bare())
    }

    fn release_find(version: &str, group: &str) -> Raw {
        let mut r = raw(RawCommand::Find(FindRaw { release: ReleaseRaw { release: Some(version.into()), tests: false }, ..FindRaw::default() }));
        r.common.repo = None;
        r.common.artifact_group = vec![group.into()];
        r
    }

    #[test]
    fn a_release_needs_no_repository_takes_multiarch_and_refuses_a_commit_beside_it() {
        let c = build(release_find("latest", "multiarch")).unwrap();
        let Command::Release(o) = &c.command else { panic!("{:?}", c.command) };
        assert_eq!((o.group.as_str(), o.prefix.as_str(), o.fetch.is_none()), ("multiarch", "v4/tarball/", true));
        assert_eq!(c.query.repo.full(), "ROCm/TheRock");
        let mut r = release_find("latest", "gfx94X-dcgpu");
        if let RawCommand::Find(f) = &mut r.command {
            f.commit = Some("a".repeat(40));
        }
        assert_eq!(build(r).unwrap_err().field, Field::Release);
        assert_eq!(build(release_find("7.1", "gfx94X-dcgpu")).unwrap_err().field, Field::Release);
        assert_eq!(build(release_find("latest", "gfx94X-dcgpu gfx110X-all")).unwrap_err().field, Field::ArtifactGroup);
        assert_eq!(build(release_find("latest", "../x")).unwrap_err().field, Field::ArtifactGroup);
    }

    #[test]
    fn the_release_prefix_is_one_directory_ending_in_a_slash() {
        let mut facts = Facts::bare();
        facts.env.release_prefix = Some("/v5/rocm/core/tarball".into());
        let c = Config::build(release_find("latest", "gfx94X-dcgpu"), facts).unwrap();
        let Command::Release(o) = &c.command else { panic!() };
        assert_eq!(o.prefix, "v5/rocm/core/tarball/");
    }

    #[test]
    fn tests_without_release_or_components_is_refused() {
        let f = FetchRaw { commit: Some("a".repeat(40)), output_dir: Some("out".into()), ..FetchRaw::default() };
        let mut r = raw(RawCommand::Fetch(f));
        if let RawCommand::Fetch(f) = &mut r.command {
            f.release.tests = true;
        }
        assert_eq!(build(r.clone()).unwrap_err().field, Field::Tests);
        if let RawCommand::Fetch(f) = &mut r.command {
            f.fetch.components = vec!["base,blas".into()];
        }
        let Command::Fetch(_, o) = build(r).unwrap().command else { panic!() };
        let set = o.pick.components.unwrap();
        assert!(set.contains("blas_test") && set.contains("core-kpack_lib"));
    }
}
