//! What to fetch: the archives of the found groups, deduplicated, filtered and ordered. Pure.

use super::cache::CacheKey;
use crate::config::Pick;
use crate::domain::artifacts::ArtifactName;
use crate::domain::select::{Found, Hit};

/// One archive to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub name: ArtifactName,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub sidecar_key: Option<String>,
    /// A release tarball: no `artifact_manifest.txt`, its whole tree is the payload.
    pub whole: bool,
}

impl Planned {
    /// The archive `a` of a group's hit, with its ETag and (when listed) its sidecar.
    pub fn from_hit(hit: &Hit, a: &ArtifactName, size: u64) -> Planned {
        let prefix = hit.location.prefix();
        Planned {
            name: a.clone(),
            bucket: hit.location.bucket.clone(),
            key: format!("{prefix}{}", a.filename),
            size,
            etag: hit.listing.etags.get(&a.filename).cloned(),
            sidecar_key: hit.listing.sidecars.contains_key(&a.filename).then(|| format!("{prefix}{}.sha256sum", a.filename)),
            whole: false,
        }
    }
    /// What names this object in the cache.
    pub fn cache_key(&self) -> CacheKey<'_> {
        CacheKey { bucket: &self.bucket, key: &self.key, etag: self.etag.as_deref(), size: self.size }
    }
}

/// Archives of the found groups, each filename once, as `pick` picks them; target-neutral archives first,
/// then by name, so target-specific files win where flattening overlaps.
pub fn plan(found: &Found, pick: &Pick) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    for hit in found.slots.iter().filter_map(|s| s.hit.as_ref()) {
        for (a, size) in &hit.archives {
            if out.iter().any(|p| p.name.filename == a.filename) || !pick.keeps(&a.filename) {
                continue;
            }
            out.push(Planned::from_hit(hit, a, *size));
        }
    }
    out.sort_by(|a, b| (!a.name.is_generic(), &a.name.filename).cmp(&(!b.name.is_generic(), &b.name.filename)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExtractMode;
    use crate::domain::artifacts::{ListedObject, RunListing};
    use crate::domain::buckets::{Platform, Repo, RunLocation};
    use crate::domain::families::ArtifactGroup;
    use crate::domain::run::Run;
    use crate::domain::select::Slot;
    use std::sync::Arc;

    fn found(names: &[&str], groups: &[&str]) -> Found {
        let objs: Vec<ListedObject> = names
            .iter()
            .flat_map(|n| {
                [
                    ListedObject { filename: n.to_string(), size: 10, etag: Some(format!("\"{n}\"")) },
                    ListedObject { filename: format!("{n}.sha256sum"), size: 65, etag: None },
                ]
            })
            .collect();
        let listing = Arc::new(RunListing::from_objects(&objs));
        let repo = Repo::parse("ROCm/TheRock").unwrap();
        let run = Run { id: 5, head_sha: "c".into(), ..Run::default() };
        let loc = RunLocation { bucket: "therock-ci-artifacts".into(), external_repo: String::new(), run_id: 5, platform: Platform::Linux };
        let slots = groups
            .iter()
            .map(|g| {
                let g = ArtifactGroup::parse(g).unwrap();
                Slot { hit: Hit::in_listing(&g, &repo, &run, &loc, &listing, &[]), group: g, partial: None }
            })
            .collect();
        Found { repo, workflow: "multi_arch_ci.yml".into(), commit: Some("c".into()), slots, note: None }
    }

    fn names(p: &[Planned]) -> Vec<&str> {
        p.iter().map(|p| p.name.filename.as_str()).collect()
    }

    #[test]
    fn generic_archives_come_first_and_shared_archives_once() {
        let f = found(
            &["blas_lib_gfx942.tar.zst", "base_lib_generic.tar.zst", "blas_lib_gfx1100.tar.zst", "amd-llvm_lib_generic.tar.zst"],
            &["gfx94X-dcgpu", "gfx110X-all"],
        );
        let p = plan(&f, &Pick { include: Vec::new(), exclude: Vec::new(), extract: ExtractMode::Flatten, components: None, only: None, stage: None });
        assert_eq!(names(&p), vec!["amd-llvm_lib_generic.tar.zst", "base_lib_generic.tar.zst", "blas_lib_gfx1100.tar.zst", "blas_lib_gfx942.tar.zst"]);
        assert_eq!(p[3].key, "5-linux/blas_lib_gfx942.tar.zst");
        assert_eq!(p[3].sidecar_key.as_deref(), Some("5-linux/blas_lib_gfx942.tar.zst.sha256sum"));
        assert_eq!(p[3].etag.as_deref(), Some("\"blas_lib_gfx942.tar.zst\""));
    }

    #[test]
    fn include_keeps_and_exclude_drops_by_filename() {
        let f = found(&["blas_lib_gfx942.tar.zst", "base_lib_generic.tar.zst", "amd-llvm_lib_generic.tar.zst"], &["gfx94X-dcgpu"]);
        let only = Pick {
            include: vec![regex::Regex::new("^(amd-llvm|blas)_").unwrap()],
            exclude: vec![regex::Regex::new("^blas_").unwrap()],
            extract: ExtractMode::Flatten,
            components: None,
            only: None,
            stage: None,
        };
        assert_eq!(names(&plan(&f, &only)), vec!["amd-llvm_lib_generic.tar.zst"]);
    }
}
