//! `find --release` / `fetch --release`, rendered: `{"status", "release": {...}}` (interface.md),
//! and for a fetch the keys `fetch` has (`output_dir`, `downloaded_bytes`, `archives`).

use serde::Serialize;
use serde_json::Value;

use super::format::code;
use super::json::{self, Status};
use super::Render;
use crate::commands::release::{verification, ReleaseFetch, Released, Tarball};
use crate::domain::units::human_bytes;

#[derive(Serialize)]
struct TarballDoc<'a> {
    version: &'a str,
    channel: &'static str,
    bucket: &'a str,
    key: &'a str,
    s3_uri: String,
    size: u64,
    artifact_group: &'a str,
    platform: &'static str,
    filename: &'a str,
    /// A `.sha256sum` lies beside it (a fetch verifies against it).
    sidecar: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<Box<TarballDoc<'a>>>,
}

impl<'a> TarballDoc<'a> {
    fn new(t: &'a Tarball, tests: Option<&'a Tarball>) -> Self {
        TarballDoc {
            version: &t.name.version.text,
            channel: t.name.version.channel.as_str(),
            bucket: &t.bucket,
            key: &t.key,
            s3_uri: t.s3_uri(),
            size: t.size,
            artifact_group: &t.name.group,
            platform: t.name.platform.as_str(),
            filename: &t.name.filename,
            sidecar: t.sidecar,
            tests: tests.map(|s| Box::new(TarballDoc::new(s, None))),
        }
    }
}

#[derive(Serialize)]
struct ArchiveDoc<'a> {
    filename: &'a str,
    size: u64,
    sha256: Option<String>,
    verified: bool,
    /// `sidecar` or `size+etag`.
    verification: &'static str,
    cached: bool,
}

#[derive(Serialize)]
struct ReleaseDoc<'a> {
    status: Status,
    asked: &'a str,
    artifact_group: &'a str,
    platform: &'static str,
    release: Option<TarballDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extract: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dry_run: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    downloaded_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cached_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archives: Option<Vec<ArchiveDoc<'a>>>,
}

fn doc(r: &Released) -> ReleaseDoc<'_> {
    let found = crate::commands::Conclusion::found(r);
    let mut d = ReleaseDoc {
        status: Status::of(found),
        asked: &r.asked,
        artifact_group: &r.group,
        platform: r.platform.as_str(),
        release: r.tarball.as_ref().map(|t| TarballDoc::new(t, r.tests.as_ref().and_then(|s| s.as_ref()))),
        message: r.missing.as_deref(),
        output_dir: None,
        extract: None,
        dry_run: None,
        downloaded_bytes: None,
        cached_bytes: None,
        archives: None,
    };
    match &r.fetched {
        Some(ReleaseFetch::DryRun { output_dir, extract, planned }) => {
            (d.output_dir, d.extract, d.dry_run, d.downloaded_bytes) = (Some(output_dir.display().to_string()), Some(extract.as_str()), Some(true), Some(0));
            d.archives = Some(
                planned
                    .iter()
                    .map(|p| ArchiveDoc {
                        filename: &p.name.filename,
                        size: p.size,
                        sha256: None,
                        verified: false,
                        verification: kind(p.sidecar_key.is_some()),
                        cached: false,
                    })
                    .collect(),
            );
        }
        Some(ReleaseFetch::Done(f)) => {
            (d.output_dir, d.extract, d.downloaded_bytes, d.cached_bytes) =
                (Some(f.output_dir.display().to_string()), Some(f.extract.as_str()), Some(f.downloaded), Some(f.from_cache));
            d.archives = Some(
                f.archives
                    .iter()
                    .map(|a| ArchiveDoc {
                        filename: &a.filename,
                        size: a.size,
                        sha256: Some(a.sha256.as_str().to_string()),
                        verified: a.verified,
                        verification: kind(a.verified),
                        cached: a.cached,
                    })
                    .collect(),
            );
        }
        None => {}
    }
    d
}

fn kind(sidecar: bool) -> &'static str {
    if sidecar {
        "sidecar"
    } else {
        "size+etag"
    }
}

fn line(t: &Tarball) -> String {
    format!("{}  {}  {}\n", t.name.version.text, human_bytes(t.size), t.s3_uri())
}

impl Render for Released {
    fn json(&self, _server_url: &str) -> Value {
        json::value(&doc(self))
    }

    fn human(&self) -> String {
        let Some(t) = &self.tarball else { return String::new() };
        let mut out = format!("{} {} release for {} ({}):\n", self.channel.as_str(), t.name.version.text, self.group, self.platform);
        out.push_str(&format!("  {}", line(t)));
        if let Some(Some(s)) = &self.tests {
            out.push_str(&format!("  tests: {}", line(s)));
        }
        match &self.fetched {
            Some(ReleaseFetch::DryRun { .. }) => out.push_str("Would fetch it (dry run).\n"),
            Some(ReleaseFetch::Done(f)) => {
                for a in &f.archives {
                    out.push_str(&format!("Fetched {} into {}: {}\n", a.filename, f.output_dir.display(), verification(a.verified)));
                }
            }
            None => {}
        }
        out
    }

    fn markdown(&self) -> String {
        let Some(t) = &self.tarball else { return format!("**No release tarball.** {}\n", self.missing.as_deref().unwrap_or_default()) };
        let mut md =
            format!("### ROCm {} {} for `{}` ({})\n\n| tarball | size |\n|---|---:|\n", self.channel.as_str(), t.name.version.text, self.group, self.platform);
        for t in self.tarball.iter().chain(self.tests.iter().flatten()) {
            md.push_str(&format!("| {} | {} |\n", code(&t.name.filename), human_bytes(t.size)));
        }
        if let Some(ReleaseFetch::Done(f)) = &self.fetched {
            for a in &f.archives {
                md.push_str(&format!("\n{}: {}.\n", code(&a.filename), verification(a.verified)));
            }
        }
        md
    }

    fn message(&self) -> Option<String> {
        self.missing.clone()
    }
}
