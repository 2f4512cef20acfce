//! A configuration error names the setting at fault; each front end words it in its own terms
//! (`--artifact-group` on the command line, input `artifact-group` in the action).

use super::raw::Front;

/// A setting a user can get wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Repo,
    Commit,
    RunId,
    Pr,
    ArtifactGroup,
    AmdgpuTarget,
    Platform,
    /// `reuse --platforms` (the action's `platform` with a list).
    Platforms,
    Workflow,
    RequireArtifact,
    Branch,
    BaseBranch,
    MaxCommits,
    MaxAgeHours,
    TherockRepo,
    TherockWorkflow,
    Ref,
    OutputDir,
    Include,
    Pattern,
    Exclude,
    Extract,
    From,
    FromRunId,
    To,
    ToRunId,
    ToPlatform,
    Filter,
    Top,
    ReleaseType,
    Good,
    Bad,
    Program,
    MaxSize,
    MaxAge,
    Release,
    Components,
    Tests,
    Changed,
    ExcludeComponent,
    Bump,
    Submodule,
    Ways,
    Result,
    TherockBranch,
}

impl Field {
    /// The command-line flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Repo => "--repo",
            Field::Commit => "--commit",
            Field::RunId => "--run-id",
            Field::Pr => "--pr",
            Field::ArtifactGroup => "--artifact-group",
            Field::AmdgpuTarget => "--amdgpu-target",
            Field::Platform => "--platform",
            Field::Platforms => "--platforms",
            Field::Workflow => "--workflow",
            Field::RequireArtifact => "--require-artifact",
            Field::Branch => "--branch",
            Field::BaseBranch => "--base-branch",
            Field::MaxCommits => "--max-commits",
            Field::MaxAgeHours => "--max-age-hours",
            Field::TherockRepo => "--therock-repo",
            Field::TherockWorkflow => "--therock-workflow",
            Field::Ref => "--ref",
            Field::OutputDir => "--output-dir",
            Field::Include => "--include",
            Field::Pattern => "--pattern",
            Field::Exclude => "--exclude",
            Field::Extract => "--extract",
            Field::From => "--from",
            Field::FromRunId => "--from-run-id",
            Field::To => "--to",
            Field::ToRunId => "--to-run-id",
            Field::ToPlatform => "--to-platform",
            Field::Filter => "--filter",
            Field::Top => "--top",
            Field::ReleaseType => "RELEASE_TYPE",
            Field::Good => "--good",
            Field::Bad => "--bad",
            Field::Program => "the command after --",
            Field::MaxSize => "--max-size",
            Field::MaxAge => "--max-age",
            Field::Release => "--release",
            Field::Components => "--components",
            Field::Tests => "--tests",
            Field::Changed => "--changed",
            Field::ExcludeComponent => "--exclude-component",
            Field::Bump => "--bump",
            Field::Submodule => "--submodule",
            Field::Ways => "--ways",
            Field::Result => "--result",
            Field::TherockBranch => "--therock-branch",
        }
    }

    /// The action input (`action.yml`), where there is one.
    pub fn input(self) -> Option<&'static str> {
        Some(match self {
            Field::Repo => "repository",
            Field::Commit => "commit",
            Field::RunId => "run-id",
            Field::From => "from",
            Field::FromRunId => "from-run-id",
            Field::ToRunId => "to-run-id",
            Field::Branch => "branch",
            Field::Pr => "pr",
            Field::ArtifactGroup => "artifact-group",
            Field::AmdgpuTarget => "amdgpu-targets",
            Field::Platform | Field::Platforms => "platform",
            Field::Workflow => "workflow",
            Field::BaseBranch => "base-branch",
            Field::MaxCommits => "max-commits",
            Field::MaxAgeHours => "max-age-hours",
            Field::TherockRepo => "therock-repository",
            Field::OutputDir => "output-dir",
            Field::Include => "include",
            Field::Exclude => "exclude",
            Field::Extract => "extract",
            Field::To => "to",
            Field::Release => "release",
            Field::Components => "components",
            Field::Tests => "tests",
            _ => return None,
        })
    }
}

/// A setting that cannot be used, and why (`why` never names the flag or input itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: Field,
    pub why: String,
}

impl ConfigError {
    pub fn new(field: Field, why: impl Into<String>) -> Self {
        ConfigError { field, why: why.into() }
    }

    /// One sentence in the terms of the front end the setting came from.
    pub fn worded(&self, front: Front) -> String {
        match (front, self.field.input()) {
            (Front::Action, Some(input)) => format!("input '{input}': {}", self.why),
            _ => format!("{}: {}", self.field.flag(), self.why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_front_end_names_the_setting_its_own_way() {
        let e = ConfigError::new(Field::ArtifactGroup, "unknown artifact group 'gfx999'");
        assert_eq!(e.worded(Front::Cli), "--artifact-group: unknown artifact group 'gfx999'");
        assert_eq!(e.worded(Front::Action), "input 'artifact-group': unknown artifact group 'gfx999'");
        let e = ConfigError::new(Field::Top, "x");
        assert_eq!(e.worded(Front::Action), "--top: x", "a setting the action lacks keeps its flag name");
    }
}
