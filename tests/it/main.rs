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
/// `bisect --bump`: a TheRock submodule bump's super-repo range, gitlinks local and remote.
mod bisect_bump;
/// `bisect --plan`: parallel rounds on many runners, their state and results.
mod bisect_plan;
/// `cache info | prune | clear` and the cache's size limit.
mod cache;
/// `compare`: archive and file sizes between two commits.
mod compare;
/// The action's container image run as the runner runs it (needs scripts/container-check.sh).
mod container;
/// `contains`: the first TheRock commit whose gitlink includes a super-repo commit.
mod contains;
/// `fetch`: verified, cached, safe download and extraction; ranged and resumed downloads.
mod fetch;
/// `find` and `latest` end to end, GitHub's paging, retries and errors.
mod find;
/// Holes a hostile review found: archives, caches, disks, signals, injection, unbounded answers.
mod hostile;
/// A second fetch into one output: the record of what wrote it, --clean, --merge, replaced by mode.
mod mixing;
/// What a newcomer trips on (issue 24): self-consistent answers, why not found, help, hints.
mod newcomer;
/// Real data as of late 2026: pin files, healthy builds, legacy prefixes, nested stages.
mod realdata;
/// The release machinery: the release rewrite, the two action definitions, the composite.
mod release;
/// ROCm release tarballs (`find/fetch --release`) and named component sets (`--components`).
mod release_tarballs;
/// `reuse` and `fetch --reuse`: stage impact over BUILD_TOPOLOGY.toml, the plan, a bootstrapped tree.
mod reuse;
/// The super-repos' multi-arch CI, their pins, and skipped build jobs (issue 22).
mod superrepo;
/// What the tool trusts: journals it signed, caches the user owns, modes and owners it sets (issue 21).
// Unix ownership, modes, SIGKILL and symlinks throughout: not a Windows test (the journal's
// recovery runs under Wine through hostile:: and fetch::).
#[cfg(unix)]
mod trust;
/// Windows semantics: names, symlinks, long paths, case, files held open (issue 27; under Wine
/// by scripts/windows-check.sh).
mod windows;
