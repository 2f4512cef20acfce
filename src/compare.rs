//! Compare the artifacts of two commits (or runs): archive sizes, and with `--deep` the sizes
//! of the files inside, read from tar headers while streaming (nothing is extracted).

use anyhow::{anyhow, bail, Result};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use crate::config::Subject;
use crate::domain::artifacts::Compression;
use crate::fetch::{self, Cache, Counters, Planned};
use crate::report::human_bytes;
use crate::resolve::{Ctx, Found};
use crate::Outcome;

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Row {
    pub name: String,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub delta: i64,
    pub delta_percent: Option<f64>,
    pub change: &'static str,
}

/// Rows for two name->size maps, sorted by absolute delta (largest first), then name.
pub fn diff(from: &BTreeMap<String, u64>, to: &BTreeMap<String, u64>) -> Vec<Row> {
    let mut keys: Vec<&String> = from.keys().chain(to.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows: Vec<Row> = keys
        .into_iter()
        .map(|k| {
            let (a, b) = (from.get(k).copied(), to.get(k).copied());
            let delta = b.unwrap_or(0) as i64 - a.unwrap_or(0) as i64;
            Row {
                name: k.clone(),
                from: a,
                to: b,
                delta,
                delta_percent: match (a, b) {
                    (Some(a), Some(_)) if a > 0 => Some(((delta as f64 / a as f64) * 10000.0).round() / 100.0),
                    _ => None,
                },
                change: match (a, b) {
                    (None, Some(_)) => "added",
                    (Some(_), None) => "removed",
                    _ if delta == 0 => "same",
                    _ => "changed",
                },
            }
        })
        .collect();
    rows.sort_by(|x, y| y.delta.unsigned_abs().cmp(&x.delta.unsigned_abs()).then(x.name.cmp(&y.name)));
    rows
}

/// Archive sizes of one side, keyed by stem (so a .tar.xz -> .tar.zst switch is not add/remove).
fn archive_sizes(f: &Found) -> (BTreeMap<String, u64>, BTreeMap<String, Planned>) {
    let mut sizes = BTreeMap::new();
    let mut plans = BTreeMap::new();
    for s in &f.slots {
        let Some(h) = &s.hit else { continue };
        for (a, size) in &h.archives {
            sizes.insert(a.stem(), *size);
            let prefix = h.location.prefix();
            plans.insert(
                a.stem(),
                Planned {
                    name: a.clone(),
                    bucket: h.location.bucket.clone(),
                    key: format!("{prefix}{}", a.filename),
                    size: *size,
                    etag: h.listing.etags.get(&a.filename).cloned(),
                    sidecar_key: None,
                },
            );
        }
    }
    (sizes, plans)
}

/// Member path -> size of regular files, from the tar headers of one archive.
fn member_sizes(reader: Box<dyn Read + Send>, compression: Compression, name: &str, filter: &[regex::Regex]) -> Result<BTreeMap<String, u64>> {
    let dec: Box<dyn Read> = match compression {
        Compression::Zst => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
    };
    let mut ar = tar::Archive::new(dec);
    let mut out = BTreeMap::new();
    for e in ar.entries().map_err(|e| anyhow!("archive {name} could not be read: {e}"))? {
        let e = e.map_err(|e| anyhow!("archive {name} could not be read: {e}"))?;
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().map_err(|e| anyhow!("archive {name}: {e}"))?.to_string_lossy().into_owned();
        if path == fetch::extract::MANIFEST || (!filter.is_empty() && !filter.iter().any(|r| r.is_match(&path))) {
            continue;
        }
        out.insert(path, e.size());
    }
    Ok(out)
}

async fn deep_sizes(ctx: &Ctx, plans: &BTreeMap<String, Planned>, filter: &[regex::Regex]) -> Result<BTreeMap<String, u64>> {
    let cache = ctx.cfg.fetch.as_ref().and_then(|f| f.cache_dir.clone()).or_else(|| Some(crate::config::default_cache_dir())).map(Cache::new);
    let cache = Arc::new(cache);
    let mut all = BTreeMap::new();
    for p in plans.values() {
        let reader = fetch::open_stream(&ctx.loc.s3, p, cache.as_ref().as_ref(), Arc::new(Counters::default()));
        let (c, n, f) = (p.name.compression, p.name.filename.clone(), filter.to_vec());
        let sizes = tokio::task::spawn_blocking(move || member_sizes(reader, c, &n, &f)).await??;
        all.extend(sizes);
    }
    Ok(all)
}

fn totals_by_name(rows: &[Row]) -> Vec<Row> {
    let mut from: BTreeMap<String, u64> = BTreeMap::new();
    let mut to: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows {
        let name = r.name.split('_').next().unwrap_or(&r.name).to_string();
        if let Some(a) = r.from {
            *from.entry(name.clone()).or_default() += a;
        }
        if let Some(b) = r.to {
            *to.entry(name).or_default() += b;
        }
    }
    diff(&from, &to)
}

fn fmt_delta(d: i64) -> String {
    let s = human_bytes(d.unsigned_abs());
    if d > 0 {
        format!("+{s}")
    } else if d < 0 {
        format!("-{s}")
    } else {
        "0".into()
    }
}

fn fmt_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.2}%")).unwrap_or_else(|| "".into())
}

