//! The archive filename grammar and what a run listing holds for a group.

use super::families::{ArtifactGroup, Scope};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Zst,
    Xz,
    /// Release tarballs (`.tar.gz`); CI archive names never parse to it.
    Gz,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compression::Zst => "zstd",
            Compression::Xz => "xz",
            Compression::Gz => "gzip",
        })
    }
}

/// `{name}_{component}_{target}.tar.{zst|xz}`; `name` and the others never contain `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactName {
    pub filename: String,
    pub name: String,
    pub component: String,
    pub target: String,
    pub compression: Compression,
}

impl ArtifactName {
    /// Parses a bare filename (no `/`); sidecars and other files give `None`.
    pub fn parse(filename: &str) -> Option<Self> {
        if filename.contains('/') {
            return None;
        }
        let (stem, compression) = if let Some(s) = filename.strip_suffix(".tar.zst") {
            (s, Compression::Zst)
        } else if let Some(s) = filename.strip_suffix(".tar.xz") {
            (s, Compression::Xz)
        } else {
            return None;
        };
        let mut parts = stem.split('_');
        let (name, component, target) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || name.is_empty() || component.is_empty() || target.is_empty() {
            return None;
        }
        // Upstream's regex `[^_]+` also excludes '.', which the stem split already guarantees
        // only for the suffix; keep the same strictness for the three fields. Real names use
        // letters, digits and `-+:=@~^` only; anything else (a newline, a space, a backtick) is
        // a key written to deceive whoever prints it, not an artifact.
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-+:=@~^".contains(c);
        if [name, component, target].iter().any(|p| !p.chars().all(allowed)) {
            return None;
        }
        Some(ArtifactName { filename: filename.to_string(), name: name.to_string(), component: component.to_string(), target: target.to_string(), compression })
    }

    /// `{name}_{component}_{target}`: the archive without its compression suffix.
    pub fn stem(&self) -> String {
        format!("{}_{}_{}", self.name, self.component, self.target)
    }

    pub fn is_generic(&self) -> bool {
        self.target == "generic"
    }
}

/// The directory a manifest line's `.prebuilt` marker stands for: its innermost component named
/// `stage` (TheRock's CMake skips a subproject when `{stage_dir}.prebuilt` exists), or the line
/// itself when it has none. `dctools/rdc/stage/portable-rdc` -> `dctools/rdc/stage`.
pub fn prebuilt_stage(line: &str) -> &str {
    let comps: Vec<&str> = line.split('/').collect();
    match comps.iter().rposition(|c| *c == "stage") {
        Some(i) => {
            let len: usize = comps[..=i].iter().map(|c| c.len()).sum::<usize>() + i;
            &line[..len]
        }
        None => line,
    }
}

/// One object of a run listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// The name relative to the run prefix (no further `/`).
    pub filename: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// What a run prefix holds: archives (one per stem, `.tar.zst` preferred) and sidecars.
#[derive(Debug, Clone, Default)]
pub struct RunListing {
    pub archives: Vec<(ArtifactName, u64)>,
    pub sidecars: BTreeMap<String, u64>,
    pub etags: BTreeMap<String, String>,
}

impl RunListing {
    pub fn from_objects(objects: &[ListedObject]) -> Self {
        let mut by_stem: BTreeMap<String, (ArtifactName, u64)> = BTreeMap::new();
        let mut sidecars = BTreeMap::new();
        let mut etags = BTreeMap::new();
        for o in objects {
            if let Some(archive) = o.filename.strip_suffix(".sha256sum") {
                if ArtifactName::parse(archive).is_some() {
                    sidecars.insert(archive.to_string(), o.size);
                }
                continue;
            }
            let Some(a) = ArtifactName::parse(&o.filename) else { continue };
            if let Some(e) = &o.etag {
                etags.insert(o.filename.clone(), e.clone());
            }
            let stem = a.stem();
            match by_stem.get(&stem) {
                Some((prev, _)) if prev.compression <= a.compression => {}
                _ => {
                    by_stem.insert(stem, (a, o.size));
                }
            }
        }
        let mut archives: Vec<_> = by_stem.into_values().collect();
        archives.sort_by(|a, b| a.0.filename.cmp(&b.0.filename));
        RunListing { archives, sidecars, etags }
    }

