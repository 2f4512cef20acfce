//! The rules that turn raw text into typed settings. Pure: the checkout's answers come in
//! `CheckoutFacts`.

use regex::Regex;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Field};
use super::facts::{CheckoutFacts, Facts};
use super::raw::{FetchOptsRaw, FetchRaw, Raw, RawCommand, SelectRaw, WalkRaw};
use super::{Command, CompareOptions, ExecOptions, ExtractMode, FetchOptions, LatestFrom, Pick, Query, Source, Subject, WalkOptions};
use crate::domain::buckets::{Platform, Repo};
use crate::domain::families::{is_target_syntax, ArtifactGroup};
use crate::domain::sha::is_sha_like;

pub(super) fn err(field: Field, why: impl Into<String>) -> ConfigError {
    ConfigError::new(field, why)
}

/// A value given and not blank, trimmed.
pub fn given(o: &Option<String>) -> Option<String> {
    o.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Values that may also be separated by spaces, commas or newlines (the action's input form).
pub(super) fn split_list(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| v.split([' ', ',', '\n', '\t', '\r'])).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn regexes(list: &[String], field: Field) -> Result<Vec<Regex>, ConfigError> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(|s| Regex::new(s).map_err(|e| err(field, regex_why(s, &e)))).collect()
}

/// `--pattern` globs as the regexes `--include` holds: `*` and `?` never cross a `/`, `[...]`
/// classes, `{a,b}` alternatives (globset's syntax). Archive names are ASCII, so globset's
/// byte-mode regex reads the same in Unicode mode.
fn globs(list: &[String]) -> Result<Vec<Regex>, ConfigError> {
    let one = |s: &str| -> Result<Regex, String> {
        let g = globset::GlobBuilder::new(s).literal_separator(true).build().map_err(|e| e.kind().to_string())?;
        let re = g.regex();
        Regex::new(re.strip_prefix("(?-u)").unwrap_or(re)).map_err(|e| e.to_string())
    };
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(|s| one(s).map_err(|why| err(Field::Pattern, format!("invalid glob '{s}': {why}")))).collect()
}

fn regex_why(s: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(&text).trim().to_string();
    format!("invalid regex '{s}': {last}")
}

pub(super) fn number(s: &str, field: Field, what: &str) -> Result<u64, ConfigError> {
    s.trim().parse::<u64>().map_err(|_| err(field, format!("invalid {what} '{}': expected a positive whole number", s.trim())))
}

/// Groups (deduplicated by name), with `--amdgpu-target` extras added to a single group. Without
/// a group: the given targets form one, and `fetch` takes every archive of the run.
pub fn groups(raw_groups: &[String], raw_targets: &[String], everything_allowed: bool) -> Result<Vec<ArtifactGroup>, ConfigError> {
    let names = split_list(raw_groups);
    let targets = split_list(raw_targets);
    if let Some(bad) = targets.iter().find(|t| !is_target_syntax(t)) {
        return Err(err(Field::AmdgpuTarget, format!("invalid amdgpu target '{bad}': expected a gfx target such as gfx942")));
    }
    if names.is_empty() {
        return match (targets.is_empty(), everything_allowed) {
            (false, _) => Ok(vec![ArtifactGroup::of_targets(&targets)]),
            (true, true) => Ok(vec![ArtifactGroup::all()]),
            (true, false) => Err(err(Field::ArtifactGroup, "no artifact group given: name at least one GPU family, e.g. gfx94X-dcgpu")),
        };
    }
    let mut groups: Vec<ArtifactGroup> = Vec::new();
    for n in &names {
        let g = ArtifactGroup::parse(n).map_err(|e| err(Field::ArtifactGroup, e))?;
        if !groups.iter().any(|x| x.name == g.name) {
            groups.push(g);
        }
    }
    if !targets.is_empty() {
        if groups.len() > 1 {
            let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            return Err(err(
                Field::AmdgpuTarget,
                format!("extra targets apply to a single artifact group, but {} were given ({})", groups.len(), names.join(", ")),
            ));
        }
        groups[0].add_targets(&targets);
    }
    Ok(groups)
}

fn workflow(w: &str) -> Result<String, ConfigError> {
    let w = w.trim();
    let w = w.strip_prefix(".github/workflows/").unwrap_or(w);
    if w.is_empty() || w.contains('/') || !(w.ends_with(".yml") || w.ends_with(".yaml")) {
        return Err(err(Field::Workflow, format!("invalid workflow '{w}': expected a workflow file name such as multi_arch_ci.yml")));
    }
    Ok(w.to_string())
}

/// The repository: as given, else the checkout's origin.
pub fn repo(raw: &Raw, facts: &Facts) -> Result<Repo, ConfigError> {
    match given(&raw.common.repo) {
        Some(r) => Repo::parse(&r).map_err(|e| err(Field::Repo, e)),
        // Outside a checkout, upstream's default (`main` says so on stderr: `default_repo_note`).
        None if facts.checkout.is_none() => Ok(Repo { owner: "ROCm".into(), name: "TheRock".into() }),
        None => facts
            .checkout
            .as_ref()
            .and_then(|c| c.origin.clone())
            .ok_or_else(|| err(Field::Repo, "not given, and the current directory is not a git checkout with a GitHub origin remote")),
    }
}

/// The note said when `--repo` fell back on ROCm/TheRock (no `--repo`, no checkout here).
pub fn default_repo_note(raw: &Raw, facts: &Facts) -> Option<&'static str> {
    (given(&raw.common.repo).is_none() && facts.checkout.is_none())
        .then_some("note: no --repo given and no git checkout here: using ROCm/TheRock (upstream's default)")
}

