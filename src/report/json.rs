//! The JSON documents of interface.md, as `Serialize` records: the contract is these types.
//!
//! Documents are turned into a `serde_json::Value` before they are printed, whose map keeps its
//! keys sorted: the printed order is alphabetical whatever the field order here (as it was when
//! the documents were `json!` literals).

use serde::Serialize;
use serde_json::Value;

use crate::domain::select::{Found, Hit};
use crate::domain::walk::Rejected;
use crate::domain::workflows::{HintVerdict, TimeBasis};
use crate::resolve::{Baseline, ResolvedByTime};

/// `status`: `found` (exit 0), `not_found` (exit 1) or `error` (exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Found,
    NotFound,
    Error,
}

impl Status {
    pub fn of(found: bool) -> Status {
        if found {
            Status::Found
        } else {
            Status::NotFound
        }
    }
}

/// A record as a JSON value (keys sorted).
pub fn value(record: &impl Serialize) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// One RESULT record (keys of upstream's `find_artifacts_for_commit.py --json`, plus a few).
#[derive(Debug, Serialize)]
pub struct ResultRecord<'a> {
    pub git_commit_sha: &'a str,
    pub git_commit_url: String,
    pub github_repository_name: String,
    pub external_repo: &'a str,
    pub platform: &'static str,
    pub artifact_group: &'a str,
    pub amdgpu_targets: &'a [String],
    pub workflow_file_name: Option<String>,
    pub workflow_run_id: String,
    pub workflow_run_status: &'a str,
    pub workflow_run_conclusion: Option<&'a str>,
    pub workflow_run_html_url: &'a str,
    pub workflow_run_created_at: &'a Option<String>,
    pub s3_bucket: &'a str,
    pub s3_path: String,
    pub s3_uri: String,
    pub s3_index_url: String,
    pub artifact_filenames: Vec<&'a str>,
    pub artifact_total_size: u64,
    pub required_artifact_patterns: &'a [String],
    pub missing_required_artifact_patterns: &'a [String],
    pub therock_commit: &'a Option<String>,
    /// Why this run does not count although it holds the group (`--require-single-run`,
    /// `--require-artifact`): a script must not take it. Absent on a record that counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

impl<'a> ResultRecord<'a> {
    /// `workflow`: the workflow file named when the run's own path does not say.
    pub fn new(h: &'a Hit, server_url: &str, workflow: Option<&str>) -> Self {
        let loc = &h.location;
        ResultRecord {
            git_commit_sha: &h.run.head_sha,
            git_commit_url: format!("{server_url}/{}/commit/{}", h.repo.full(), h.run.head_sha),
            github_repository_name: h.repo.full(),
            external_repo: &loc.external_repo,
            platform: loc.platform.as_str(),
            artifact_group: &h.group.name,
            amdgpu_targets: &h.group.targets,
            workflow_file_name: h.run.workflow_file().or(workflow.map(str::to_string)),
            workflow_run_id: h.run.id.to_string(),
            workflow_run_status: h.run.status.name().unwrap_or("unknown"),
            workflow_run_conclusion: h.run.conclusion.as_ref().map(|c| c.name()),
            workflow_run_html_url: h.run.html_url.as_deref().unwrap_or_default(),
            workflow_run_created_at: &h.run.created_at,
            s3_bucket: &loc.bucket,
            s3_path: loc.prefix(),
            s3_uri: loc.s3_uri(),
            s3_index_url: loc.index_url(),
            artifact_filenames: h.archives.iter().map(|(a, _)| a.filename.as_str()).collect(),
            artifact_total_size: h.archives.iter().map(|(_, s)| s).sum(),
            required_artifact_patterns: &h.required,
            missing_required_artifact_patterns: &h.missing,
            therock_commit: &h.therock_commit,
            rejected: None,
        }
    }
}

/// The result records of one side.
pub fn results<'a>(f: &'a Found, server_url: &str) -> Vec<ResultRecord<'a>> {
    let record = |s: &'a crate::domain::select::Slot| {
        let h = s.hit.as_ref().or(s.partial.as_ref())?;
        Some(ResultRecord { rejected: s.rejected(), ..ResultRecord::new(h, server_url, Some(&f.workflow)) })
    };
    f.slots.iter().filter_map(record).collect()
}

/// `find`, `latest`, and the start of every document that resolved a commit.
#[derive(Debug, Serialize)]
pub struct FoundDoc<'a> {
    pub status: Status,
    pub results: Vec<ResultRecord<'a>>,
    pub missing_artifact_groups: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

