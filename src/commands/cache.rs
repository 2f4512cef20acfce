//! `cache info | prune | clear`: no GitHub, no S3, no async runtime; only the cache directory.

use crate::config::CacheCommand;
use crate::fetch::cache::{Pruned, Stats};
use crate::fetch::Cache;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Info,
    Prune,
    Clear,
}

/// What a `cache` command found or did.
#[derive(Debug)]
pub enum Cached {
    Stats(Stats),
    Pruned(Pruned),
}

pub fn run(op: Op, cmd: &CacheCommand) -> Cached {
    let cache = Cache::new(cmd.dir.clone());
    match op {
        Op::Info => Cached::Stats(cache.stats()),
        Op::Prune => Cached::Pruned(cache.prune(cmd.max_size, cmd.max_age, cmd.dry_run)),
        Op::Clear => Cached::Pruned(cache.clear()),
    }
}

impl super::Conclusion for Cached {
    fn found(&self) -> bool {
        true
    }
}
