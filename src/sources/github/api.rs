//! The REST endpoints the tool reads, GitHub's JSON shapes, and their mapping into the domain's
//! own `Run` and `Commit`.

use async_trait::async_trait;
use serde::Deserialize;

use super::{urlencode, ContentError, GhError, GitHub};
use crate::domain::buckets::Repo;
use crate::domain::run::{Commit, Job, Run};
use crate::domain::status::{Conclusion, RunStatus};
use crate::domain::walk::newest_first;
use crate::sources::{Comparison, PullHead, RunFilter, RunPages, RunSource};

/// A run object, with the fields the tool reads (GitHub sends many more).
#[derive(Debug, Deserialize)]
struct GhRun {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    head_branch: Option<String>,
    head_sha: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    head_repository: Option<GhRepoRef>,
    #[serde(default)]
    repository: Option<GhRepoRef>,
}

#[derive(Debug, Deserialize)]
struct GhRepoRef {
    #[serde(default)]
    full_name: Option<String>,
}

impl From<GhRun> for Run {
    fn from(r: GhRun) -> Run {
        Run {
            id: r.id,
            name: r.name,
            path: r.path,
            head_branch: r.head_branch,
            head_sha: r.head_sha,
            status: RunStatus::parse(r.status.as_deref()),
            conclusion: Conclusion::parse(r.conclusion.as_deref()),
            created_at: r.created_at,
            updated_at: r.updated_at,
            html_url: r.html_url,
            head_repo: r.head_repository.and_then(|h| h.full_name),
            repo: r.repository.and_then(|h| h.full_name),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RunsPage {
    #[serde(default)]
    workflow_runs: Vec<GhRun>,
}

#[derive(Debug, Deserialize)]
struct GhCommitRef {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct GhCommit {
    sha: String,
    #[serde(default)]
    parents: Vec<GhCommitRef>,
    #[serde(default)]
    commit: Option<GhCommitDetail>,
}

#[derive(Debug, Deserialize)]
struct GhCommitDetail {
    #[serde(default)]
    committer: Option<GhSignature>,
    #[serde(default)]
    author: Option<GhSignature>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GhSignature {
    #[serde(default)]
    date: Option<String>,
}

impl From<GhCommit> for Commit {
    fn from(c: GhCommit) -> Commit {
        let detail = c.commit;
        let date = detail.as_ref().and_then(|d| d.committer.as_ref()).and_then(|s| s.date.as_deref()).and_then(crate::domain::time::parse_rfc3339);
        Commit {
            sha: c.sha,
            parents: c.parents.into_iter().map(|p| p.sha).collect(),
            date,
            subject: detail.as_ref().and_then(|d| d.message.as_deref()).map(|m| m.lines().next().unwrap_or("").to_string()),
            author_date: detail.and_then(|d| d.author).and_then(|a| a.date),
        }
    }
}

#[derive(Debug, Deserialize)]
struct JobsPage {
    #[serde(default)]
    jobs: Vec<GhJob>,
}

#[derive(Debug, Deserialize)]
struct GhJob {
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
}

impl From<GhJob> for Job {
    fn from(j: GhJob) -> Job {
        Job { name: j.name, status: RunStatus::parse(j.status.as_deref()), conclusion: Conclusion::parse(j.conclusion.as_deref()) }
    }
}

#[derive(Debug, Deserialize)]
struct Compare {
    merge_base_commit: GhCommit,
}

#[derive(Debug, Deserialize)]
struct CompareFiles {
    #[serde(default)]
    files: Vec<CompareFile>,
}

#[derive(Debug, Deserialize)]
struct CompareFile {
    filename: String,
}

#[derive(Debug, Deserialize)]
struct GhComparison {
    #[serde(default)]
    status: String,
    #[serde(default)]
    ahead_by: u64,
    base_commit: GhCommit,
    #[serde(default)]
    commits: Vec<GhCommitRef>,
}

#[derive(Debug, Deserialize)]
struct Contents {
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: String,
}

#[derive(Debug, Deserialize)]
struct RepoInfo {
    default_branch: String,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    head: PullEnd,
    base: PullEnd,
}

#[derive(Debug, Deserialize)]
struct PullEnd {
    sha: String,
    #[serde(rename = "ref")]
    git_ref: String,
}

/// A workflow's runs listing read page by page.
struct RunPager<'a> {
    gh: &'a GitHub,
    next: Option<String>,
    what: String,
    pages: u32,
    seen: super::PagesRead,
}

#[async_trait]
impl RunPages for RunPager<'_> {
    async fn next_page(&mut self) -> Result<Vec<Run>, GhError> {
        let Some(url) = self.next.take() else { return Ok(Vec::new()) };
        if !self.seen.first_visit(&url, &self.what) {
            return Ok(Vec::new());
        }
        let page = self.gh.get_page(&url, &self.what).await?;
        let runs = serde_json::from_slice::<RunsPage>(&page.body).map_err(|e| GhError::bad_json(&self.what, e))?.workflow_runs;
        self.pages += 1;
        self.next = if runs.is_empty() { None } else { page.next };
        Ok(runs.into_iter().map(Run::from).collect())
    }

    fn complete(&self) -> bool {
        self.next.is_none()
    }

    fn pages(&self) -> u32 {
        self.pages
    }
}

fn runs_query(filters: &[RunFilter]) -> String {
    let mut q = String::from("per_page=100");
    for f in filters {
        let (k, v) = match f {
            RunFilter::HeadSha(v) => ("head_sha", v),
            RunFilter::Branch(v) => ("branch", v),
            RunFilter::Status(v) => ("status", v),
        };
        q.push_str(&format!("&{k}={}", urlencode(v)));
    }
    q
}

/// A workflow's runs listing: its path and what it is called in messages.
fn runs_listing(repo: &Repo, workflow: &str, filters: &[RunFilter]) -> (String, String) {
    let path = format!("/repos/{}/actions/workflows/{}/runs?{}", repo.full(), urlencode(workflow), runs_query(filters));
    (path, format!("workflow '{workflow}' runs of {repo}"))
}

impl GitHub {
    /// Runs of a workflow under `filters`, newest first.
    pub async fn workflow_runs(&self, repo: &Repo, workflow: &str, filters: &[RunFilter], max_items: usize) -> Result<Vec<Run>, GhError> {
        let (path, what) = runs_listing(repo, workflow, filters);
        let runs = self.get_paged(&path, &what, max_items, |b| serde_json::from_slice::<RunsPage>(&b).map(|p| p.workflow_runs)).await?;
        let mut runs: Vec<Run> = runs.into_iter().map(Run::from).collect();
        newest_first(&mut runs);
        Ok(runs)
    }
}

#[async_trait]
impl RunSource for GitHub {
    async fn runs_for_commit(&self, repo: &Repo, workflow: &str, sha: &str, max: usize) -> Result<Vec<Run>, GhError> {
        self.workflow_runs(repo, workflow, &[RunFilter::HeadSha(sha.to_string())], max).await
    }

    fn branch_pager<'a>(&'a self, repo: &Repo, workflow: &str, filters: &[RunFilter]) -> Box<dyn RunPages + 'a> {
        let (path, what) = runs_listing(repo, workflow, filters);
        Box::new(RunPager { gh: self, next: Some(self.url(&path)), what, pages: 0, seen: Default::default() })
    }

    async fn run(&self, repo: &Repo, run_id: u64) -> Result<Run, GhError> {
        let r: GhRun = self.get_json(&format!("/repos/{}/actions/runs/{run_id}", repo.full()), &format!("run {run_id} of {repo}")).await?;
        Ok(r.into())
    }

    async fn jobs(&self, repo: &Repo, run_id: u64) -> Result<Vec<Job>, GhError> {
        let path = format!("/repos/{}/actions/runs/{run_id}/jobs?filter=latest&per_page=100", repo.full());
        let jobs = self.get_paged(&path, &format!("jobs of run {run_id} of {repo}"), 1000, |b| serde_json::from_slice::<JobsPage>(&b).map(|p| p.jobs)).await?;
        Ok(jobs.into_iter().map(Job::from).collect())
    }

    async fn default_branch(&self, repo: &Repo) -> Result<String, GhError> {
        let info: RepoInfo = self.get_json(&format!("/repos/{}", repo.full()), &format!("repository {repo}")).await?;
        Ok(info.default_branch)
    }

    async fn explain_workflow_404(&self, repo: &Repo, workflow: &str) -> GhError {
        match self.default_branch(repo).await {
            Err(GhError::NotFound(_)) => GhError::NotFound(format!("repository {repo} (or it is private and the token cannot see it)")),
            Err(e) => e,
            Ok(_) => GhError::NotFound(format!("workflow file '{workflow}' in {repo}")),
        }
    }

    async fn commits(&self, repo: &Repo, rev: &str, max_items: usize) -> Result<Vec<Commit>, GhError> {
        let path = format!("/repos/{}/commits?sha={}&per_page=100", repo.full(), urlencode(rev));
        let list = self.get_paged(&path, &format!("commit history of {rev} in {repo}"), max_items, |b| serde_json::from_slice::<Vec<GhCommit>>(&b)).await?;
        Ok(list.into_iter().map(Commit::from).collect())
    }

    async fn commit(&self, repo: &Repo, rev: &str) -> Result<Commit, GhError> {
        let c: GhCommit = self.get_json(&format!("/repos/{}/commits/{}", repo.full(), urlencode(rev)), &format!("commit {rev} in {repo}")).await?;
        Ok(c.into())
    }

    async fn merge_base(&self, repo: &Repo, base: &str, head: &str) -> Result<Commit, GhError> {
        let c: Compare = self
            .get_json(&format!("/repos/{}/compare/{}...{}", repo.full(), urlencode(base), urlencode(head)), &format!("comparison of {base}...{head} in {repo}"))
            .await?;
        Ok(c.merge_base_commit.into())
    }

    async fn runs_of_commit(&self, repo: &Repo, sha: &str, max: usize) -> Result<Vec<Run>, GhError> {
        let path = format!("/repos/{}/actions/runs?{}", repo.full(), runs_query(&[RunFilter::HeadSha(sha.to_string())]));
        let what = format!("runs of commit {sha} in {repo}");
        let runs = self.get_paged(&path, &what, max, |b| serde_json::from_slice::<RunsPage>(&b).map(|p| p.workflow_runs)).await?;
        let mut runs: Vec<Run> = runs.into_iter().map(Run::from).collect();
        newest_first(&mut runs);
        Ok(runs)
    }

    async fn commits_until(&self, repo: &Repo, branch: &str, until: &str) -> Result<Vec<Commit>, GhError> {
        let path = format!("/repos/{}/commits?sha={}&until={}&per_page=1", repo.full(), urlencode(branch), urlencode(until));
        let what = format!("commits of {branch} in {repo} until {until}");
        let list = self.get_paged(&path, &what, 1, |b| serde_json::from_slice::<Vec<GhCommit>>(&b)).await?;
        Ok(list.into_iter().map(Commit::from).collect())
    }

    async fn changed_files(&self, repo: &Repo, base: &str, head: &str) -> Result<Vec<String>, GhError> {
        let path = format!("/repos/{}/compare/{}...{}?per_page=100", repo.full(), urlencode(base), urlencode(head));
        let what = format!("files changed in {base}...{head} of {repo}");
        let files = self.get_paged(&path, &what, 100_000, |b| serde_json::from_slice::<CompareFiles>(&b).map(|c| c.files)).await?;
        Ok(files.into_iter().map(|f| f.filename).collect())
    }

    async fn file_at(&self, repo: &Repo, path: &str, rev: &str) -> Result<Option<String>, GhError> {
        let what = format!("{path} at {rev} in {repo}");
        let c: Contents = match self.get_json(&format!("/repos/{}/contents/{path}?ref={}", repo.full(), urlencode(rev)), &what).await {
            Ok(c) => c,
            Err(GhError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if c.encoding != "base64" {
            return Err(GhError::BadContent { what, why: ContentError::Encoding(c.encoding) });
        }
        use base64::Engine;
        let clean: String = c.content.chars().filter(|ch| !ch.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(clean).map_err(|e| GhError::BadContent { what, why: ContentError::Base64(e) })?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    async fn gitlink(&self, repo: &Repo, path: &str, rev: &str) -> Result<Option<String>, GhError> {
        let what = format!("submodule {path} at {rev} in {repo}");
        // A file or a directory (an array) is no submodule; nor is a path that is not there.
        let entry: serde_json::Value = match self.get_json(&format!("/repos/{}/contents/{path}?ref={}", repo.full(), urlencode(rev)), &what).await {
            Ok(v) => v,
            Err(GhError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let sha = entry.get("sha").and_then(|s| s.as_str()).filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        Ok(sha.filter(|_| entry.get("type").and_then(|t| t.as_str()) == Some("submodule")).map(str::to_string))
    }

    async fn compare(&self, repo: &Repo, base: &str, head: &str) -> Result<Comparison, GhError> {
        let c: GhComparison = self
            .get_json(&format!("/repos/{}/compare/{}...{}", repo.full(), urlencode(base), urlencode(head)), &format!("comparison of {base}...{head} in {repo}"))
            .await?;
        Ok(Comparison { status: c.status, ahead_by: c.ahead_by, base: c.base_commit.into(), commits: c.commits.into_iter().map(|c| c.sha).collect() })
    }

    async fn commits_touching(&self, repo: &Repo, rev: &str, path: Option<&str>, since: Option<&str>, max: usize) -> Result<Vec<Commit>, GhError> {
        let mut q = format!("/repos/{}/commits?sha={}&per_page=100", repo.full(), urlencode(rev));
        for (k, v) in [("path", path), ("since", since)] {
            if let Some(v) = v {
                q.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        let what = format!("commits of {rev} in {repo}{}", path.map(|p| format!(" that changed {p}")).unwrap_or_default());
        let list = self.get_paged(&q, &what, max, |b| serde_json::from_slice::<Vec<GhCommit>>(&b)).await?;
        Ok(list.into_iter().map(Commit::from).collect())
    }

    async fn pull(&self, repo: &Repo, number: u64) -> Result<PullHead, GhError> {
        let p: PullRequest = self.get_json(&format!("/repos/{}/pulls/{number}", repo.full()), &format!("pull request #{number} of {repo}")).await?;
        Ok(PullHead { sha: p.head.sha, base_ref: p.base.git_ref })
    }
}

/// Every body shape the client reads as runs, commits or jobs, decoded and mapped into the domain
/// with the same types and `From`s as the endpoints above: the entry of the fuzz target over
/// GitHub's JSON (`crate::fuzzing::github`). Bodies of no such shape give nothing.
pub(crate) fn decode_any(body: &[u8]) -> (Vec<Run>, Vec<Commit>, Vec<Job>) {
    let mut runs: Vec<Run> = serde_json::from_slice::<RunsPage>(body).map(|p| p.workflow_runs.into_iter().map(Run::from).collect()).unwrap_or_default();
    runs.extend(serde_json::from_slice::<GhRun>(body).map(Run::from));
    newest_first(&mut runs);
    let mut commits: Vec<Commit> = serde_json::from_slice::<Vec<GhCommit>>(body).map(|l| l.into_iter().map(Commit::from).collect()).unwrap_or_default();
    commits.extend(serde_json::from_slice::<GhCommit>(body).map(Commit::from));
    let jobs = serde_json::from_slice::<JobsPage>(body).map(|p| p.jobs.into_iter().map(Job::from).collect()).unwrap_or_default();
    (runs, commits, jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_map_into_the_domain_with_both_repository_names() {
        let r: GhRun = serde_json::from_value(serde_json::json!({
            "id": 7, "head_sha": "abc", "status": "completed", "conclusion": "failure",
            "repository": {"full_name": "ROCm/rocm-libraries"}, "head_repository": null
        }))
        .unwrap();
        let run = Run::from(r);
        assert_eq!(run.repo.as_deref(), Some("ROCm/rocm-libraries"));
        assert_eq!(run.head_repo, None, "a deleted fork has no head repository");
        assert_eq!((run.status, run.conclusion), (RunStatus::Completed, Some(Conclusion::Failure)), "mapped once, here");
    }

    #[test]
    fn commits_keep_subject_and_dates() {
        let c: GhCommit = serde_json::from_value(serde_json::json!({
            "sha": "abc", "parents": [{"sha": "p"}],
            "commit": {"message": "Fix the build\n\nlong text", "author": {"date": "2026-01-02T03:04:05Z"}, "committer": {"date": "2026-01-02T03:04:05Z"}}
        }))
        .unwrap();
        let c = Commit::from(c);
        assert_eq!(c.subject.as_deref(), Some("Fix the build"));
        assert_eq!(c.parents, vec!["p"]);
        assert_eq!(c.date, Some(1767323045));
    }
}