impl<'a> FoundDoc<'a> {
    pub fn new(f: &'a Found, server_url: &str) -> Self {
        FoundDoc { status: Status::of(f.found()), results: results(f, server_url), missing_artifact_groups: f.missing_groups(), message: f.note.as_deref() }
    }
}

/// `baseline`: the found document plus how the baseline was chosen.
#[derive(Debug, Serialize)]
pub struct BaselineDoc<'a> {
    #[serde(flatten)]
    pub found: FoundDoc<'a>,
    pub commit: &'a str,
    pub baseline_commit: Option<&'a str>,
    pub baseline_repository: String,
    pub reason: Option<&'static str>,
    pub distance: Option<usize>,
    pub therock_ref: Option<&'a str>,
    pub therock_ref_source: Option<&'a str>,
    pub pin_source: Option<String>,
    pub therock_commit: Option<&'a str>,
    pub merge_base: Option<&'a str>,
    pub baseline_run_id_hint: Option<u64>,
    pub looked_at: &'a [Rejected],
    /// The line of `therock_ref_source` the pin was read from.
    pub therock_ref_line: Option<usize>,
    /// The super-repo workflow whose pin was read.
    pub therock_ref_workflow: Option<&'a str>,
    pub therock_ref_resolved_by_time: Option<ByTimeDoc<'a>>,
    pub baseline_hint: Option<HintDoc>,
    pub therock_ref_warnings: &'a [String],
}

/// A pin resolved by time: TheRock's branch, at whose committer time.
#[derive(Debug, Serialize)]
pub struct ByTimeDoc<'a> {
    pub branch: &'a str,
    /// `commit` (the commit's own committer time) or `merge_base` (a pull request's).
    pub basis: &'static str,
    pub basis_commit: &'a str,
    pub timestamp: &'a str,
}

impl<'a> ByTimeDoc<'a> {
    fn new(t: &'a ResolvedByTime) -> Self {
        let (basis, basis_commit) = match &t.basis {
            TimeBasis::Commit { sha, .. } => ("commit", sha.as_str()),
            TimeBasis::MergeBase { sha, .. } => ("merge_base", sha.as_str()),
        };
        ByTimeDoc { branch: &t.branch, basis, basis_commit, timestamp: t.basis.timestamp() }
    }
}

/// ci-env's `baseline-run-id` and whether its run built the pin.
#[derive(Debug, Serialize)]
pub struct HintDoc {
    pub run_id: u64,
    /// `matches`, `differs` or `unknown`.
    pub verdict: &'static str,
    /// The TheRock commit the hint's run built (when it could be read).
    pub run_commit: Option<String>,
    /// Why the run could not be read (verdict `unknown`).
    pub why: Option<String>,
}

impl HintDoc {
    fn new(h: &HintVerdict, pin: Option<&str>) -> Self {
        let (run_id, run_commit, why) = match h {
            HintVerdict::Matches { run_id } => (*run_id, pin.map(String::from), None),
            HintVerdict::Differs { run_id, run_commit } => (*run_id, Some(run_commit.clone()), None),
            HintVerdict::Unknown { run_id, why } => (*run_id, None, Some(why.clone())),
        };
        HintDoc { run_id, verdict: h.as_str(), run_commit, why }
    }
}

impl<'a> BaselineDoc<'a> {
    pub fn new(b: &'a Baseline, server_url: &str) -> Self {
        BaselineDoc {
            found: FoundDoc::new(&b.found, server_url),
            commit: &b.commit,
            baseline_commit: b.found.commit.as_deref().filter(|_| b.found.found()),
            baseline_repository: b.found.repo.full(),
            reason: b.reason.map(|r| r.as_str()),
            distance: b.distance,
            therock_ref: b.therock_ref.as_deref(),
            therock_ref_source: b.pin_source.as_deref(),
            pin_source: super::pin_source(b),
            therock_commit: b.therock_commit_built.as_deref(),
            merge_base: b.merge_base.as_deref(),
            baseline_run_id_hint: b.baseline_run_id_hint,
            looked_at: &b.looked_at,
            therock_ref_line: b.pin_line,
            therock_ref_workflow: b.pin_workflow,
            therock_ref_resolved_by_time: b.resolved_by_time.as_ref().map(ByTimeDoc::new),
            baseline_hint: b.hint.as_ref().map(|h| HintDoc::new(h, b.therock_ref.as_deref())),
            therock_ref_warnings: &b.pin_warnings,
        }
    }
}

/// The document printed with `--json` when the command failed.
#[derive(Debug, Serialize)]
pub struct ErrorDoc<'a> {
    pub status: Status,
    pub results: [(); 0],
    pub error: &'a str,
}

pub fn error_document(msg: &str) -> Value {
    value(&ErrorDoc { status: Status::Error, results: [], error: msg })
}
