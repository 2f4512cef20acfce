//! `find --release` / `fetch --release`: a ROCm release tarball (therock-facts.md 5e). The
//! version's shape names the bucket; `latest` lists the nightly bucket's tarballs of the
//! platform (one S3 listing per 1,000 keys, no GitHub request) and takes the newest for the
//! group. A fetch runs the tarball through the same pipeline as CI archives (cache, sidecar,
//! bounded decoder, hostile-member rules, journaled commit), its whole tree into the output.

use anyhow::Result;
use std::path::PathBuf;

use super::App;
use crate::config::{ExtractMode, FetchOptions, ReleaseOptions};
use crate::domain::artifacts::{ArtifactName, Compression};
use crate::domain::buckets::Platform;
use crate::domain::release::{self, Channel, Listed, TarballName, Wanted};
use crate::fetch::{self, FetchReport, Planned};
use crate::s3::S3Error;

/// One tarball on S3.
#[derive(Debug, Clone)]
pub struct Tarball {
    pub name: TarballName,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// A `.sha256sum` lies beside it.
    pub sidecar: bool,
}

impl Tarball {
    pub fn s3_uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn planned(&self) -> Planned {
        let n = &self.name;
        let name = ArtifactName {
            filename: n.filename.clone(),
            name: "therock-dist".into(),
            component: if n.tests { "tests".into() } else { "dist".into() },
            target: n.group.clone(),
            compression: Compression::Gz,
        };
        let sidecar_key = self.sidecar.then(|| format!("{}.sha256sum", self.key));
        Planned { name, bucket: self.bucket.clone(), key: self.key.clone(), size: self.size, etag: self.etag.clone(), sidecar_key, whole: true }
    }
}

#[derive(Debug, Clone)]
pub enum ReleaseFetch {
    DryRun { output_dir: PathBuf, extract: ExtractMode, planned: Vec<Planned> },
    Done(FetchReport),
}

/// What `find --release` / `fetch --release` concluded.
#[derive(Debug, Clone)]
pub struct Released {
    pub group: String,
    pub platform: Platform,
    /// `latest` or the version asked for.
    pub asked: String,
    pub channel: Channel,
    pub tarball: Option<Tarball>,
    /// `--tests`: the `-tests` sibling (asked for, and `None` when missing).
    pub tests: Option<Option<Tarball>>,
    /// Why nothing matched, naming what is there.
    pub missing: Option<String>,
    pub fetched: Option<ReleaseFetch>,
}

/// Lists `{prefix}{names}` in `bucket`: every object's full filename. A bucket that does not
/// exist holds nothing.
async fn list(app: &App, bucket: &str, prefix: &str, names: &str) -> Result<Vec<Listed>> {
    let at = format!("{prefix}{names}");
    let (mut listed, pages) = match app.s3().list_dated(bucket, &at).await {
        Err(S3Error::NoSuchBucket(_)) => (Vec::new(), 1),
        other => other?,
    };
    app.count_listings(pages.into());
    for l in &mut listed {
        l.filename = format!("{names}{}", l.filename);
    }
    Ok(listed)
}

fn tarball(listed: &[Listed], filename: &str, bucket: &str, prefix: &str) -> Option<Tarball> {
    let l = listed.iter().find(|l| l.filename == filename)?;
    Some(Tarball {
        name: TarballName::parse(filename)?,
        bucket: bucket.to_string(),
        key: format!("{prefix}{filename}"),
        size: l.size,
        etag: l.etag.clone(),
        sidecar: release::has_sidecar(listed, filename),
    })
}

