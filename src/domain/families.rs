//! GPU families and artifact groups (TheRock's `cmake/therock_amdgpu_targets.cmake`).

/// Every gfx target TheRock knows; each is also a family of its own.
pub const TARGETS: &[&str] = &[
    "gfx900", "gfx906", "gfx908", "gfx90a", "gfx90c", "gfx942", "gfx950", "gfx1010", "gfx1011", "gfx1012", "gfx1030", "gfx1031", "gfx1032", "gfx1033",
    "gfx1034", "gfx1035", "gfx1036", "gfx1100", "gfx1101", "gfx1102", "gfx1103", "gfx1150", "gfx1151", "gfx1152", "gfx1153", "gfx1200", "gfx1201", "gfx1250",
];

/// Named family bundles, current (August 2026) and January 2026 names.
pub const FAMILIES: &[(&str, &[&str])] = &[
    ("gfx94X-dcgpu", &["gfx942"]),
    ("gfx94X-all", &["gfx942"]),
    ("gfx950-dcgpu", &["gfx950"]),
    ("gfx950-all", &["gfx950"]),
    ("gfx90X-dcgpu", &["gfx906", "gfx908", "gfx90a"]),
    ("gfx90X-all", &["gfx906", "gfx908", "gfx90a"]),
    ("gfx90X-dgpu", &["gfx906"]),
    ("gfx900-dgpu", &["gfx900"]),
    ("gfx90c-igpu", &["gfx90c"]),
    ("gfx906-dgpu", &["gfx906"]),
    ("gfx908-dcgpu", &["gfx908"]),
    ("gfx90a-dcgpu", &["gfx90a"]),
    ("gfx101X-dgpu", &["gfx1010", "gfx1011", "gfx1012"]),
    ("gfx101X-all", &["gfx1010", "gfx1011", "gfx1012"]),
    ("gfx103X-dgpu", &["gfx1030", "gfx1031", "gfx1032", "gfx1034"]),
    ("gfx103X-igpu", &["gfx1033", "gfx1035", "gfx1036"]),
    ("gfx103X-all", &["gfx1030", "gfx1031", "gfx1032", "gfx1033", "gfx1034", "gfx1035", "gfx1036"]),
    ("gfx110X-dgpu", &["gfx1100", "gfx1101", "gfx1102"]),
    ("gfx110X-igpu", &["gfx1103"]),
    ("gfx110X-all", &["gfx1100", "gfx1101", "gfx1102", "gfx1103"]),
    ("gfx115X-igpu", &["gfx1150", "gfx1151", "gfx1152", "gfx1153"]),
    ("gfx115X-all", &["gfx1150", "gfx1151", "gfx1152", "gfx1153"]),
    ("gfx120X-all", &["gfx1200", "gfx1201"]),
    ("gfx125X-dcgpu", &["gfx1250"]),
    ("gfx125X-all", &["gfx1250"]),
    ("dcgpu-all", &["gfx908", "gfx90a", "gfx942", "gfx950", "gfx1250"]),
    (
        "dgpu-all",
        &[
            "gfx900", "gfx906", "gfx1010", "gfx1011", "gfx1012", "gfx1030", "gfx1031", "gfx1032", "gfx1034", "gfx1100", "gfx1101", "gfx1102", "gfx1200",
            "gfx1201",
        ],
    ),
    ("igpu-all", &["gfx90c", "gfx1033", "gfx1035", "gfx1036", "gfx1103", "gfx1150", "gfx1151", "gfx1152", "gfx1153"]),
];

/// Which archives a group takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Generic archives and those of the group's targets; present only with a target-specific one.
    Targets,
    /// `generic`: the target-neutral archives alone.
    Generic,
    /// Every archive of the run (`fetch` without a group, as upstream's `fetch_artifacts.py`).
    All,
}

/// A validated artifact group: a family (or single target), optionally with a variant suffix
/// such as `-asan` that never appears in archive names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactGroup {
    /// As the user wrote it (`gfx94X-dcgpu-asan`).
    pub name: String,
    /// The family part (`gfx94X-dcgpu`), in the table's spelling.
    pub family: String,
    /// The family's gfx targets plus any `--amdgpu-target` extras, lower-case.
    pub targets: Vec<String>,
    pub scope: Scope,
}

fn family_targets(name: &str) -> Option<(String, Vec<String>)> {
    if let Some((fam, targets)) = FAMILIES.iter().find(|(f, _)| f.eq_ignore_ascii_case(name)) {
        return Some((fam.to_string(), targets.iter().map(|t| t.to_string()).collect()));
    }
    let base = name.split(':').next().unwrap_or(name);
    TARGETS.iter().find(|t| t.eq_ignore_ascii_case(base)).map(|t| (name.to_ascii_lowercase(), vec![t.to_string()]))
}

/// Is `t` a gfx target name (known or plausibly new, e.g. `gfx1153`, `gfx942:xnack+`)?
pub fn is_target_syntax(t: &str) -> bool {
    let base = t.split(':').next().unwrap_or(t).to_ascii_lowercase();
    base.len() > 3 && base.starts_with("gfx") && base[3..].chars().all(|c| c.is_ascii_hexdigit())
}