/// The settings every command shares.
pub fn query(raw: &Raw, groups: Vec<ArtifactGroup>, repo: Repo, platform: Platform) -> Result<Query, ConfigError> {
    let workflow_flag = given(&raw.common.workflow).map(|w| workflow(&w)).transpose()?;
    let (required, single_run, successful_run) = match raw.require() {
        Some(f) => {
            let required = f
                .require_artifact
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| Regex::new(s).map(|r| (s.to_string(), r)).map_err(|e| err(Field::RequireArtifact, regex_why(s, &e))))
                .collect::<Result<Vec<_>, _>>()?;
            (required, f.require_single_run, f.require_successful_run)
        }
        None => (Vec::new(), false, false),
    };
    Ok(Query { repo, workflow_flag, platform, groups, required, single_run, successful_run })
}

/// `--platform`, else the host's.
pub fn platform(raw: &Raw, facts: &Facts) -> Result<Platform, ConfigError> {
    match given(&raw.common.platform) {
        Some(p) => Platform::parse(&p).map_err(|e| err(Field::Platform, e)),
        None => Ok(facts.env.host),
    }
}

/// A commit argument: a revision the checkout resolves, else 7 to 40 hex digits.
pub fn commit(s: &str, checkout: Option<&CheckoutFacts>, field: Field) -> Result<Subject, ConfigError> {
    let s = s.trim();
    if let Some(rev) = checkout.and_then(|co| co.revs.get(s)) {
        return Ok(Subject::Commit { sha: rev.sha.clone(), local_only: !rev.pushed });
    }
    if is_sha_like(s) {
        return Ok(Subject::Commit { sha: s.to_ascii_lowercase(), local_only: false });
    }
    Err(err(
        field,
        match checkout {
            Some(_) => format!("{s} is not a revision in this checkout (nor a commit SHA: 7 to 40 hexadecimal digits)"),
            None => {
                format!("'{s}' is not a commit SHA (7 to 40 hexadecimal digits), and no git checkout of the repository is here to resolve it as a revision")
            }
        },
    ))
}

