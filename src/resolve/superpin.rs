//! The TheRock commit a super-repo commit builds against (therock-facts.md §5): the pin of the
//! workflow whose runs are (or would be) used, read at the commit; a ref resolved at run time,
//! or a release branch, turned into the TheRock commit it stood for then; the bot's hint judged.

use super::error::Missing;
use super::{OrMissing, ResolveError, Resolver, RUNS_PER_COMMIT};
use crate::domain::buckets::Repo;
use crate::domain::pins::{self, PinRead, CI_ENV, LEGACY_SOURCES, PIN_SOURCES};
use crate::domain::pins_multiarch::{self as multi, SuperPin, LIBRARIES_MULTI_ARCH, SYSTEMS_REF_JSON, SYSTEMS_WRAPPERS};
use crate::domain::run::Run;
use crate::domain::time::format_rfc3339;
use crate::domain::workflows::{self as wf, HintVerdict, PinChain, TheRockRef, TimeBasis};
use crate::sources::git::Checkout;
use crate::sources::github::GhError;

/// A pin resolved by time: TheRock's `branch` at the time basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedByTime {
    pub branch: String,
    pub basis: TimeBasis,
}

/// A pinned TheRock commit and where it was read.
#[derive(Debug, Clone, Default)]
pub(super) struct Pin {
    pub sha: String,
    pub path: String,
    pub line: Option<usize>,
    pub hint: Option<u64>,
    /// The super-repo workflow whose pin this is.
    pub workflow: Option<&'static str>,
    pub by_time: Option<ResolvedByTime>,
    pub warnings: Vec<String>,
    pub hint_verdict: Option<HintVerdict>,
}

/// What is asked: the commit, and what says which branch it is built on.
pub(super) struct Ask<'s> {
    pub sha: &'s str,
    pub local_only: bool,
    /// The base branch of `--pr` (the subject was a pull request).
    pub pr_base: Option<&'s str>,
    pub base_flag: Option<&'s str>,
    pub therock: &'s Repo,
}

/// The pin, and the commit's runs in the order they answer (`None`: not listed).
pub(super) struct SuperRead {
    pub pin: Pin,
    pub runs: Option<Vec<Run>>,
}

