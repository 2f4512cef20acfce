//! `exec`: fetch one commit's artifacts and run a command on them, for `git bisect run`
//! (a commit without artifacts exits 125, which `git bisect run` reads as "skip").

use crate::resolve;
use anyhow::Result;

use super::runner::{first_run_id, Workdir};
use super::App;
use crate::config::ExecOptions;
use crate::domain::run::short_sha;
use crate::exit::{ExitStatus, UNTESTABLE};

/// What `exec` did.
#[derive(Debug, Clone)]
pub struct ExecReport {
    pub commit: String,
    pub run_id: Option<u64>,
    /// The command's exit status passed on (125 when the commit has no artifacts).
    pub status: ExitStatus,
    pub note: Option<String>,
}

pub async fn run(app: &App, o: &ExecOptions) -> Result<ExecReport> {
    let (sha, judged) = resolve::judge_subject(&app.resolver(), &o.subject).await?;
    let found = match judged {
        Ok(f) => f,
        Err(why) => {
            let note = format!("commit {} has no artifacts ({why}); exit {UNTESTABLE}, so `git bisect run` skips it", short_sha(&sha));
            return Ok(ExecReport { commit: sha, run_id: None, status: ExitStatus::External(UNTESTABLE), note: Some(note) });
        }
    };
    let work = Workdir::new(o.workdir.as_deref(), o.keep)?;
    let runner = app.runner(&o.pick, &o.cache_dir, &o.command);
    let tree = work.root.join(format!("exec-{}", short_sha(&sha)));
    if o.overlay && !app.cfg.query.repo.is_therock_family() {
        match super::overlay::base_of(app, &app.cfg.query, &sha).await? {
            Ok(base) => {
                let (_, layers) = super::overlay::fetch(&runner, &[&base, &found], &tree).await?;
                for l in &layers {
                    crate::say!("exec: {} archive(s) from {} run {}", l.archives.len(), l.repo, l.run_id.map(|r| r.to_string()).unwrap_or_default());
                }
            }
            Err(why) => {
                let note = format!("commit {} cannot be tested: {why}; exit {UNTESTABLE}, so `git bisect run` skips it", short_sha(&sha));
                return Ok(ExecReport { commit: sha, run_id: None, status: ExitStatus::External(UNTESTABLE), note: Some(note) });
            }
        }
    } else {
        runner.fetch(&found, &tree).await?;
    }
    let run_id = first_run_id(&found);
    let code = runner.run(&tree, &sha, run_id).await?;
    work.drop_tree(&tree);
    if work.keep {
        crate::say!("exec: the tree stays in {}", tree.display());
    }
    Ok(ExecReport { commit: sha, run_id, status: ExitStatus::of_child(code), note: None })
}

impl super::Conclusion for ExecReport {
    fn found(&self) -> bool {
        self.note.is_none()
    }
    fn exit_status(&self) -> ExitStatus {
        self.status
    }
}
