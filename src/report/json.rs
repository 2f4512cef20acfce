//! The JSON documents of interface.md.

use serde_json::{json, Map, Value};

use super::message;
use crate::compare::Comparison;
use crate::domain::select::{Found, Hit};
use crate::fetch::FetchReport;
use crate::outcome::{Compared, FetchResult, Outcome};
use crate::resolve::Baseline;

/// One RESULT record (keys of upstream's `find_artifacts_for_commit.py --json`, plus a few).
pub fn result_record(h: &Hit, server_url: &str) -> Value {
    let loc = &h.location;
    let commit = &h.run.head_sha;
    let total: u64 = h.archives.iter().map(|(_, s)| s).sum();
    json!({
        "git_commit_sha": commit,
        "git_commit_url": format!("{server_url}/{}/commit/{commit}", h.repo.full()),
        "github_repository_name": h.repo.full(),
        "external_repo": loc.external_repo,
        "platform": loc.platform.as_str(),
        "artifact_group": h.group.name,
        "amdgpu_targets": h.group.targets,
        "workflow_file_name": h.run.workflow_file(),
        "workflow_run_id": h.run.id.to_string(),
        "workflow_run_status": h.run.status.name().unwrap_or("unknown"),
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
        "therock_commit": h.therock_commit,
    })
}

fn results(f: &Found, server_url: &str) -> Vec<Value> {
    f.results()
        .map(|h| {
            let mut r = result_record(h, server_url);
            if r["workflow_file_name"].is_null() {
                r["workflow_file_name"] = json!(f.workflow);
            }
            r
        })
        .collect()
}

pub fn found_doc(f: &Found, server_url: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(if f.found() { "found" } else { "not_found" }));
    m.insert("results".into(), Value::Array(results(f, server_url)));
    m.insert("missing_artifact_groups".into(), json!(f.missing_groups()));
    if let Some(n) = &f.note {
        m.insert("message".into(), json!(n));
    }
    m
}

pub fn baseline_doc(b: &Baseline, server_url: &str) -> Map<String, Value> {
    let mut m = found_doc(&b.found, server_url);
    m.insert("commit".into(), json!(b.commit));
    m.insert("baseline_commit".into(), json!(b.found.commit.as_ref().filter(|_| b.found.found())));
    m.insert("baseline_repository".into(), json!(b.found.repo.full()));
    m.insert("reason".into(), json!(b.reason));
    m.insert("distance".into(), json!(b.distance));
    m.insert("therock_ref".into(), json!(b.therock_ref));
    m.insert("therock_ref_source".into(), json!(b.pin_source));
    m.insert("pin_source".into(), json!(super::pin_source(b)));
    m.insert("therock_commit".into(), json!(b.therock_commit_built));
    m.insert("merge_base".into(), json!(b.merge_base));
    m.insert("baseline_run_id_hint".into(), json!(b.baseline_run_id_hint));
    m.insert("looked_at".into(), json!(b.looked_at));
    m
}

fn fetch_fields(m: &mut Map<String, Value>, r: &FetchReport) {
    m.insert("output_dir".into(), json!(r.output_dir.display().to_string()));
    m.insert("extract".into(), json!(r.extract.as_str()));
    m.insert("downloaded_bytes".into(), json!(r.downloaded));
    m.insert("cached_bytes".into(), json!(r.from_cache));
    m.insert("extracted_bytes".into(), json!(r.extracted));
    m.insert("total_bytes".into(), json!(r.total));
    m.insert("elapsed_seconds".into(), json!((r.elapsed_seconds * 1000.0).round() / 1000.0));
    m.insert("archives".into(), json!(r.archives));
    if let Some((dir, size)) = &r.cache {
        m.insert("cache_dir".into(), json!(dir.display().to_string()));
        m.insert("cache_size_bytes".into(), json!(size));
    }
}

fn comparison_doc(c: &Comparison, server_url: &str) -> Map<String, Value> {
    let run_ids = |f: &Found| {
        let mut ids: Vec<String> = f.slots.iter().filter_map(|s| s.hit.as_ref()).map(|h| h.run.id.to_string()).collect();
        ids.dedup();
        ids
    };
    let mut comparison = json!({
        "from": {"commit": c.from.commit.clone().unwrap_or_default(), "run_ids": run_ids(&c.from)},
        "to": {"commit": c.to.commit.clone().unwrap_or_default(), "run_ids": run_ids(&c.to)},
        "platform": c.platform.as_str(),
        "archives": c.archives,
        "totals_by_name": c.totals_by_name,
        "total": {"from": c.total_from, "to": c.total_to, "delta": c.total_delta(),
                  "delta_percent": crate::compare::percent(c.total_delta(), c.total_from)},
    });
    if let Some(files) = &c.files {
        comparison["files"] = json!(files);
    }
    let mut all = results(&c.from, server_url);
    all.extend(results(&c.to, server_url));
    let mut m = Map::new();
    m.insert("status".into(), json!("found"));
    m.insert("results".into(), json!(all));
    m.insert("comparison".into(), comparison);
    m
}

/// The one JSON document a command prints with `--json` (and the action's `results` output).
pub fn document(o: &Outcome, server_url: &str) -> Value {
    let m = match o {
        Outcome::Found(f) => found_doc(f, server_url),
        Outcome::Baseline(b) => baseline_doc(b, server_url),
        Outcome::Fetched { resolved, result } => {
            let mut m = match resolved.baseline() {
                Some(b) => baseline_doc(b, server_url),
                None => found_doc(resolved.found(), server_url),
            };
            match result {
                FetchResult::NotFound => {}
                FetchResult::NothingSelected => {
                    m.insert("status".into(), json!("not_found"));
                }
                FetchResult::DryRun { output_dir, extract, planned } => {
                    let archives: Vec<Value> = planned
                        .iter()
                        .map(|p| json!({"filename": p.name.filename, "size": p.size, "sha256": null, "verified": false, "cached": false}))
                        .collect();
                    m.insert("output_dir".into(), json!(output_dir.display().to_string()));
                    m.insert("extract".into(), json!(extract.as_str()));
                    m.insert("dry_run".into(), json!(true));
                    m.insert("downloaded_bytes".into(), json!(0));
                    m.insert("total_bytes".into(), json!(planned.iter().map(|p| p.size).sum::<u64>()));
                    m.insert("archives".into(), json!(archives));
                }
                FetchResult::Done(r) => fetch_fields(&mut m, r),
            }
            m
        }
        Outcome::Compared(Compared::Done(c)) => comparison_doc(c, server_url),
        Outcome::Bisected(b) => super::bisect::json(b),
        Outcome::Executed(e) => super::bisect::exec_json(e),
        Outcome::Compared(Compared::MissingSide { side, .. }) => {
            let mut m = Map::new();
            m.insert("status".into(), json!("not_found"));
            m.insert("results".into(), json!([]));
            m.insert("missing_side".into(), json!(side));
            m.insert("message".into(), json!(message(o)));
            m
        }
    };
    Value::Object(m)
}

/// The document printed with `--json` when the command failed.
pub fn error_document(msg: &str) -> Value {
    json!({"status": "error", "results": [], "error": msg})
}
