//! `contains`: the first TheRock commit on a branch whose rocm-libraries / rocm-systems gitlink
//! includes a super-repo commit, found by bisecting the commits that moved that gitlink
//! (O(log n) gitlink reads), with its runs' artifacts (as `find`) and its dev tarball.
//!
//! GitHub requests: the branch tip's gitlink, one comparison (the commit exists, the tip
//! includes it, and which super-repo commits descend from it), the bumps since the commit's
//! date (one page per 100), one gitlink per probe, one exact comparison of the answer, the
//! answer's runs, and one page of later TheRock commits for the dev tarball.

use anyhow::{anyhow, bail, Result};
use std::collections::{HashMap, HashSet};

use super::App;
use crate::config::{ContainsOptions, Query, Subject};
use crate::domain::buckets::Repo;
use crate::domain::contains::{self as rules, DevTarball, FirstTrue};
use crate::domain::gitlinks::submodule_of;
use crate::domain::run::{short_sha, Commit};
use crate::domain::select::Found;
use crate::resolve::{self, Resolver};
use crate::sources::github::GhError;

/// The dev tarball bucket (therock-facts.md 5e).
pub const DEV_BUCKET: &str = "therock-dev-tarball";

/// What `contains` answered.
#[derive(Debug, Clone)]
pub struct ContainsReport {
    pub repo: Repo,
    /// The super-repo commit, in full.
    pub commit: String,
    pub therock_repo: Repo,
    pub therock_branch: String,
    /// The first TheRock commit that includes it (the bump past it), and its gitlink.
    pub therock_commit: Option<Commit>,
    pub gitlink: Option<String>,
    /// The gitlink at the branch's tip.
    pub newest_gitlink: String,
    pub found: Option<Found>,
    pub release: Option<(DevTarball, u64)>,
    /// Gitlinks read while bisecting.
    pub probes: usize,
}

/// Whether a gitlink includes the commit: the local super-repo checkout when it has both,
/// else the list of the commit's descendants (from the first comparison), else a comparison.
struct Judge<'a> {
    r: &'a Resolver<'a>,
    repo: &'a Repo,
    commit: String,
    descendants: Option<HashSet<String>>,
}

impl Judge<'_> {
    async fn exact(&self, gitlink: &str) -> Result<bool> {
        if let Some(co) = self.r.checkout {
            if co.has_object(&self.commit).await && co.has_object(gitlink).await {
                return Ok(co.merge_base(&self.commit, gitlink).await.as_deref() == Some(self.commit.as_str()));
            }
        }
        Ok(rules::status_includes(&self.r.runs.compare(self.repo, &self.commit, gitlink).await?.status))
    }

    async fn includes(&self, gitlink: &str) -> Result<bool> {
        match &self.descendants {
            Some(set) => Ok(set.contains(gitlink)),
            None => self.exact(gitlink).await,
        }
    }
}

pub async fn run(app: &App, o: &ContainsOptions) -> Result<ContainsReport> {
    let repo = &app.cfg.query.repo;
    let Some(path) = submodule_of(&repo.name).filter(|_| !repo.is_therock_family()) else {
        bail!("{repo} is not a TheRock super-repo (rocm-libraries, rocm-systems): `contains` looks for its commits in TheRock's submodule gitlinks");
    };
    let therock = Repo::parse("ROCm/TheRock").expect("a repository name");
    let r = app.resolver();
    let branch = &o.therock_branch;
    let newest = resolve::gitlink(&r, &therock, path, branch).await?.ok_or_else(|| anyhow!("TheRock {branch} has no {path} submodule"))?;
    // The commit, its date, whether the newest gitlink includes it, and what descends from it:
    // from the local super-repo checkout when it has both, else one comparison.
    let first = match local_first(&r, &o.commit, &newest).await {
        Some(f) => f,
        None => match r.runs.compare(repo, &o.commit, &newest).await {
            Ok(c) => First { includes: rules::status_includes(&c.status), descendants: rules::descendants(&c.base.sha, &c.commits, c.ahead_by), base: c.base },
            Err(e) if e.is_missing() => bail!("commit {} is not in {repo} (GitHub does not know it there)", o.commit),
            Err(e) => return Err(e.into()),
        },
    };
    let cmp = first;
    let commit = cmp.base.sha.clone();
    let mut report = ContainsReport {
        repo: repo.clone(),
        commit: commit.clone(),
        therock_repo: therock.clone(),
        therock_branch: branch.clone(),
        therock_commit: None,
        gitlink: None,
        newest_gitlink: newest.clone(),
        found: None,
        release: None,
        probes: 0,
    };
    if !cmp.includes {
        return Ok(report);
    }
    let since = cmp.base.date.map(crate::domain::time::format_rfc3339);
    let mut bumps = bumps(&r, &therock, branch, path, since.as_deref()).await?;
    if bumps.is_empty() {
        bumps = bumps_all(&r, &therock, branch, path).await?;
    }
    if bumps.is_empty() {
        bail!("TheRock {branch} has no commit that changed {path}");
    }
    let judge = Judge { r: &r, repo, commit: commit.clone(), descendants: cmp.descendants };
    let mut links: HashMap<usize, String> = HashMap::from([(bumps.len() - 1, newest.clone())]);
    let mut k = search(&r, &therock, path, &bumps, &judge, FirstTrue::new(bumps.len()), &mut links, &mut report.probes).await?;
    // The descendants list assumes a linear history: the answer is checked exactly, and the
    // search goes on above it (exactly) when it does not hold.
    if judge.descendants.is_some() && !judge.exact(&links[&k]).await? {
        let exact = Judge { descendants: None, ..judge };
        k = search(&r, &therock, path, &bumps, &exact, FirstTrue::above(k, bumps.len()), &mut links, &mut report.probes).await?;
    }
    let bump = bumps[k].clone();
    crate::say!(
        "contains: TheRock {} ({}) bumped {path} to {}, past {}",
        short_sha(&bump.sha),
        bump.subject.as_deref().unwrap_or(""),
        short_sha(&links[&k]),
        short_sha(&commit)
    );
    report.gitlink = links.remove(&k);
    let q = Query { repo: therock.clone(), workflow_flag: None, ..app.cfg.query.clone() };
    report.found = Some(resolve::find(&app.resolver_for(&q), &Subject::Commit { sha: bump.sha.clone(), local_only: false }).await?);
    report.release = dev_tarball(app, &r, &therock, branch, &bump).await?;
    report.therock_commit = Some(bump);
    Ok(report)
}

