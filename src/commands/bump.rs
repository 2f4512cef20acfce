//! A TheRock submodule bump as a bisect range: the super-repo gitlinks of rocm-libraries and
//! rocm-systems at two TheRock commits (`--bump X`: X's first parent and X), read with the one
//! gitlink reader (`resolve::gitlink`: the local checkout, else the contents API).

use anyhow::{bail, Result};

use super::App;
use crate::domain::buckets::Repo;
use crate::domain::gitlinks::{self, Moved, SUBMODULES};
use crate::domain::run::{short_sha, Commit};
use crate::resolve;

/// The super-repo range a bump moved across.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bump {
    pub therock_repo: String,
    pub good_therock: String,
    pub bad_therock: String,
    pub submodule: &'static str,
    /// The super-repo bisected.
    pub repo: String,
    /// The gitlink before (good) and after (bad).
    pub good: String,
    pub bad: String,
}

/// TheRock's repository for a bump: `--repo` when it is TheRock (or a fork), else ROCm/TheRock.
fn therock_repo(app: &App) -> Repo {
    let q = &app.cfg.query.repo;
    if q.is_therock_family() {
        q.clone()
    } else {
        Repo::parse("ROCm/TheRock").expect("a repository name")
    }
}

/// A TheRock commit with its parents: from the local checkout when it has it, else GitHub.
async fn therock_commit(r: &resolve::Resolver<'_>, therock: &Repo, rev: &str) -> Result<Commit> {
    if let Some(co) = r.checkout {
        if co.has_object(rev).await {
            if let Some(c) = co.first_parent_commits(rev, 1).await.and_then(|v| v.into_iter().next()) {
                return Ok(c);
            }
        }
    }
    r.runs.commit(therock, rev).await.map_err(|e| anyhow::anyhow!("cannot read TheRock commit {rev} in {therock}: {e}"))
}

/// Reads the gitlinks at both TheRock commits and picks the one submodule to bisect.
pub async fn resolve(app: &App, good_therock: Option<&str>, bad_therock: &str, submodule: Option<&str>) -> Result<Bump> {
    let therock = therock_repo(app);
    let r = app.resolver();
    let bad = therock_commit(&r, &therock, bad_therock).await?;
    let good = match good_therock {
        Some(g) => therock_commit(&r, &therock, g).await?.sha,
        None => match bad.parents.first() {
            Some(p) => p.clone(),
            None => bail!("TheRock commit {} has no parent: it bumped nothing", short_sha(&bad.sha)),
        },
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (path, _) in SUBMODULES {
        before.push(resolve::gitlink(&r, &therock, path, &good).await?);
        after.push(resolve::gitlink(&r, &therock, path, &bad.sha).await?);
    }
    let range = match good_therock {
        Some(_) => format!("{}..{}", short_sha(&good), short_sha(&bad.sha)),
        None => format!("commit {}", short_sha(&bad.sha)),
    };
    // `--repo rocm-systems` says which super-repo as well as `--submodule` does.
    let wanted = submodule.or_else(|| gitlinks::submodule_of(&app.cfg.query.repo.name).filter(|_| !app.cfg.query.repo.is_therock_family()));
    let Moved { path, repo, before, after } = gitlinks::choose(gitlinks::moved(&before, &after), wanted, &range).map_err(anyhow::Error::msg)?;
    crate::say!("bisect: TheRock {range} moved {path} from {} to {}: bisecting {repo}", short_sha(&before), short_sha(&after));
    Ok(Bump { therock_repo: therock.full(), good_therock: good, bad_therock: bad.sha, submodule: path, repo: repo.to_string(), good: before, bad: after })
}