fn table(rows: &[Row], title: &str, limit: usize) -> String {
    let mut out = format!("{title}\n");
    let w = rows.iter().take(limit).map(|r| r.name.len()).max().unwrap_or(4).max(4);
    out.push_str(&format!("  {:<w$}  {:>12}  {:>12}  {:>12}  {:>9}  {}\n", "name", "from", "to", "delta", "delta %", "change"));
    let opt = |v: Option<u64>| v.map(human_bytes).unwrap_or_else(|| "-".into());
    for r in rows.iter().take(limit) {
        out.push_str(&format!(
            "  {:<w$}  {:>12}  {:>12}  {:>12}  {:>9}  {}\n",
            r.name,
            opt(r.from),
            opt(r.to),
            fmt_delta(r.delta),
            fmt_pct(r.delta_percent),
            r.change
        ));
    }
    if rows.len() > limit {
        out.push_str(&format!("  ... {} more\n", rows.len() - limit));
    }
    out
}

fn markdown(rows: &[Row], title: &str, limit: usize) -> String {
    let mut out = format!("### {title}\n\n| name | from | to | delta | delta % | change |\n|---|---:|---:|---:|---:|---|\n");
    let opt = |v: Option<u64>| v.map(human_bytes).unwrap_or_else(|| "-".into());
    for r in rows.iter().take(limit) {
        out.push_str(&format!("| `{}` | {} | {} | {} | {} | {} |\n", r.name, opt(r.from), opt(r.to), fmt_delta(r.delta), fmt_pct(r.delta_percent), r.change));
    }
    if rows.len() > limit {
        out.push_str(&format!("\n{} more rows not shown.\n", rows.len() - limit));
    }
    out.push('\n');
    out
}

