//! `contains`, rendered: which TheRock commit bumped the submodule past the commit, its runs'
//! RESULT records (as `find`), and the first dev tarball built from it or later.

use serde::Serialize;
use serde_json::Value;

use super::json::{self, ResultRecord, Status};
use super::Render;
use crate::commands::contains::{ContainsReport, DEV_BUCKET};
use crate::domain::run::short_sha;

#[derive(Serialize)]
struct ReleaseDoc<'a> {
    version: &'a str,
    channel: &'static str,
    bucket: &'static str,
    key: String,
    s3_uri: String,
    size: u64,
    artifact_group: &'a str,
    platform: &'a str,
}

#[derive(Serialize)]
struct ContainsDoc<'a> {
    status: Status,
    repo: String,
    commit: &'a str,
    therock_repo: String,
    therock_commit: Option<&'a str>,
    therock_commit_subject: Option<&'a str>,
    therock_branch: &'a str,
    gitlink: Option<&'a str>,
    newest_gitlink: &'a str,
    results: Vec<ResultRecord<'a>>,
    release: Option<ReleaseDoc<'a>>,
    message: String,
}

fn sentence(c: &ContainsReport) -> String {
    match (&c.therock_commit, &c.gitlink) {
        (Some(t), Some(g)) => format!(
            "TheRock {} ({}) is the first commit on {} whose {} gitlink ({}) includes {}: it bumped the submodule past it",
            short_sha(&t.sha),
            t.subject.as_deref().unwrap_or(""),
            c.therock_branch,
            c.repo.name,
            short_sha(g),
            short_sha(&c.commit)
        ),
        _ => format!(
            "commit {} of {} is not in any TheRock {} commit yet: the newest gitlink, {}, does not include it",
            short_sha(&c.commit),
            c.repo,
            c.therock_branch,
            short_sha(&c.newest_gitlink)
        ),
    }
}

fn release(c: &ContainsReport) -> Option<ReleaseDoc<'_>> {
    let (t, size) = c.release.as_ref()?;
    let key = format!("v4/tarball/therock-dist-{}-{}-{}.tar.gz", t.platform, t.group, t.version);
    Some(ReleaseDoc {
        version: &t.version,
        channel: "dev",
        bucket: DEV_BUCKET,
        s3_uri: format!("s3://{DEV_BUCKET}/{key}"),
        key,
        size: *size,
        artifact_group: &t.group,
        platform: &t.platform,
    })
}

impl Render for ContainsReport {
    fn json(&self, server_url: &str) -> Value {
        json::value(&ContainsDoc {
            status: Status::of(self.therock_commit.is_some()),
            repo: self.repo.full(),
            commit: &self.commit,
            therock_repo: self.therock_repo.full(),
            therock_commit: self.therock_commit.as_ref().map(|t| t.sha.as_str()),
            therock_commit_subject: self.therock_commit.as_ref().and_then(|t| t.subject.as_deref()),
            therock_branch: &self.therock_branch,
            gitlink: self.gitlink.as_deref(),
            newest_gitlink: &self.newest_gitlink,
            results: self.found.as_ref().map(|f| json::results(f, server_url)).unwrap_or_default(),
            release: release(self),
            message: sentence(self),
        })
    }

    fn human(&self) -> String {
        let mut out = format!("{}.\n", super::format::upper_first(&sentence(self)));
        if let Some(f) = &self.found {
            for h in f.results() {
                out.push_str(&format!("  {}: run {} {}\n", h.group.name, h.run.id, h.location.s3_uri()));
            }
        }
        if let Some(r) = release(self) {
            out.push_str(&format!("  dev tarball {} ({})\n", r.version, r.s3_uri));
        }
        out
    }

    fn markdown(&self) -> String {
        format!("## Which TheRock build has {}\n\n{}.\n", short_sha(&self.commit), sentence(self))
    }

    fn message(&self) -> Option<String> {
        self.therock_commit.is_none().then(|| sentence(self))
    }
}