pub async fn run(app: &App, o: &ReleaseOptions) -> Result<Released> {
    let platform = app.platform();
    let (group, prefix) = (o.group.as_str(), o.prefix.as_str());
    let (asked, channel) = match &o.wanted {
        Wanted::Latest => ("latest".to_string(), Channel::Nightly),
        Wanted::Exact(v) => (v.text.clone(), v.channel),
    };
    let bucket = channel.bucket();
    let everything = release::platform_prefix("", platform);
    let mut out = Released { group: group.into(), platform, asked, channel, tarball: None, tests: None, missing: None, fetched: None };
    let (main, sibling) = match &o.wanted {
        Wanted::Latest => {
            let listed = list(app, bucket, prefix, &everything).await?;
            let Some((_, name)) = release::latest(&listed, platform, group) else {
                out.missing = Some(format!(
                    "no nightly for {group} on {platform} in s3://{bucket}/{prefix}: {}",
                    release::what_is_there(&listed, platform, group, channel)
                ));
                return Ok(out);
            };
            let sibling = release::tarball_filename(platform, group, true, &name.version.text);
            (tarball(&listed, &name.filename, bucket, prefix), o.tests.then(|| tarball(&listed, &sibling, bucket, prefix)))
        }
        Wanted::Exact(v) => {
            let file = release::tarball_filename(platform, group, false, &v.text);
            let listed = list(app, bucket, prefix, file.trim_end_matches(".tar.gz")).await?;
            let main = tarball(&listed, &file, bucket, prefix);
            if main.is_none() {
                let there = list(app, bucket, prefix, &everything).await?;
                out.missing = Some(format!("s3://{bucket}/{prefix}{file} does not exist: {}", release::what_is_there(&there, platform, group, channel)));
                return Ok(out);
            }
            let sibling = match o.tests {
                true => {
                    let file = release::tarball_filename(platform, group, true, &v.text);
                    Some(tarball(&list(app, bucket, prefix, file.trim_end_matches(".tar.gz")).await?, &file, bucket, prefix))
                }
                false => None,
            };
            (main, sibling)
        }
    };
    out.tarball = main;
    out.tests = sibling;
    if let (Some(t), Some(None)) = (&out.tarball, &out.tests) {
        out.missing = Some(format!("{} has no -tests tarball beside it in s3://{bucket}/{prefix}", t.name.filename));
        return Ok(out);
    }
    if let Some(f) = &o.fetch {
        out.fetched = Some(fetch_tarballs(app, &out, f).await?);
    }
    Ok(out)
}

async fn fetch_tarballs(app: &App, r: &Released, opts: &FetchOptions) -> Result<ReleaseFetch> {
    let planned: Vec<Planned> = r.tarball.iter().chain(r.tests.iter().flatten()).map(Tarball::planned).collect();
    if opts.dry_run {
        return Ok(ReleaseFetch::DryRun { output_dir: opts.output_dir.clone(), extract: opts.pick.extract, planned });
    }
    let out_dir = fetch::prepare_output(&opts.output_dir, opts.force)?;
    let origin = fetch::Origin {
        release: r.tarball.as_ref().map(|t| t.name.filename.clone()),
        repository: r.tarball.as_ref().map(|t| format!("s3://{}", t.planned().bucket)).unwrap_or_default(),
        ..fetch::Origin::default()
    };
    let req = fetch::Request { mode: opts.pick.extract, verify: opts.verify, cache_dir: opts.cache_dir.clone(), origin, mixing: opts.mixing };
    let report = fetch::run(planned, app.s3(), &req, out_dir, app.limits()).await?;
    for a in &report.archives {
        crate::say!("{} {}", a.filename, verification(a.verified));
    }
    crate::say!("fetched {} into {}", r.tarball.as_ref().map(|t| t.name.version.text.as_str()).unwrap_or_default(), report.output_dir.display());
    Ok(ReleaseFetch::Done(report))
}

/// How a fetched tarball was verified: against its sidecar, or (without one, or with
/// `--no-verify`) only by the listed size and ETag every download is pinned to.
pub fn verification(verified: bool) -> &'static str {
    if verified {
        "verified against its .sha256sum sidecar"
    } else {
        "checked by size and ETag only (no .sha256sum sidecar was checked)"
    }
}

impl super::Conclusion for Released {
    fn found(&self) -> bool {
        self.tarball.is_some() && self.missing.is_none()
    }
    fn artifact_names(&self) -> Vec<String> {
        self.tarball.iter().chain(self.tests.iter().flatten()).map(|t| t.name.filename.clone()).collect()
    }
    fn output_dir(&self) -> Option<&std::path::Path> {
        match &self.fetched {
            Some(ReleaseFetch::Done(r)) => Some(&r.output_dir),
            Some(ReleaseFetch::DryRun { output_dir, .. }) => Some(output_dir),
            None => None,
        }
    }
}