fn side_name(s: &Subject) -> String {
    match s {
        Subject::Commit { sha, .. } => sha[..sha.len().min(12)].to_string(),
        Subject::RunId(id) => format!("run {id}"),
        Subject::Pr(n) => format!("PR #{n}"),
    }
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let opts = ctx.cfg.compare.clone().ok_or_else(|| anyhow!("compare options missing"))?;
    let from_subject = ctx.cfg.subject.clone().ok_or_else(|| anyhow!("compare needs --from"))?;
    if let Some(tp) = &opts.to_platform {
        if *tp != ctx.cfg.platform {
            bail!("cannot compare {} artifacts with {} artifacts: both sides must be of one platform", ctx.cfg.platform, tp);
        }
    }
    let from = ctx.find_subject(from_subject.clone()).await?;
    let to = ctx.find_subject(opts.to.clone()).await?;
    for (side, f, s) in [("from", &from, &from_subject), ("to", &to, &opts.to)] {
        if !f.found() {
            let missing: Vec<&str> = f.slots.iter().filter(|s| s.hit.is_none()).map(|s| s.group.name.as_str()).collect();
            let mut doc = serde_json::Map::new();
            doc.insert("status".into(), json!("not_found"));
            doc.insert("results".into(), json!([]));
            doc.insert("missing_side".into(), json!(side));
            let msg = format!(
                "the '{side}' side ({}) has no artifacts for {}{}",
                side_name(s),
                missing.join(", "),
                f.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
            );
            doc.insert("message".into(), json!(msg));
            return Ok(Outcome { found: false, doc, human: String::new(), summary: format!("## TheRock artifact comparison\n\n{msg}\n"), message: Some(msg) });
        }
    }
    let (fa, fplans) = archive_sizes(&from);
    let (ta, tplans) = archive_sizes(&to);
    let rows = diff(&fa, &ta);
    let by_name = totals_by_name(&rows);
    let total_from: u64 = fa.values().sum();
    let total_to: u64 = ta.values().sum();
    let total_delta = total_to as i64 - total_from as i64;
    let (fc, tc) = (from.commit.clone().unwrap_or_default(), to.commit.clone().unwrap_or_default());
    let title = format!("{} -> {}", &fc[..fc.len().min(12)], &tc[..tc.len().min(12)]);
    let mut comparison = json!({
        "from": {"commit": fc, "run_ids": run_ids(&from)},
        "to": {"commit": tc, "run_ids": run_ids(&to)},
        "platform": ctx.cfg.platform.as_str(),
        "archives": rows,
        "totals_by_name": by_name,
        "total": {"from": total_from, "to": total_to, "delta": total_delta,
                  "delta_percent": if total_from > 0 { Some(((total_delta as f64 / total_from as f64) * 10000.0).round() / 100.0) } else { None }},
    });
    let mut human = format!(
        "Artifact sizes {title} ({}): total {} -> {} ({})\n\n",
        ctx.cfg.platform,
        human_bytes(total_from),
        human_bytes(total_to),
        fmt_delta(total_delta)
    );
    human.push_str(&table(&rows, "Archives (compressed):", usize::MAX));
    human.push('\n');
    human.push_str(&table(&by_name, "Totals per artifact name:", usize::MAX));
    let mut md =
        format!("## TheRock artifact comparison {title}\n\nTotal: {} -> {} ({})\n\n", human_bytes(total_from), human_bytes(total_to), fmt_delta(total_delta));
    md.push_str(&markdown(&rows, "Archives", 200));
    md.push_str(&markdown(&by_name, "Totals per artifact name", 200));
    if opts.deep {
        let ff = deep_sizes(ctx, &fplans, &opts.filter).await?;
        let tf = deep_sizes(ctx, &tplans, &opts.filter).await?;
        let files = diff(&ff, &tf);
        let changed: Vec<Row> = files.into_iter().filter(|r| r.change != "same").collect();
        human.push('\n');
        human.push_str(&table(&changed, "Files whose size changed most (uncompressed):", opts.top));
        md.push_str(&markdown(&changed, "Files whose size changed most", opts.top));
        comparison["files"] = json!(changed);
    }
    let mut doc = serde_json::Map::new();
    doc.insert("status".into(), json!("found"));
    let mut results = crate::report::found_doc(&from)["results"].as_array().cloned().unwrap_or_default();
    results.extend(crate::report::found_doc(&to)["results"].as_array().cloned().unwrap_or_default());
    doc.insert("results".into(), json!(results));
    doc.insert("comparison".into(), comparison);
    if opts.markdown {
        human = md.clone();
    }
    Ok(Outcome { found: true, doc, human, summary: md, message: None })
}

fn run_ids(f: &Found) -> Vec<String> {
    let mut ids: Vec<String> = f.slots.iter().filter_map(|s| s.hit.as_ref()).map(|h| h.run.id.to_string()).collect();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_sorts_by_absolute_delta() {
        let a: BTreeMap<String, u64> = [("x".to_string(), 100), ("y".to_string(), 50), ("gone".to_string(), 10)].into();
        let b: BTreeMap<String, u64> = [("x".to_string(), 90), ("y".to_string(), 150), ("new".to_string(), 30)].into();
        let rows = diff(&a, &b);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["y", "new", "gone", "x"]);
        assert_eq!(rows[0].delta_percent, Some(200.0));
        assert_eq!(rows[1].change, "added");
        assert_eq!(rows[2].change, "removed");
        assert_eq!(rows[3].delta, -10);
    }
}