/// The subject of a lookup: a run id, a pull request, a commit, or the checkout's `HEAD`.
pub(super) fn subject(
    commit_raw: &Option<String>,
    run_id: &Option<String>,
    pr: Option<&String>,
    checkout: Option<&CheckoutFacts>,
) -> Result<Subject, ConfigError> {
    if let Some(id) = given(run_id) {
        return Ok(Subject::RunId(number(&id, Field::RunId, "run id")?));
    }
    if let Some(n) = pr.and_then(|p| given(&Some(p.clone()))) {
        return Ok(Subject::Pr(number(n.trim_start_matches('#'), Field::Pr, "pull request number")?));
    }
    if let Some(c) = given(commit_raw) {
        return commit(&c, checkout, Field::Commit);
    }
    match checkout.and_then(|co| co.revs.get("HEAD")) {
        Some(head) => Ok(Subject::Commit { sha: head.sha.clone(), local_only: !head.pushed }),
        None => Err(err(Field::Commit, "not given, and the current directory is not a git checkout of the repository")),
    }
}

/// `subject`, or the ref the action named (`ref`, `branch`, a foreign repository's default
/// branch) when no commit, run or pull request is given.
fn subject_of(
    raw: &Raw,
    commit_raw: &Option<String>,
    run_id: &Option<String>,
    pr: Option<&String>,
    checkout: Option<&CheckoutFacts>,
) -> Result<Subject, ConfigError> {
    let named = given(commit_raw).is_some() || given(run_id).is_some() || pr.is_some_and(|p| !p.trim().is_empty());
    if !named {
        if let Some(r) = given(&raw.common.git_ref) {
            return Ok(Subject::Ref(Some(r)));
        }
        if raw.common.default_branch_head {
            return Ok(Subject::Ref(None));
        }
    }
    subject(commit_raw, run_id, pr, checkout)
}

pub(super) fn max_commits(m: &Option<String>) -> Result<usize, ConfigError> {
    match given(m) {
        Some(m) => {
            let n = number(&m, Field::MaxCommits, "max-commits")?;
            if n == 0 || n > 10_000 {
                return Err(err(Field::MaxCommits, format!("invalid max-commits '{n}': expected 1 to 10000")));
            }
            Ok(n as usize)
        }
        None => Ok(100),
    }
}

pub(super) fn branch(b: &Option<String>, field: Field) -> Result<Option<String>, ConfigError> {
    let b = given(b);
    if let Some(b) = &b {
        if b.contains("..") || b.starts_with('-') || b.contains(char::is_whitespace) {
            return Err(err(field, format!("invalid branch name '{b}'")));
        }
    }
    Ok(b)
}

/// `latest --ref`: a commit SHA (lower-cased) or a branch name.
fn latest_ref(r: &str) -> Result<String, ConfigError> {
    let r = r.trim();
    if crate::domain::sha::is_hex_commitish(&r.to_ascii_lowercase()) && r.len() <= 40 {
        return Ok(r.to_ascii_lowercase());
    }
    branch(&Some(r.to_string()), Field::Ref)?.ok_or_else(|| err(Field::Ref, "empty ref: expected a branch or a commit SHA"))
}

pub(super) fn walk(w: &WalkRaw) -> Result<WalkOptions, ConfigError> {
    let therock_repo = match given(&w.therock_repo) {
        Some(r) => Repo::parse(&r).map_err(|e| err(Field::TherockRepo, e))?,
        None => Repo { owner: "ROCm".into(), name: "TheRock".into() },
    };
    let max_age_hours = match given(&w.max_age_hours) {
        Some(h) => Some(number(&h, Field::MaxAgeHours, "max-age-hours")?).filter(|h| *h > 0),
        None => None,
    };
    let therock_workflow = given(&w.therock_workflow).map(|w| workflow(&w).map_err(|e| err(Field::TherockWorkflow, e.why))).transpose()?;
    Ok(WalkOptions {
        base_branch: branch(&w.base_branch, Field::BaseBranch)?,
        max_commits: max_commits(&w.max_commits)?,
        therock_repo,
        therock_workflow,
        max_age_hours,
    })
}

pub(super) fn pick(o: &SelectRaw) -> Result<Pick, ConfigError> {
    Ok(Pick {
        include: regexes(&o.include, Field::Include)?.into_iter().chain(globs(&o.pattern)?).collect(),
        exclude: regexes(&o.exclude, Field::Exclude)?,
        extract: match given(&o.extract) {
            Some(e) => ExtractMode::parse(&e).map_err(|m| err(Field::Extract, m))?,
            None => ExtractMode::Flatten,
        },
        components: None,
        only: None,
        stage: None,
    })
}