/// Every workflow's runs of a super-repo commit from one repository-wide listing; `None` when
/// GitHub has no such listing (the caller falls back to one workflow's listing).
pub(super) async fn commit_runs(r: &Resolver<'_>, repo: &Repo, sha: &str) -> Result<Option<Vec<Run>>, ResolveError> {
    match r.runs.runs_of_commit(repo, sha, RUNS_PER_COMMIT).await {
        Ok(runs) => Ok(Some(runs)),
        Err(GhError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads files at the commit: from the checkout when it has the commit, else the API.
struct Files<'r, 'a> {
    r: &'r Resolver<'a>,
    repo: &'r Repo,
    sha: &'r str,
    local: Option<&'r Checkout>,
    local_only: bool,
}

impl Files<'_, '_> {
    async fn get(&self, path: &str) -> Result<Option<String>, ResolveError> {
        Ok(match self.local {
            Some(co) => co.show(self.sha, path).await,
            None if self.local_only => None,
            None => self.r.runs.file_at(self.repo, path, self.sha).await?,
        })
    }
}

pub(super) async fn read_super_pin(r: &Resolver<'_>, repo: &Repo, ask: &Ask<'_>) -> Result<SuperRead, ResolveError> {
    let runs = if ask.local_only { None } else { commit_runs(r, repo, ask.sha).await? };
    let local = match r.checkout {
        Some(co) if co.has_object(ask.sha).await => Some(co),
        _ => None,
    };
    let files = Files { r, repo, sha: ask.sha, local, local_only: ask.local_only };
    let ordered: Vec<&Run> = runs.as_deref().map(|rs| wf::candidate_order(rs, wf::workflow_files(repo), r.q.workflow_flag.as_deref())).unwrap_or_default();
    let answering = ordered.first().and_then(|run| run.workflow_file());
    let mut multi_text = None;
    let chain = match wf::pin_chain(r.q.workflow_flag.as_deref(), answering.as_deref()) {
        Some(c) => c,
        // No listing at all: read the pins as the tool always did.
        None if runs.is_none() && !ask.local_only => PinChain::AnyFile,
        None => {
            multi_text = files.get(LIBRARIES_MULTI_ARCH).await?;
            if multi_text.is_some() {
                PinChain::MultiArch
            } else {
                PinChain::AnyFile
            }
        }
    };
    let mut pin = match chain {
        PinChain::MultiArch => multi_arch_pin(r, repo, ask, &files, multi_text).await?,
        PinChain::Legacy => file_chain(repo, ask.sha, &files, LEGACY_SOURCES).await?,
        PinChain::AnyFile => file_chain(repo, ask.sha, &files, PIN_SOURCES).await?,
    };
    if pin.workflow.is_none() {
        pin.workflow = chain.workflow();
    }
    if chain != PinChain::MultiArch {
        let local_branch = match local {
            Some(co) => co.branch_at(ask.sha).await,
            None => None,
        };
        let branch = wf::super_branch(ask.pr_base, ask.base_flag, local_branch.as_deref(), &ordered).map(|(b, _)| b);
        if let TheRockRef::ReleaseBranch(b) = wf::therock_ref_for(repo, wf::LEGACY, branch.as_deref()) {
            let (sha, by) = at_time(r, repo, ask, &files, &b, false).await?;
            pin.sha = sha;
            pin.by_time = Some(by);
        }
    }
    if let Some(id) = pin.hint {
        let run = r.runs.run(ask.therock, id).await;
        let head = run.as_ref().map(|run| run.head_sha.as_str()).map_err(|e| e.to_string());
        pin.hint_verdict = Some(wf::judge_hint(id, head, &pin.sha));
    }
    for w in &pin.warnings {
        crate::say!("warning: {w}");
    }
    if let Some(t) = &pin.by_time {
        crate::say!("note: the TheRock pin of {repo} at {} was resolved by time: {} {} at {}", ask.sha, ask.therock, t.branch, t.basis.what());
    }
    Ok(SuperRead { pin, runs })
}

/// The multi-arch CI's pin: rocm-systems' `therock_ref.json` and wrappers, else the workflow
/// file itself (rocm-libraries). ci-env is read for the bot's hint only.
async fn multi_arch_pin(r: &Resolver<'_>, repo: &Repo, ask: &Ask<'_>, files: &Files<'_, '_>, text: Option<String>) -> Result<Pin, ResolveError> {
    let read = if repo.name.eq_ignore_ascii_case("rocm-systems") {
        let json = files.get(SYSTEMS_REF_JSON).await?;
        let json_pins = json.as_deref().is_some_and(|j| matches!(multi::read_ref_json(j), SuperPin::Pin { .. }));
        // A pin in the JSON file: only the setup wrapper (what resolved the run) is checked against it.
        let wanted = if json_pins { &SYSTEMS_WRAPPERS[..1] } else { SYSTEMS_WRAPPERS };
        let mut wrappers = Vec::new();
        for w in wanted {
            wrappers.push((*w, files.get(w).await?));
        }
        let refs: Vec<(&str, Option<&str>)> = wrappers.iter().map(|(w, t)| (*w, t.as_deref())).collect();
        multi::read_systems_multi_arch(json.as_deref(), &refs)
    } else {
        let text = match text {
            Some(t) => Some(t),
            None => files.get(LIBRARIES_MULTI_ARCH).await?,
        };
        let Some(text) = text else {
            let mut pin = file_chain(repo, ask.sha, files, PIN_SOURCES).await?;
            pin.warnings.push(format!("{LIBRARIES_MULTI_ARCH} is not in {repo} at {}; read the pin files instead", ask.sha));
            return Ok(pin);
        };
        multi::read_multi_arch_workflow(LIBRARIES_MULTI_ARCH, &text)
    };
    let hint = match files.get(CI_ENV).await? {
        Some(t) => match pins::parse_source(CI_ENV, &t) {
            Ok(PinRead::Pin { baseline_run_id, .. }) => baseline_run_id,
            _ => None,
        },
        None => None,
    };
    let mut pin = Pin { hint, workflow: Some(wf::MULTI_ARCH), warnings: read.warnings, ..Pin::default() };
    match read.read {
        SuperPin::Pin { sha, at } => {
            (pin.sha, pin.path, pin.line) = (sha, at.file, Some(at.line));
        }
        SuperPin::AtRunTime { branch, at, .. } => {
            let (sha, by) = at_time(r, repo, ask, files, &branch, true).await?;
            (pin.sha, pin.path, pin.line, pin.by_time) = (sha, at.file, Some(at.line), Some(by));
        }
        SuperPin::NoPin(why) | SuperPin::Invalid(why) => return Err(ResolveError::MultiArchPin { repo: repo.clone(), sha: ask.sha.to_string(), why }),
    }
    Ok(pin)
}

/// The first pin found in `sources` (ci-env, the checkout steps, ...).
async fn file_chain(repo: &Repo, sha: &str, files: &Files<'_, '_>, sources: &[&'static str]) -> Result<Pin, ResolveError> {
    let mut notes = Vec::new();
    for path in sources {
        let Some(text) = files.get(path).await? else {
            notes.push(format!("{path}: not present"));
            continue;
        };
        match pins::parse_source(path, &text) {
            Ok(PinRead::Pin { sha: pin, baseline_run_id }) => {
                let line = pins::pin_line(&text, pin.as_str());
                return Ok(Pin { sha: pin.into(), path: path.to_string(), line, hint: baseline_run_id, ..Pin::default() });
            }
            Ok(PinRead::NoPin(why)) => notes.push(format!("{path}: {why}")),
            Ok(PinRead::Invalid(why)) => return Err(ResolveError::InvalidPin { repo: repo.clone(), sha: sha.to_string(), path, why }),
            Err(e) => notes.push(format!("{path}: {e}")),
        }
    }
    Err(ResolveError::NoPin { repo: repo.clone(), sha: sha.to_string(), notes })
}

/// TheRock's `branch` as it was at the time basis: the merge base's committer time for a pull
/// request (`merge_base`: rocm-libraries' `resolve_therock_ref.py`), else the commit's own.
async fn at_time(
    r: &Resolver<'_>,
    repo: &Repo,
    ask: &Ask<'_>,
    files: &Files<'_, '_>,
    branch: &str,
    merge_base: bool,
) -> Result<(String, ResolvedByTime), ResolveError> {
    let dated = |c: &crate::domain::run::Commit| c.date.map(|d| (c.sha.clone(), format_rfc3339(d)));
    let basis = match ask.pr_base.filter(|_| merge_base && !ask.local_only) {
        Some(base) => {
            let mb = r.runs.merge_base(repo, base, ask.sha).await.or_missing(|| Missing::BaseBranch { repo: repo.clone(), branch: base.to_string() })?;
            dated(&mb).map(|(sha, at)| TimeBasis::MergeBase { sha, at })
        }
        None => {
            let local = match files.local {
                Some(co) => co.first_parent_commits(ask.sha, 1).await.and_then(|l| l.first().and_then(dated)),
                None => None,
            };
            let c = match local {
                Some(c) => Some(c),
                None if ask.local_only => None,
                None => dated(&r.runs.commit(repo, ask.sha).await.or_missing(|| Missing::Commit { repo: repo.clone(), sha: ask.sha.to_string() })?),
            };
            c.map(|(sha, at)| TimeBasis::Commit { sha, at })
        }
    };
    let no = |why: String| ResolveError::AtTime { therock: ask.therock.clone(), branch: branch.to_string(), why };
    let basis = basis.ok_or_else(|| no(format!("the committer time of {} in {repo} is not known", ask.sha)))?;
    let at = basis.timestamp().to_string();
    let commits =
        r.runs.commits_until(ask.therock, branch, &at).await.or_missing(|| Missing::Branch { repo: ask.therock.clone(), branch: branch.to_string() })?;
    let c = wf::newest_at_or_before(&commits, &at).ok_or_else(|| no(format!("no commit at or before {at}")))?;
    Ok((c.sha.clone(), ResolvedByTime { branch: branch.to_string(), basis }))
}
