//! What a front end's values ask of the world before `Config::build`: which `--require-*`
//! flags a command has, whether it falls back on the checkout's `HEAD`, whether git is asked at
//! all, and which revisions the checkout must resolve (`Facts::gather` reads these).

use super::raw::{Raw, RawCommand, ReleaseRaw, RequireRaw};

impl Raw {
    /// The command's `--require-*` flags, where it has them.
    pub fn require(&self) -> Option<&RequireRaw> {
        match &self.command {
            RawCommand::Find(f) => Some(&f.require),
            RawCommand::Latest(l) => Some(&l.require),
            RawCommand::Baseline(b) => Some(&b.require),
            RawCommand::Fetch(f) => Some(&f.require),
            RawCommand::Bisect(b) => Some(&b.require),
            RawCommand::Exec(e) => Some(&e.require),
            RawCommand::Reuse(r) => Some(&r.require),
            RawCommand::Compare(_) | RawCommand::Contains(_) => None,
        }
    }

    /// Does the command fall back on the checkout's `HEAD` (no commit, run id or pull request
    /// given)? Only then is git asked about it: a fetch by run id runs no git at all.
    pub fn wants_head(&self) -> bool {
        if self.release().is_some() {
            return false;
        }
        let given = |o: &Option<String>| super::given(o).is_some();
        if given(&self.common.git_ref) || self.common.default_branch_head {
            return false;
        }
        match &self.command {
            RawCommand::Find(f) => !given(&f.commit) && !given(&f.run_id),
            RawCommand::Latest(_) => false,
            RawCommand::Baseline(b) => !given(&b.commit) && !given(&b.run_id) && !given(&b.walk.pr),
            RawCommand::Fetch(f) => !given(&f.commit) && !given(&f.run_id) && !given(&f.walk.pr),
            RawCommand::Compare(c) => !given(&c.from) && !given(&c.from_run_id),
            RawCommand::Bisect(_) => false,
            RawCommand::Exec(e) => !given(&e.commit),
            RawCommand::Reuse(r) => !given(&r.commit) && !given(&r.walk.pr),
            RawCommand::Contains(c) => !given(&c.commit),
        }
    }

    /// Can the checkout matter at all? Not to a lookup by run id in a named repository (nor
    /// to `latest` there): git is then not run.
    pub fn needs_checkout(&self) -> bool {
        if self.release().is_some() {
            return false;
        }
        let given = |o: &Option<String>| super::given(o).is_some();
        if !given(&self.common.repo) {
            return true;
        }
        match &self.command {
            RawCommand::Find(f) => !given(&f.run_id),
            RawCommand::Fetch(f) => !given(&f.run_id) || f.baseline,
            RawCommand::Latest(_) => false,
            RawCommand::Compare(c) => !(given(&c.from_run_id) && given(&c.to_run_id)),
            RawCommand::Baseline(_) | RawCommand::Bisect(_) | RawCommand::Exec(_) | RawCommand::Reuse(_) | RawCommand::Contains(_) => true,
        }
    }

    /// `--release`, when the command asks for a release tarball.
    pub fn release(&self) -> Option<&ReleaseRaw> {
        let r = match &self.command {
            RawCommand::Find(f) => &f.release,
            RawCommand::Fetch(f) => &f.release,
            _ => return None,
        };
        super::given(&r.release).is_some().then_some(r)
    }

    /// The revisions the command names, which a local checkout may resolve.
    pub fn revisions(&self) -> Vec<String> {
        use super::given;
        match &self.command {
            RawCommand::Find(f) => given(&f.commit).into_iter().collect(),
            RawCommand::Latest(_) => Vec::new(),
            RawCommand::Baseline(b) => given(&b.commit).into_iter().collect(),
            RawCommand::Fetch(f) => given(&f.commit).into_iter().collect(),
            RawCommand::Compare(c) => given(&c.from).into_iter().chain(given(&c.to)).collect(),
            RawCommand::Bisect(b) => given(&b.good).into_iter().chain(given(&b.bad)).collect(),
            RawCommand::Exec(e) => given(&e.commit).into_iter().collect(),
            RawCommand::Reuse(r) => given(&r.commit).into_iter().collect(),
            RawCommand::Contains(c) => given(&c.commit).into_iter().collect(),
        }
    }
}
