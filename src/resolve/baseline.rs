//! Scenario 2: the commit whose artifacts a build can reuse. TheRock: the commit itself, else
//! back from its merge-base with the base branch. Super-repos: the pinned TheRock commit, else
//! back from it. Both are one walk: judge a start commit, then first-parent history.

use anyhow::{anyhow, bail, Result};

use super::{gh_err, Resolver};
use crate::config::{Subject, WalkOptions};
use crate::domain::buckets::Repo;
use crate::domain::pins::{self, PinRead, PIN_SOURCES};
use crate::domain::run::short_sha;
use crate::domain::select::Found;
use crate::domain::walk::{Rejected, RunRule};
use crate::github::GhError;

#[derive(Debug, Clone)]
pub struct Baseline {
    /// The commit asked about.
    pub commit: String,
    pub found: Found,
    pub reason: Option<&'static str>,
    pub distance: Option<usize>,
    pub therock_ref: Option<String>,
    /// The file the pin was read from, and its line.
    pub pin_source: Option<String>,
    pub pin_line: Option<usize>,
    /// Which TheRock commit the super-repo commit's own newest run built against
    /// (`manifests/therock_manifest.json`), when it has one.
    pub therock_commit_built: Option<String>,
    pub baseline_run_id_hint: Option<u64>,
    pub looked_at: Vec<Rejected>,
    pub merge_base: Option<String>,
}

/// Walking back from `start` (the merge-base, or the pin).
struct Walk<'w> {
    repo: Repo,
    workflow: String,
    branch: String,
    /// A commit already judged on its own (not judged again when the history starts with it).
    judged: Option<String>,
    start: String,
    use_local: bool,
    /// Says where the walk started, for the not-found note.
    from: String,
    opts: &'w WalkOptions,
    rule: RunRule,
}

/// The pieces of a baseline that do not depend on the walk.
struct Asked {
    commit: String,
    pin: Option<Pin>,
    built: Option<String>,
    merge_base: Option<String>,
}

/// A pinned TheRock commit and where it was read.
struct Pin {
    sha: String,
    path: String,
    line: Option<usize>,
    hint: Option<u64>,
}

