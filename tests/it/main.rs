//! The integration tests, in one binary (as ripgrep's `tests/tests.rs` and uv's `tests/it`), so
//! s3s, wiremock and hyper are compiled and linked once. Each module is one part of the
//! contract; `common/` is the test bed they share.
//!
//! A test that needs something this machine may lack is `#[ignore = "needs ..."]`, so a run
//! without it says "ignored" instead of passing; `.ci/run` installs the tools and runs those
//! tests with `--ignored`, where a missing tool fails them.

mod common;

/// Action mode: INPUT_* variables, the runner's files and commands, actionlint on the examples.
mod action;
/// `baseline`: TheRock merge-base walks, super-repo pins, local checkouts.
mod baseline;
/// `bisect` and `exec`: the commit that flipped a file inside an artifact.
mod bisect;
/// `cache info | prune | clear` and the cache's size limit.
mod cache;
/// `compare`: archive and file sizes between two commits.
mod compare;
/// The action's container image run as the runner runs it (needs scripts/container-check.sh).
mod container;
/// `fetch`: verified, cached, safe download and extraction; ranged and resumed downloads.
mod fetch;
/// `find` and `latest` end to end, GitHub's paging, retries and errors.
mod find;
/// Holes a hostile review found: archives, caches, disks, signals, injection, unbounded answers.
mod hostile;
/// Real data as of late 2026: pin files, healthy builds, legacy prefixes, nested stages.
mod realdata;
/// The release machinery: the release rewrite, the two action definitions, the composite.
mod release;
/// The super-repos' multi-arch CI, their pins, and skipped build jobs (issue 22).
mod superrepo;
/// Windows semantics: names, symlinks, long paths, case, files held open (issue 27; under Wine
/// by scripts/windows-check.sh).
mod windows;
