#!/usr/bin/env bash
# The Windows build, tested on Linux: cross-builds for x86_64-pc-windows-gnu with Debian's mingw,
# lints it, and runs the unit tests and a named part of the integration tests under Wine (the
# test binary, its in-process S3 and GitHub servers and the binary under test are all Windows
# programs there). Then the composite action's Windows path (binary/action.yml with
# RUNNER_OS=Windows) with the Windows .exe. Needs root to install packages (apt-get) unless the
# tools are there.
#
# Wine 8.0 lacks bcryptprimitives.dll (Rust's std calls its ProcessPrng): a shim built with the
# same mingw (scripts/windows/bcryptprimitives.c) goes into the Wine prefix's system32.
set -euo pipefail
cd "$(dirname "$0")/.."
# --if-possible (used by .ci/run): skip with a warning when the tools cannot be installed; once
# they are there, any failure of the check itself fails.
skip() {
  if [ "${1:-}" = "--if-possible" ]; then echo "warning: Windows check skipped: $2" >&2; exit 0; fi
  echo "error: $2" >&2; exit 1
}
mode="${1:-}"
target=x86_64-pc-windows-gnu
t0=$(date +%s)

rustup target add "$target" >/dev/null 2>&1 || rustup target list --installed 2>/dev/null | grep -qx "$target" || skip "$mode" "the $target target cannot be installed"
if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v wine >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 wine wine64 >/dev/null; } \
    || skip "$mode" "cannot install gcc-mingw-w64-x86-64 and wine"
fi

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
export WINEDEBUG=-all WINEPREFIX="$target_dir/wine" WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY

# The prefix (once), with the shim in its system32.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  wineboot --init >/dev/null 2>&1 || true
  wineserver --wait || true
fi
[ -d "$WINEPREFIX/drive_c/windows/system32" ] || skip "$mode" "wineboot could not create the Wine prefix $WINEPREFIX"
x86_64-w64-mingw32-gcc -shared -O2 -Wl,--kill-at -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" scripts/windows/bcryptprimitives.c -ladvapi32

if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --target "$target" --all-targets -- -D warnings
fi
cargo test --locked --target "$target" --no-run
t_build=$(date +%s)

# Under Wine: every unit test, and the integration tests of fetch (all four extract modes, the
# cache and its locks, ranged and resumed downloads), the cache command, hostile archives and
# the journal's recovery, action mode, and the Windows semantics of tests/it/windows.rs. Not run
# under Wine: find, baseline, bisect, compare, realdata, superrepo (no file system semantics of
# their own, and they need git for local checkouts) and release (bash and actionlint).
cargo test --locked --target "$target" --lib --bins
cargo test --locked --target "$target" --test it -- fetch:: cache:: hostile:: action:: windows::
wineserver --wait || true
t_wine=$(date +%s)

# binary/action.yml's Windows path, run on this Linux host with the Windows .exe (Wine runs it).
THEROCK_ARTIFACTS_WINDOWS_EXE="$target_dir/$target/debug/therock-artifacts.exe" \
  cargo test --locked --test it release::composite_on_a_windows_runner -- --ignored
echo "windows-check: build $((t_build - t0)) s, tests under Wine $((t_wine - t_build)) s, total $(($(date +%s) - t0)) s"