/// What is known of the commit before the search.
struct First {
    base: Commit,
    includes: bool,
    descendants: Option<HashSet<String>>,
}

/// `First` from the local super-repo checkout, when it has the commit and the newest gitlink.
async fn local_first(r: &Resolver<'_>, commit: &str, newest: &str) -> Option<First> {
    let co = r.checkout?;
    if !(co.has_object(commit).await && co.has_object(newest).await) {
        return None;
    }
    let base = co.first_parent_commits(commit, 1).await?.into_iter().next()?;
    let includes = co.merge_base(&base.sha, newest).await.as_deref() == Some(base.sha.as_str());
    Some(First { base, includes, descendants: None })
}

/// Bisects `bumps` (oldest first; the newest's gitlink is in `links`) for the oldest whose
/// gitlink includes the commit.
#[allow(clippy::too_many_arguments)]
async fn search(
    r: &Resolver<'_>,
    therock: &Repo,
    path: &str,
    bumps: &[Commit],
    judge: &Judge<'_>,
    mut s: FirstTrue,
    links: &mut HashMap<usize, String>,
    probes: &mut usize,
) -> Result<usize> {
    while let Some(i) = s.next() {
        let link = match links.get(&i) {
            Some(l) => l.clone(),
            None => {
                *probes += 1;
                let l = resolve::gitlink(r, therock, path, &bumps[i].sha).await?;
                let l = l.ok_or_else(|| anyhow!("TheRock commit {} changed {path} but has no gitlink there", short_sha(&bumps[i].sha)))?;
                links.insert(i, l.clone());
                l
            }
        };
        s.record(i, judge.includes(&link).await?);
    }
    Ok(s.answer())
}

/// The commits of `branch` that changed `path`, since `since`, oldest first.
async fn bumps(r: &Resolver<'_>, therock: &Repo, branch: &str, path: &str, since: Option<&str>) -> Result<Vec<Commit>, GhError> {
    let mut list = r.runs.commits_touching(therock, branch, Some(path), since, 10_000).await?;
    list.reverse();
    Ok(list)
}

async fn bumps_all(r: &Resolver<'_>, therock: &Repo, branch: &str, path: &str) -> Result<Vec<Commit>, GhError> {
    bumps(r, therock, branch, path, None).await
}

/// The first dev tarball built from `bump` or a later TheRock commit of `branch`, with its size.
async fn dev_tarball(app: &App, r: &Resolver<'_>, therock: &Repo, branch: &str, bump: &Commit) -> Result<Option<(DevTarball, u64)>> {
    let prefix = format!("v4/tarball/therock-dist-{}-", app.platform());
    let listed = match app.s3().list_prefix(DEV_BUCKET, &prefix).await {
        Ok(l) => l,
        Err(e) => {
            crate::say!("contains: cannot list the dev tarballs ({e}); no release named");
            return Ok(None);
        }
    };
    let tarballs: Vec<(DevTarball, u64)> =
        listed.iter().filter_map(|o| rules::dev_tarball(&format!("therock-dist-{}-{}", app.platform(), o.filename)).map(|t| (t, o.size))).collect();
    if tarballs.is_empty() {
        return Ok(None);
    }
    let since = bump.date.map(crate::domain::time::format_rfc3339);
    let mut later: Vec<String> = r.runs.commits_touching(therock, branch, None, since.as_deref(), 100).await?.into_iter().map(|c| c.sha).collect();
    later.reverse();
    let mut commits = vec![bump.sha.clone()];
    commits.extend(later.into_iter().filter(|c| *c != bump.sha));
    let groups: Vec<String> = app.cfg.query.groups.iter().filter(|g| !g.name.is_empty() && g.name != "all").map(|g| g.name.clone()).collect();
    let only: Vec<DevTarball> = tarballs.iter().map(|(t, _)| t.clone()).collect();
    Ok(rules::first_tarball(&only, &commits, &groups).and_then(|t| tarballs.iter().find(|(x, _)| x == t).cloned()))
}

impl super::Conclusion for ContainsReport {
    fn found(&self) -> bool {
        self.therock_commit.is_some()
    }
    fn resolved(&self) -> Option<&Found> {
        self.found.as_ref()
    }
}