impl Resolver<'_> {
    /// The rule for runs of a baseline: healthy builds unless `--require-successful-run`, no
    /// older than `--max-age-hours`.
    fn run_rule(&self, opts: &WalkOptions) -> RunRule {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        RunRule { max_age: opts.max_age_hours.map(|h| (h as i64 * 3600, now)), ..self.run_rule_any_age() }
    }

    pub async fn baseline(&self, subject: &Subject, opts: &WalkOptions) -> Result<Baseline> {
        let repo = self.q.repo.clone();
        let (sha, local_only, pr_base) = match subject {
            Subject::Commit { sha, local_only } => (sha.clone(), *local_only, None),
            Subject::Pr(n) => {
                let (sha, base) = self.pull_head(&repo, *n).await?;
                (sha, false, Some(base))
            }
            Subject::RunId(id) => (self.run_by_id(&repo, *id).await?.head_sha, false, None),
        };
        let sha = if local_only { sha } else { self.full_sha(&repo, &sha).await? };
        if repo.is_therock_family() {
            self.baseline_therock(repo, sha, local_only, pr_base, opts).await
        } else {
            self.baseline_pinned(repo, sha, local_only, opts).await
        }
    }

    async fn baseline_therock(&self, repo: Repo, sha: String, local_only: bool, pr_base: Option<String>, opts: &WalkOptions) -> Result<Baseline> {
        let base_branch = opts.base_branch.clone().or(pr_base).unwrap_or_else(|| "main".to_string());
        let workflow = self.q.workflow_for(&repo);
        let asked = |merge_base: Option<String>| Asked { commit: sha.clone(), pin: None, built: None, merge_base };
        let mut looked_at = Vec::new();
        // The exact check comes first: a commit that is its own baseline costs no comparison.
        if !local_only {
            if let Some(found) = self.judge_alone(&repo, &workflow, &sha, "the commit itself", self.run_rule(opts), &mut looked_at).await? {
                return Ok(assemble(asked(None), found, Some("exact"), Some(0), looked_at));
            }
        }
        // Merge-base with the base branch: locally when origin/<base> is there, else the API.
        let remote_ref = format!("origin/{base_branch}");
        let local = self.checkout.filter(|c| c.has_object(&sha) && c.has_ref(&remote_ref));
        let merge_base = match local {
            Some(co) => co.merge_base(&sha, &remote_ref).ok_or_else(|| anyhow!("commit {sha} shares no history with {remote_ref}"))?,
            None if local_only => bail!(
                "commit {sha} exists only in the local checkout and {remote_ref} is not there to compute its merge-base: run `git fetch origin {base_branch}`"
            ),
            None => self.api_merge_base(&repo, &base_branch, &sha).await?,
        };
        let walk = Walk {
            repo,
            workflow,
            from: format!("{base_branch} back from merge-base {}", short_sha(&merge_base)),
            branch: base_branch,
            // The merge-base may be the commit itself (a commit on the base branch): judged already.
            judged: (!local_only).then(|| sha.clone()),
            start: merge_base.clone(),
            use_local: local.is_some(),
            opts,
            rule: self.run_rule(opts),
        };
        self.walk_back(walk, asked(Some(merge_base)), looked_at).await
    }

    async fn api_merge_base(&self, repo: &Repo, base_branch: &str, sha: &str) -> Result<String> {
        match self.gh.merge_base(repo, base_branch, sha).await {
            Ok(m) => Ok(m),
            Err(GhError::NotFound(_)) => match self.gh.commit(repo, sha).await {
                Err(GhError::NotFound(_)) | Err(GhError::Refused { status: 422, .. }) => {
                    bail!("commit {sha} is not known to {repo} on GitHub nor to a local checkout")
                }
                _ => bail!("base branch {base_branch} does not exist in {repo}"),
            },
            Err(e) => Err(gh_err(e)),
        }
    }

    async fn baseline_pinned(&self, repo: Repo, sha: String, local_only: bool, opts: &WalkOptions) -> Result<Baseline> {
        let read = self.read_pin(&repo, &sha, local_only).await?;
        let pin = read.sha.clone();
        let built = if local_only { None } else { self.therock_commit_built(&repo, &sha).await };
        if let Some(b) = built.as_deref().filter(|b| *b != pin) {
            crate::say!(
                "note: the newest run of {repo} at {} built against TheRock {b}, not the pin {pin} read from {} (an override?)",
                short_sha(&sha),
                read.path
            );
        }
        let therock = opts.therock_repo.clone();
        let workflow = self.q.workflow_flag.clone().unwrap_or_else(|| therock.default_workflow().to_string());
        let asked = Asked { commit: sha, pin: Some(read), built, merge_base: None };
        let mut looked_at = Vec::new();
        if let Some(found) = self.judge_alone(&therock, &workflow, &pin, "the pinned commit", self.run_rule(opts), &mut looked_at).await? {
            return Ok(assemble(asked, found, Some("therock-pin"), Some(0), looked_at));
        }
        let walk = Walk {
            from: format!("{therock} back from the pin {}", short_sha(&pin)),
            repo: therock,
            workflow,
            branch: "main".into(),
            judged: Some(pin.clone()),
            start: pin.clone(),
            use_local: false,
            opts,
            rule: self.run_rule(opts),
        };
        self.walk_back(walk, asked, looked_at).await
    }

    /// Judges one commit on its own: its runs' groups when they hold every group, else `None`
    /// with the reason recorded as `{label}: {reason}` at distance 0.
    async fn judge_alone(&self, repo: &Repo, workflow: &str, sha: &str, label: &str, rule: RunRule, looked_at: &mut Vec<Rejected>) -> Result<Option<Found>> {
        match self.exact(repo, workflow, sha, rule).await? {
            Ok((slots, note)) => {
                if let Some(n) = note {
                    looked_at.push(Rejected { commit: sha.to_string(), distance: 0, reason: format!("{label}: {n}"), taken: true });
                }
                Ok(Some(Found { repo: repo.clone(), workflow: workflow.to_string(), commit: Some(sha.to_string()), slots, note: None }))
            }
            Err(reason) => {
                looked_at.push(Rejected { commit: sha.to_string(), distance: 0, reason: format!("{label}: {reason}"), taken: false });
                Ok(None)
            }
        }
    }

    /// The one walk of both kinds of baseline: first-parent history from the start commit.
    async fn walk_back(&self, w: Walk<'_>, asked: Asked, mut looked_at: Vec<Rejected>) -> Result<Baseline> {
        let chain = self.chain_from(&w.repo, &w.start, w.use_local, w.opts.max_commits).await?;
        let skip = usize::from(w.judged.as_ref().is_some_and(|c| chain.first().is_some_and(|f| &f.sha == c)));
        let out = self.walk_chain(&w.repo, &w.workflow, &w.branch, &chain, skip, w.rule).await?;
        looked_at.extend(out.rejected);
        Ok(match out.hit {
            Some((c, d, (slots, note))) => {
                if let Some(n) = note {
                    looked_at.push(Rejected { commit: c.sha.clone(), distance: d, reason: n, taken: true });
                }
                let found = Found { repo: w.repo, workflow: w.workflow, commit: Some(c.sha), slots, note: None };
                assemble(asked, found, Some("ancestor"), Some(d), looked_at)
            }
            None => {
                let runs = w.rule.runs_phrase();
                let note = format!(
                    "no commit within {} first-parent commits of {} has {runs} holding every group (looked at {} commits)",
                    w.opts.max_commits,
                    w.from,
                    chain.len()
                );
                let found = Found::none(w.repo, w.workflow, None, &self.q.groups, Some(note));
                assemble(asked, found, None, None, looked_at)
            }
        })
    }

    /// Which TheRock commit the newest run of a super-repo commit built against, from the
    /// `manifests/therock_manifest.json` in its S3 prefix. Best effort: one runs listing, no
    /// error when there is no run or no manifest.
    async fn therock_commit_built(&self, repo: &Repo, sha: &str) -> Option<String> {
        let workflow = self.q.workflow_for(repo);
        let runs = self.gh.workflow_runs(repo, &workflow, &[("head_sha", sha)], 100).await.ok()?;
        let run = runs.into_iter().find(|r| !r.is_from_fork_of(repo))?;
        let location = self.loc.location(repo, &run);
        self.loc.therock_commit(&location).await
    }

    /// Reads the pinned TheRock commit of a super-repo commit.
    async fn read_pin(&self, repo: &Repo, sha: &str, local_only: bool) -> Result<Pin> {
        let local = self.checkout.filter(|c| c.has_object(sha));
        let mut notes = Vec::new();
        for path in PIN_SOURCES {
            let text = match local {
                Some(co) => co.show(sha, path),
                None if local_only => None,
                None => self.gh.file_at(repo, path, sha).await.map_err(gh_err)?,
            };
            let Some(text) = text else {
                notes.push(format!("{path}: not present"));
                continue;
            };
            match pins::parse_source(path, &text) {
                Ok(PinRead::Pin { sha: pin, baseline_run_id }) => {
                    let line = pins::pin_line(&text, &pin);
                    return Ok(Pin { sha: pin, path: path.to_string(), line, hint: baseline_run_id });
                }
                Ok(PinRead::NoPin(why)) => notes.push(format!("{path}: {why}")),
                Ok(PinRead::Invalid(why)) => bail!("the TheRock pin of {repo} at {sha} in {path} is invalid: {why}"),
                Err(e) => notes.push(format!("{path}: {e}")),
            }
        }
        bail!("no readable TheRock pin in {repo} at commit {sha}; read {}", notes.join("; "))
    }
}

fn assemble(a: Asked, found: Found, reason: Option<&'static str>, distance: Option<usize>, looked_at: Vec<Rejected>) -> Baseline {
    Baseline {
        commit: a.commit,
        found,
        reason,
        distance,
        therock_ref: a.pin.as_ref().map(|p| p.sha.clone()),
        pin_source: a.pin.as_ref().map(|p| p.path.clone()),
        pin_line: a.pin.as_ref().and_then(|p| p.line),
        baseline_run_id_hint: a.pin.as_ref().and_then(|p| p.hint),
        therock_commit_built: a.built,
        looked_at,
        merge_base: a.merge_base,
    }
}