    /// Archives belonging to a group: generic ones and those whose target is in the group
    /// (`generic`: the generic ones alone; `all`: every one).
    pub fn for_group<'a>(&'a self, group: &ArtifactGroup) -> Vec<&'a (ArtifactName, u64)> {
        self.archives
            .iter()
            .filter(|(a, _)| match group.scope {
                Scope::Generic => a.is_generic(),
                Scope::All => true,
                Scope::Targets => a.is_generic() || group.matches_target(&a.target),
            })
            .collect()
    }

    /// A group is present only when at least one target-specific archive matched (`generic`:
    /// a generic one; `all`: any).
    pub fn has_group(&self, group: &ArtifactGroup) -> bool {
        match group.scope {
            Scope::Generic => self.archives.iter().any(|(a, _)| a.is_generic()),
            Scope::All => !self.archives.is_empty(),
            Scope::Targets => self.archives.iter().any(|(a, _)| !a.is_generic() && group.matches_target(&a.target)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(n: &str) -> ListedObject {
        ListedObject { filename: n.into(), size: 10, etag: None }
    }

    #[test]
    fn grammar() {
        let a = ArtifactName::parse("amd-llvm_lib_generic.tar.zst").unwrap();
        assert_eq!((a.name.as_str(), a.component.as_str(), a.target.as_str()), ("amd-llvm", "lib", "generic"));
        let a = ArtifactName::parse("blas_lib_gfx942:xnack+.tar.zst").unwrap();
        assert_eq!(a.target, "gfx942:xnack+");
        let a = ArtifactName::parse("core-runtime_dev_gfx94X-dcgpu.tar.xz").unwrap();
        assert_eq!(a.compression, Compression::Xz);
        assert_eq!(a.stem(), "core-runtime_dev_gfx94X-dcgpu");
        for bad in [
            "amd_llvm_lib_generic.tar.zst",
            "amd-llvm_lib.tar.zst",
            "amd-llvm_lib_generic.tar.zst.sha256sum",
            "amd-llvm_lib_generic.tar.gz",
            "logs/x_y_z.tar.zst",
            "index.html",
            "__generic.tar.zst",
            "evil\n::warning::pwned_lib_generic.tar.zst",
            "a b_lib_generic.tar.zst",
            "a`b_lib_generic.tar.zst",
        ] {
            assert!(ArtifactName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_prebuilt_marker_stands_for_the_enclosing_stage_directory() {
        assert_eq!(prebuilt_stage("compiler/amd-llvm/stage"), "compiler/amd-llvm/stage");
        assert_eq!(prebuilt_stage("dctools/rdc/stage/portable-rdc"), "dctools/rdc/stage", "TheRock #7549/#7551");
        assert_eq!(prebuilt_stage("a/stage/b/stage/c"), "a/stage/b/stage", "the innermost one");
        assert_eq!(prebuilt_stage("third-party/sysdeps/linux"), "third-party/sysdeps/linux", "no stage: the line itself");
        assert_eq!(prebuilt_stage("backstage/x"), "backstage/x", "a whole component, not a suffix");
    }

    #[test]
    fn listing_prefers_zst_and_keeps_sidecars_apart() {
        let l = RunListing::from_objects(&[
            obj("blas_lib_gfx942.tar.xz"),
            obj("blas_lib_gfx942.tar.zst"),
            obj("blas_lib_gfx942.tar.zst.sha256sum"),
            obj("base_lib_generic.tar.xz"),
            obj("index.html"),
        ]);
        let names: Vec<_> = l.archives.iter().map(|(a, _)| a.filename.as_str()).collect();
        assert_eq!(names, vec!["base_lib_generic.tar.xz", "blas_lib_gfx942.tar.zst"]);
        assert!(l.sidecars.contains_key("blas_lib_gfx942.tar.zst"));
    }

    #[test]
    fn group_presence_needs_a_target_specific_archive() {
        let g = ArtifactGroup::parse("gfx94X-dcgpu").unwrap();
        let generic_only = RunListing::from_objects(&[obj("base_lib_generic.tar.zst")]);
        assert!(!generic_only.has_group(&g));
        assert_eq!(generic_only.for_group(&g).len(), 1);
        let l = RunListing::from_objects(&[obj("base_lib_generic.tar.zst"), obj("blas_lib_gfx942.tar.zst"), obj("blas_lib_gfx1151.tar.zst")]);
        assert!(l.has_group(&g));
        assert_eq!(l.for_group(&g).len(), 2);
        let generic = ArtifactGroup::parse("generic").unwrap();
        assert!(generic_only.has_group(&generic), "`generic` is present with a generic archive");
        assert_eq!(l.for_group(&generic).len(), 1, "and takes the generic archives alone");
        assert_eq!(l.for_group(&ArtifactGroup::all()).len(), 3);
    }
}
