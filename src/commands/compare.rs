//! Compare the artifacts of two commits (or runs): archive sizes, and with `--deep` the sizes
//! of the files inside, read from tar headers while streaming (nothing is extracted).

use crate::resolve;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use super::App;
use crate::config::{CompareOptions, Subject};
use crate::domain::artifacts::Compression;
use crate::domain::buckets::Platform;
use crate::domain::select::Found;
use crate::fetch::download::Download;
use crate::fetch::{decode, extract, Cache, Counters, Planned, Settings};
use crate::s3::S3;

/// How one name's size changed between the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Same,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Same => "same",
            Change::Changed => "changed",
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    From,
    To,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::From => "from",
            Side::To => "to",
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Row {
    pub name: String,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub delta: i64,
    pub delta_percent: Option<f64>,
    pub change: Change,
}

/// Both sides found and measured.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub from: Found,
    pub to: Found,
    pub platform: Platform,
    /// Per archive (by stem), sorted by absolute delta.
    pub archives: Vec<Row>,
    pub totals_by_name: Vec<Row>,
    pub total_from: u64,
    pub total_to: u64,
    /// With `--deep`: files whose size changed, sorted by absolute delta.
    pub files: Option<Vec<Row>>,
    /// `--top`: how many changed files a rendering shows.
    pub top: usize,
    /// `--top` as given (it limits every table), and `--all` (unchanged archives shown).
    pub top_given: Option<usize>,
    pub all: bool,
}

/// What `compare` concluded.
#[derive(Debug, Clone)]
pub enum Compared {
    /// One side has no artifacts.
    MissingSide {
        side: Side,
        subject: Subject,
        found: Found,
    },
    Done(Box<Comparison>),
}

pub async fn run(app: &App, from: &Subject, to: &Subject, options: &CompareOptions) -> Result<Compared> {
    let r = app.resolver();
    let (from_found, to_found) = (resolve::find(&r, from).await?, resolve::find(&r, to).await?);
    for (side, found, subject) in [(Side::From, &from_found, from), (Side::To, &to_found, to)] {
        if !found.found() {
            return Ok(Compared::MissingSide { side, subject: subject.clone(), found: found.clone() });
        }
    }
    let c = compare(from_found, to_found, app.s3(), options, app.platform(), app.settings()).await?;
    Ok(Compared::Done(Box::new(c)))
}

impl Comparison {
    pub fn total_delta(&self) -> i64 {
        self.total_to as i64 - self.total_from as i64
    }
}

/// `delta / from` in percent, to two decimals; `None` when `from` is zero.
pub fn percent(delta: i64, from: u64) -> Option<f64> {
    (from > 0).then(|| ((delta as f64 / from as f64) * 10000.0).round() / 100.0)
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
                    (Some(a), Some(_)) => percent(delta, a),
                    _ => None,
                },
                change: match (a, b) {
                    (None, Some(_)) => Change::Added,
                    (Some(_), None) => Change::Removed,
                    _ if delta == 0 => Change::Same,
                    _ => Change::Changed,
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
    for h in f.slots.iter().filter_map(|s| s.hit.as_ref()) {
        for (a, size) in &h.archives {
            sizes.insert(a.stem(), *size);
            plans.insert(a.stem(), Planned { sidecar_key: None, ..Planned::from_hit(h, a, *size) });
        }
    }
    (sizes, plans)
}

/// Member path -> size of regular files, from the tar headers of one archive.
fn member_sizes(reader: Box<dyn Read + Send>, compression: Compression, name: &str, filter: &[regex::Regex]) -> Result<BTreeMap<String, u64>> {
    let mut ar = tar::Archive::new(decode::decoder(reader, compression)?);
    let mut out = BTreeMap::new();
    for e in ar.entries().map_err(|e| anyhow!("archive {name} could not be read: {e}"))? {
        let e = e.map_err(|e| anyhow!("archive {name} could not be read: {e}"))?;
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().map_err(|e| anyhow!("archive {name}: {e}"))?.to_string_lossy().into_owned();
        if path == extract::MANIFEST || (!filter.is_empty() && !filter.iter().any(|r| r.is_match(&path))) {
            continue;
        }
        out.insert(path, e.size());
    }
    Ok(out)
}

/// File sizes inside one side's archives: read from the cache when it has them, else streamed.
async fn deep_sizes(s3: &S3, cache: &Cache, plans: &BTreeMap<String, Planned>, filter: &[regex::Regex], settings: Settings) -> Result<BTreeMap<String, u64>> {
    let mut all = BTreeMap::new();
    for p in plans.values() {
        let reader: Box<dyn Read + Send> = match cache.lookup(p.cache_key(), None).and_then(|(b, _)| std::fs::File::open(b).ok()) {
            Some(f) => Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
            None => Box::new(Download::start(s3.clone(), p.clone(), Arc::new(Counters::default()), settings, None).reader),
        };
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

/// Measures both sides (both found).
async fn compare(from: Found, to: Found, s3: &S3, opts: &CompareOptions, platform: Platform, settings: Settings) -> Result<Comparison> {
    let (fa, fplans) = archive_sizes(&from);
    let (ta, tplans) = archive_sizes(&to);
    let archives = diff(&fa, &ta);
    let files = if opts.deep {
        let cache = Cache::new(opts.cache_dir.clone());
        let ff = deep_sizes(s3, &cache, &fplans, &opts.filter, settings).await?;
        let tf = deep_sizes(s3, &cache, &tplans, &opts.filter, settings).await?;
        Some(diff(&ff, &tf).into_iter().filter(|r| r.change != Change::Same).collect())
    } else {
        None
    };
    Ok(Comparison {
        totals_by_name: totals_by_name(&archives),
        archives,
        total_from: fa.values().sum(),
        total_to: ta.values().sum(),
        from,
        to,
        platform,
        files,
        top: opts.top,
        top_given: opts.top_given,
        all: opts.all,
    })
}

impl super::Conclusion for Compared {
    fn found(&self) -> bool {
        matches!(self, Compared::Done(_))
    }
    fn results(&self) -> Vec<&crate::domain::select::Hit> {
        match self {
            Compared::Done(c) => c.from.results().chain(c.to.results()).collect(),
            Compared::MissingSide { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sort_by_absolute_delta_and_name_additions_and_removals() {
        let a: BTreeMap<String, u64> = [("x".to_string(), 100), ("y".to_string(), 50), ("gone".to_string(), 10)].into();
        let b: BTreeMap<String, u64> = [("x".to_string(), 90), ("y".to_string(), 150), ("new".to_string(), 30)].into();
        let rows = diff(&a, &b);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["y", "new", "gone", "x"]);
        assert_eq!(rows[0].delta_percent, Some(200.0));
        assert_eq!(rows[1].change, Change::Added);
        assert_eq!(rows[2].change, Change::Removed);
        assert_eq!(rows[3].delta, -10);
    }
}
