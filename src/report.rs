//! Report: the JSON documents of interface.md and the human text.

use serde_json::{json, Map, Value};

use crate::locate::Hit;
use crate::resolve::{Baseline, Found};

pub fn server_url() -> String {
    std::env::var("GITHUB_SERVER_URL")
        .ok()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://github.com".into())
}

/// One RESULT record (keys of upstream's `find_artifacts_for_commit.py --json`, plus a few).
pub fn result_record(h: &Hit) -> Value {
    let loc = &h.location;
    let commit = &h.run.head_sha;
    let total: u64 = h.archives.iter().map(|(_, s)| s).sum();
    json!({
        "git_commit_sha": commit,
        "git_commit_url": format!("{}/{}/commit/{}", server_url(), h.repo.full(), commit),
        "github_repository_name": h.repo.full(),
        "external_repo": loc.external_repo,
        "platform": loc.platform.as_str(),
        "artifact_group": h.group.name,
        "amdgpu_targets": h.group.targets,
        "workflow_file_name": h.run.path.as_deref().and_then(|p| p.rsplit('/').next()).map(|p| p.split('@').next().unwrap_or(p).to_string()),
        "workflow_run_id": h.run.id.to_string(),
        "workflow_run_status": h.run.status.clone().unwrap_or_else(|| "unknown".into()),
        "workflow_run_conclusion": h.run.conclusion,
        "workflow_run_html_url": h.run.html_url.clone().unwrap_or_default(),
        "workflow_run_created_at": h.run.created_at,
        "s3_bucket": loc.bucket,
        "s3_path": loc.prefix(),
        "s3_uri": loc.s3_uri(),
        "s3_index_url": loc.index_url(),
        "artifact_filenames": h.archives.iter().map(|(a, _)| a.filename.clone()).collect::<Vec<_>>(),
        "artifact_total_size": total,
        "required_artifact_patterns": h.required,
        "missing_required_artifact_patterns": h.missing,
    })
}

pub fn found_doc(f: &Found) -> Map<String, Value> {
    let mut results = Vec::new();
    for s in &f.slots {
        if let Some(h) = s.hit.as_ref().or(s.partial.as_ref()) {
            let mut r = result_record(h);
            if r["workflow_file_name"].is_null() {
                r["workflow_file_name"] = json!(f.workflow);
            }
            results.push(r);
        }
    }
    let mut m = Map::new();
    m.insert("status".into(), json!(if f.found() { "found" } else { "not_found" }));
    m.insert("results".into(), Value::Array(results));
    m.insert("missing_artifact_groups".into(), json!(f.slots.iter().filter(|s| s.hit.is_none()).map(|s| s.group.name.clone()).collect::<Vec<_>>()));
    if let Some(n) = &f.note {
        m.insert("message".into(), json!(n));
    }
    m
}

pub fn baseline_doc(b: &Baseline) -> Map<String, Value> {
    let mut m = found_doc(&b.found);
    m.insert("commit".into(), json!(b.commit));
    m.insert("baseline_commit".into(), json!(b.found.commit.as_ref().filter(|_| b.found.found())));
    m.insert("baseline_repository".into(), json!(b.found.repo.full()));
    m.insert("reason".into(), json!(b.reason));
    m.insert("distance".into(), json!(b.distance));
    m.insert("therock_ref".into(), json!(b.therock_ref));
    m.insert("therock_ref_source".into(), json!(b.pin_source));
    m.insert("merge_base".into(), json!(b.merge_base));
    m.insert("baseline_run_id_hint".into(), json!(b.baseline_run_id_hint));
    m.insert("looked_at".into(), json!(b.looked_at));
    m
}

pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

pub fn human_found(f: &Found) -> String {
    let mut out = String::new();
    for s in &f.slots {
        match (&s.hit, &s.partial) {
            (Some(h), _) => out.push_str(&human_hit(h)),
            (None, Some(p)) => {
                out.push_str(&human_hit(p));
                out.push_str(&format!("  MISSING required artifacts: {}\n", p.missing.join(", ")));
            }
            (None, None) => out.push_str(&format!("{}: not found\n", s.group.name)),
        }
        out.push('\n');
    }
    out
}

fn human_hit(h: &Hit) -> String {
    let total: u64 = h.archives.iter().map(|(_, s)| s).sum();
    format!(
        "Artifact group {group}\n  Repository:   {repo}\n  Commit:       {sha}\n  Platform:     {platform}\n  Run:          {id} {status}\n  Run URL:      {url}\n  S3:           {uri}\n  Index:        {index}\n  Archives:     {n} ({size})\n",
        group = h.group.name,
        repo = h.repo.full(),
        sha = h.run.head_sha,
        platform = h.location.platform,
        id = h.run.id,
        status = h.run.status_text(),
        url = h.run.html_url.clone().unwrap_or_default(),
        uri = h.location.s3_uri(),
        index = h.location.index_url(),
        n = h.archives.len(),
        size = human_bytes(total),
    )
}

pub fn human_baseline(b: &Baseline) -> String {
    let mut out = String::new();
    if let Some(pin) = &b.therock_ref {
        out.push_str(&format!("{} pins {} {} (from {})\n", short_sha(&b.commit), b.found.repo.full(), pin, b.pin_source.as_deref().unwrap_or("?")));
    }
    if let Some(mb) = &b.merge_base {
        out.push_str(&format!("Merge-base of {} with the base branch: {}\n", short_sha(&b.commit), mb));
    }
    for r in &b.looked_at {
        out.push_str(&format!("  rejected {} (distance {}): {}\n", short_sha(&r.commit), r.distance, r.reason));
    }
    if b.found.found() {
        out.push_str(&format!(
            "Baseline for {}: {} {} (reason: {}, distance: {})\n\n",
            short_sha(&b.commit),
            b.found.repo.full(),
            b.found.commit.as_deref().unwrap_or("?"),
            b.reason.unwrap_or("?"),
            b.distance.unwrap_or(0)
        ));
        out.push_str(&human_found(&b.found));
    }
    out
}

fn short_sha(s: &str) -> &str {
    &s[..s.len().min(12)]
}