impl ArtifactGroup {
    /// Every archive of the run.
    pub fn all() -> Self {
        ArtifactGroup { name: "all".into(), family: "all".into(), targets: Vec::new(), scope: Scope::All }
    }

    /// The archives of these gfx targets (and the generic ones): `--amdgpu-target` without a
    /// group.
    pub fn of_targets(targets: &[String]) -> Self {
        let targets: Vec<String> = targets.iter().map(|t| t.to_ascii_lowercase()).collect();
        let name = targets.join(",");
        ArtifactGroup { family: name.clone(), name, targets, scope: Scope::Targets }
    }

    /// Parses a group name; unknown families are an error naming the group.
    pub fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("an empty artifact group was given".into());
        }
        if name.eq_ignore_ascii_case("generic") {
            return Ok(ArtifactGroup { name: "generic".into(), family: "generic".into(), targets: Vec::new(), scope: Scope::Generic });
        }
        let parts: Vec<&str> = name.split('-').collect();
        for n in (1..=parts.len()).rev() {
            let candidate = parts[..n].join("-");
            if let Some((family, targets)) = family_targets(&candidate) {
                return Ok(ArtifactGroup { name: name.to_string(), family, targets, scope: Scope::Targets });
            }
        }
        let known: Vec<&str> = FAMILIES.iter().map(|(f, _)| *f).collect();
        Err(format!(
            "unknown artifact group '{name}': expected a GPU family such as {} (optionally with a variant suffix like -asan) or a single gfx target",
            known[..4].join(", ")
        ))
    }

    pub fn add_targets(&mut self, extra: &[String]) {
        for t in extra {
            let t = t.to_ascii_lowercase();
            if !self.targets.contains(&t) {
                self.targets.push(t);
            }
        }
    }

    /// Does an archive's target field (`generic` excluded) belong to this group?
    pub fn matches_target(&self, target: &str) -> bool {
        match self.scope {
            Scope::All => return true,
            Scope::Generic => return false,
            Scope::Targets => {}
        }
        let base = target.split(':').next().unwrap_or(target);
        base.eq_ignore_ascii_case(&self.name) || base.eq_ignore_ascii_case(&self.family) || self.targets.iter().any(|t| t.eq_ignore_ascii_case(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_families_variants_and_targets() {
        let g = ArtifactGroup::parse("gfx94X-dcgpu").unwrap();
        assert_eq!(g.family, "gfx94X-dcgpu");
        assert_eq!(g.targets, vec!["gfx942"]);
        let g = ArtifactGroup::parse("gfx94X-dcgpu-asan").unwrap();
        assert_eq!(g.family, "gfx94X-dcgpu");
        assert_eq!(g.name, "gfx94X-dcgpu-asan");
        let g = ArtifactGroup::parse("gfx1151").unwrap();
        assert_eq!(g.targets, vec!["gfx1151"]);
        let g = ArtifactGroup::parse("gfx110X-all").unwrap();
        assert_eq!(g.targets.len(), 4);
        assert!(ArtifactGroup::parse("gfx90X-dgpu").is_ok(), "January 2026 name");
        let e = ArtifactGroup::parse("gfx999-bogus").unwrap_err();
        assert!(e.contains("gfx999-bogus"), "{e}");
        assert!(ArtifactGroup::parse("").is_err());
        assert!(ArtifactGroup::parse("dcgpu").is_err());
    }

    #[test]
    fn matching_uses_family_group_and_targets() {
        let g = ArtifactGroup::parse("gfx94X-dcgpu-asan").unwrap();
        assert!(g.matches_target("gfx94X-dcgpu"));
        assert!(g.matches_target("GFX942"));
        assert!(g.matches_target("gfx942:xnack+"));
        assert!(g.matches_target("gfx94X-dcgpu-asan"));
        assert!(!g.matches_target("gfx950"));
        assert!(!g.matches_target("gfx1151"));
        let mut g = ArtifactGroup::parse("gfx1151").unwrap();
        g.add_targets(&["gfx1150".into()]);
        assert!(g.matches_target("gfx1150"));
    }

    #[test]
    fn generic_all_and_bare_targets_are_groups_too() {
        let g = ArtifactGroup::parse("generic").unwrap();
        assert_eq!(g.scope, Scope::Generic);
        assert!(!g.matches_target("gfx942"));
        assert!(ArtifactGroup::all().matches_target("gfx1151"));
        let t = ArtifactGroup::of_targets(&["gfx942".into(), "GFX1100".into()]);
        assert_eq!(t.name, "gfx942,gfx1100");
        assert!(t.matches_target("gfx1100") && !t.matches_target("gfx950"));
    }

    #[test]
    fn target_syntax() {
        assert!(is_target_syntax("gfx942:xnack-"));
        assert!(is_target_syntax("gfx1153"));
        assert!(!is_target_syntax("gfx"));
        assert!(!is_target_syntax("sm_90"));
    }
}