pub(super) fn fetch_options(o: &FetchOptsRaw, output_dir: &Option<String>, cache_dir: &Path) -> Result<FetchOptions, ConfigError> {
    // A dry run writes nothing: it needs no output directory (an empty path stands for none).
    let out = match given(output_dir) {
        Some(d) => d,
        None if o.dry_run => String::new(),
        None => return Err(err(Field::OutputDir, "fetch needs an output directory")),
    };
    let mut pick = pick(&o.select)?;
    pick.stage = super::stage::stage_pick(&o.stage, cache_dir)?;
    Ok(FetchOptions {
        pick,
        output_dir: PathBuf::from(out),
        verify: !o.no_verify,
        dry_run: o.dry_run,
        cache_dir: (!o.no_cache).then(|| cache_dir.to_path_buf()),
        force: o.force,
        mixing: crate::domain::mixing::Mixing::from_flags(o.clean, o.merge).map_err(|e| err(Field::OutputDir, e))?,
    })
}

/// `contains --commit SHA [--therock-branch B]` (the commit: the checkout's HEAD by default).
fn contains(c: &super::raw::ContainsRaw, checkout: Option<&CheckoutFacts>) -> Result<super::ContainsOptions, ConfigError> {
    let commit = match subject(&c.commit, &None, None, checkout)? {
        Subject::Commit { sha, .. } => sha,
        _ => return Err(err(Field::Commit, "expected a commit")),
    };
    let therock_branch = branch(&c.therock_branch, Field::TherockBranch)?.unwrap_or_else(|| "main".into());
    Ok(super::ContainsOptions { commit, therock_branch })
}

pub(super) fn program(cmd: &[String]) -> Result<Vec<String>, ConfigError> {
    if cmd.first().is_none_or(|c| c.trim().is_empty()) {
        return Err(err(Field::Program, "no command given after --"));
    }
    Ok(cmd.to_vec())
}

/// `fetch`: the commit (or its baseline, or a reuse plan's archives) and how to lay them out.
fn fetch(raw: &Raw, f: &FetchRaw, checkout: Option<&CheckoutFacts>, cache_dir: &Path, platform: Platform) -> Result<Command, ConfigError> {
    let subject = subject_of(raw, &f.commit, &f.run_id, f.walk.pr.as_ref(), checkout)?;
    let walk = walk(&f.walk)?;
    let mut options = fetch_options(&f.fetch, &f.output_dir, cache_dir)?;
    options.pick.components = super::release::components(&f.fetch, f.release.tests)?;
    let source = if f.reuse {
        if given(&f.fetch.select.extract).is_none() {
            options.pick.extract = ExtractMode::Bootstrap;
        }
        Source::Reuse(Box::new(super::stage::fetch_reuse(subject, walk, cache_dir, platform)))
    } else if f.baseline {
        Source::Baseline(subject, walk)
    } else {
        Source::Find(subject)
    };
    Ok(Command::Fetch(source, options))
}

