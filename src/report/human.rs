//! The human text on stdout.

use crate::compare::{Comparison, Row};
use crate::domain::run::short_sha;
use crate::domain::select::{Found, Hit};
use crate::domain::units::human_bytes;
use crate::outcome::{Compared, FetchResult, Outcome};
use crate::resolve::Baseline;

pub fn found(f: &Found) -> String {
    let mut out = String::new();
    for s in &f.slots {
        match (&s.hit, &s.partial) {
            (Some(h), _) => out.push_str(&hit(h)),
            (None, Some(p)) => {
                out.push_str(&hit(p));
                out.push_str(&format!("  MISSING required artifacts: {}\n", p.missing.join(", ")));
            }
            (None, None) => out.push_str(&format!("{}: not found\n", s.group.name)),
        }
        out.push('\n');
    }
    out
}

fn hit(h: &Hit) -> String {
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

pub fn baseline(b: &Baseline) -> String {
    let mut out = String::new();
    if let Some(pin) = &b.therock_ref {
        out.push_str(&format!("{} pins {} {} (from {})\n", short_sha(&b.commit), b.found.repo.full(), pin, super::pin_source(b).unwrap_or_else(|| "?".into())));
        if let Some(built) = b.therock_commit_built.as_deref().filter(|c| *c != pin) {
            out.push_str(&format!("  but its newest run built against TheRock {built}\n"));
        }
    }
    if let Some(mb) = &b.merge_base {
        out.push_str(&format!("Merge-base of {} with the base branch: {}\n", short_sha(&b.commit), mb));
    }
    for r in &b.looked_at {
        out.push_str(&format!("  rejected {} (distance {}): {}\n", short_sha(&r.commit), r.distance, r.reason()));
    }
    if b.found.found() {
        out.push_str(&format!(
            "Baseline for {}: {} {} (reason: {}, distance: {})\n\n",
            short_sha(&b.commit),
            b.found.repo.full(),
            b.found.commit.as_deref().unwrap_or("?"),
            b.reason.map_or("?", |r| r.as_str()),
            b.distance.unwrap_or(0)
        ));
        out.push_str(&found(&b.found));
    }
    out
}

fn fetched(f: &Found, result: &FetchResult) -> String {
    match result {
        FetchResult::NotFound | FetchResult::NothingSelected => String::new(),
        FetchResult::DryRun { planned, .. } => {
            let total: u64 = planned.iter().map(|p| p.size).sum();
            let mut out = String::from("Would fetch:\n");
            for p in planned {
                out.push_str(&format!("  {:>10}  {}\n", human_bytes(p.size), p.name.filename));
            }
            out.push_str(&format!("  {:>10}  total, {} archives\n", human_bytes(total), planned.len()));
            out
        }
        FetchResult::Done(r) => {
            let mut out = found(f);
            out.push_str(&format!("Fetched {} archives into {}\n", r.archives.len(), r.output_dir.display()));
            out
        }
    }
}

pub fn fmt_delta(d: i64) -> String {
    let s = human_bytes(d.unsigned_abs());
    match d.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => "0".into(),
    }
}

pub fn fmt_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.2}%")).unwrap_or_default()
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

pub fn title(c: &Comparison) -> String {
    let (fc, tc) = (c.from.commit.clone().unwrap_or_default(), c.to.commit.clone().unwrap_or_default());
    format!("{} -> {}", short_sha(&fc), short_sha(&tc))
}

fn comparison(c: &Comparison) -> String {
    if c.markdown {
        return super::markdown::comparison(c);
    }
    let mut out = format!(
        "Artifact sizes {} ({}): total {} -> {} ({})\n\n",
        title(c),
        c.platform,
        human_bytes(c.total_from),
        human_bytes(c.total_to),
        fmt_delta(c.total_delta())
    );
    out.push_str(&table(&c.archives, "Archives (compressed):", usize::MAX));
    out.push('\n');
    out.push_str(&table(&c.totals_by_name, "Totals per artifact name:", usize::MAX));
    if let Some(files) = &c.files {
        out.push('\n');
        out.push_str(&table(files, "Files whose size changed most (uncompressed):", c.top));
    }
    out
}

/// The text a command prints on stdout without `--json`.
pub fn text(o: &Outcome) -> String {
    match o {
        Outcome::Found(f) => found(f),
        Outcome::Baseline(b) => baseline(b),
        Outcome::Fetched { resolved, result } => fetched(resolved.found(), result),
        Outcome::Compared(Compared::Done(c)) => comparison(c),
        Outcome::Compared(Compared::MissingSide { .. }) | Outcome::Executed(_) => String::new(),
        Outcome::Bisected(b) if b.markdown => super::markdown::summary(o),
        Outcome::Bisected(b) => super::bisect::human(b),
    }
}