/// The command and its options.
pub fn command(raw: &Raw, checkout: Option<&CheckoutFacts>, cache_dir: &Path, platform: Platform) -> Result<Command, ConfigError> {
    Ok(match &raw.command {
        RawCommand::Find(f) => {
            let subject = subject_of(raw, &f.commit, &f.run_id, None, checkout)?;
            match super::stage::stage_pick(&f.stage, cache_dir)? {
                Some(s) => Command::FindStage(subject, s),
                None => Command::Find(subject),
            }
        }
        RawCommand::Latest(l) => {
            branch(&l.branch, Field::Branch)?;
            let from = match (given(&l.git_ref), given(&l.run_id)) {
                (_, Some(id)) => LatestFrom::Run(number(&id, Field::RunId, "run id")?),
                (Some(r), None) => LatestFrom::Ref(latest_ref(&r)?),
                (None, None) => LatestFrom::Branch,
            };
            Command::Latest { branch: given(&l.branch), max_commits: max_commits(&l.max_commits)?, from }
        }
        RawCommand::Baseline(b) => Command::Baseline(subject_of(raw, &b.commit, &b.run_id, b.walk.pr.as_ref(), checkout)?, walk(&b.walk)?),
        RawCommand::Fetch(f) => fetch(raw, f, checkout, cache_dir, platform)?,
        RawCommand::Bisect(b) => Command::Bisect(Box::new(super::bisect::bisect(b, checkout, cache_dir)?)),
        RawCommand::Reuse(r) => Command::Reuse(Box::new(super::stage::reuse(r, checkout, cache_dir, given(&raw.common.platform).map(|_| platform), platform)?)),
        RawCommand::Contains(c) => Command::Contains(contains(c, checkout)?),
        RawCommand::Exec(e) => Command::Exec(Box::new(ExecOptions {
            subject: subject(&e.commit, &None, None, checkout)?,
            overlay: e.overlay,
            pick: pick(&e.select)?,
            workdir: given(&e.workdir).map(PathBuf::from),
            keep: e.keep,
            command: program(&e.command)?,
            cache_dir: cache_dir.to_path_buf(),
        })),
        RawCommand::Compare(c) => {
            let from = match (given(&c.from_run_id), given(&c.from), checkout.and_then(|co| co.revs.get("HEAD"))) {
                (Some(id), _, _) => Subject::RunId(number(&id, Field::FromRunId, "run id")?),
                (None, Some(s), _) => commit(&s, checkout, Field::From)?,
                (None, None, Some(head)) => Subject::Commit { sha: head.sha.clone(), local_only: !head.pushed },
                (None, None, None) => return Err(err(Field::From, "compare needs --from (or --from-run-id)")),
            };
            let to = match (given(&c.to_run_id), given(&c.to)) {
                (Some(id), _) => Subject::RunId(number(&id, Field::ToRunId, "run id")?),
                (None, Some(s)) => commit(&s, checkout, Field::To)?,
                (None, None) => return Err(err(Field::To, "compare needs --to (or --to-run-id)")),
            };
            let to_platform = given(&c.to_platform).map(|p| Platform::parse(&p).map_err(|e| err(Field::ToPlatform, e))).transpose()?;
            if let Some(tp) = to_platform {
                if tp != platform {
                    return Err(err(Field::ToPlatform, format!("cannot compare {platform} artifacts with {tp} artifacts: both sides must be of one platform")));
                }
            }
            let options = CompareOptions {
                deep: c.deep,
                filter: regexes(&c.filter, Field::Filter)?,
                top: match given(&c.top) {
                    Some(t) => number(&t, Field::Top, "top")? as usize,
                    None => 20,
                },
                top_given: given(&c.top).map(|t| number(&t, Field::Top, "top")).transpose()?.map(|n| n as usize),
                all: c.all,
                cache_dir: cache_dir.to_path_buf(),
            };
            Command::Compare { from, to, options }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::raw::{Common, FetchRaw, FindRaw};
    use super::super::Config;
    use super::*;

    fn raw(command: RawCommand) -> Raw {
        Raw { common: Common { repo: Some("ROCm/TheRock".into()), artifact_group: vec!["gfx94X-dcgpu".into()], ..Common::default() }, command, token: None }
    }

    fn find(commit: &str) -> Raw {
        raw(RawCommand::Find(FindRaw { commit: Some(commit.into()), ..FindRaw::default() }))
    }

    fn build(r: Raw) -> Result<Config, ConfigError> {
        Config::build(r, Facts::bare())
    }

    #[test]
    fn defaults_follow_the_repository() {
        let c = build(find(&"a".repeat(40))).unwrap();
        assert_eq!(c.query.workflow_for(&c.query.repo), "multi_arch_ci.yml");
        let mut r = find(&"a".repeat(40));
        r.common.repo = Some("ROCm/rocm-libraries".into());
        let c = build(r).unwrap();
        assert_eq!(c.query.workflow_for(&c.query.repo), "therock-ci.yml");
    }

    #[test]
    fn a_commit_is_7_to_40_hex_digits_unless_the_checkout_resolves_it() {
        let e = build(find("xyz")).unwrap_err();
        assert_eq!(e.field, Field::Commit);
        assert!(e.why.contains("'xyz'"));
        assert!(build(find("abc123")).is_err(), "6 digits is too short to be a commit");
        assert!(matches!(build(find("ABCDEF0")).unwrap().command, Command::Find(Subject::Commit { ref sha, .. }) if sha == "abcdef0"));
    }

    #[test]
    fn groups_split_on_spaces_and_commas_and_targets_need_a_single_group() {
        let mut r = find(&"a".repeat(40));
        r.common.artifact_group = vec!["gfx94X-dcgpu gfx110X-all,gfx94X-dcgpu".into()];
        assert_eq!(build(r.clone()).unwrap().query.groups.len(), 2, "duplicates dropped");
        r.common.amdgpu_target = vec!["gfx1100".into()];
        let e = build(r).unwrap_err();
        assert_eq!(e.field, Field::AmdgpuTarget);
        assert!(e.why.contains("single artifact group"));
        let mut r = find(&"a".repeat(40));
        r.common.artifact_group = vec![" ".into()];
        assert_eq!(build(r).unwrap_err().field, Field::ArtifactGroup);
    }

    #[test]
    fn globs_read_as_gh_reads_them_and_add_to_include() {
        let p = pick(&SelectRaw { pattern: vec!["blas_*_gfx94*".into(), "base_lib_{generic,gfx942}.tar.?st".into()], ..SelectRaw::default() }).unwrap();
        assert!(p.keeps("blas_lib_gfx942.tar.zst"));
        assert!(p.keeps("base_lib_generic.tar.zst"));
        assert!(!p.keeps("blas_lib_gfx1100.tar.zst"));
        assert!(!p.keeps("xblas_lib_gfx942.tar.zst"), "a glob matches the whole name");
        let e = pick(&SelectRaw { pattern: vec!["blas_[".into()], ..SelectRaw::default() }).unwrap_err();
        assert_eq!(e.field, Field::Pattern);
        assert!(e.why.contains("'blas_['"), "{}", e.why);
    }

    #[test]
    fn regexes_workflows_and_extract_modes_are_checked_up_front() {
        let mut r = find(&"a".repeat(40));
        if let RawCommand::Find(f) = &mut r.command {
            f.require.require_artifact = vec!["(".into()];
        }
        let e = build(r).unwrap_err();
        assert_eq!(e.field, Field::RequireArtifact);
        assert!(e.why.contains("'('"));
        let mut r = find(&"a".repeat(40));
        r.common.workflow = Some("../x".into());
        assert_eq!(build(r).unwrap_err().field, Field::Workflow);
        let f = FetchRaw { commit: Some("a".repeat(40)), output_dir: Some("out".into()), ..FetchRaw::default() };
        let mut r = raw(RawCommand::Fetch(f));
        if let RawCommand::Fetch(f) = &mut r.command {
            f.fetch.select.extract = Some("explode".into());
        }
        let e = build(r).unwrap_err();
        assert_eq!(e.field, Field::Extract);
        assert!(e.why.contains("explode"));
    }

    #[test]
    fn a_checkout_answers_for_local_names_and_marks_unpushed_commits() {
        let mut facts = Facts::bare();
        let mut revs = std::collections::BTreeMap::new();
        revs.insert("HEAD".to_string(), super::super::facts::LocalRev { sha: "b".repeat(40), pushed: false });
        facts.checkout = Some(CheckoutFacts {
            checkout: crate::sources::git::Checkout { dir: PathBuf::from("/nonexistent") },
            origin: Some(Repo::parse("me/TheRock").unwrap()),
            revs,
        });
        let mut r = raw(RawCommand::Find(FindRaw::default()));
        r.common.repo = None;
        let c = Config::build(r, facts).unwrap();
        assert_eq!(c.query.repo.full(), "me/TheRock", "the origin remote names the repository");
        assert!(matches!(c.command, Command::Find(Subject::Commit { local_only: true, .. })));
        let e = build(raw(RawCommand::Find(FindRaw::default()))).unwrap_err();
        assert_eq!(e.field, Field::Commit, "without a checkout a commit must be given");
    }
}
