#!/usr/bin/env bash
# Runs every libFuzzer target under fuzz/ for a bounded time each (FUZZ_SECONDS, default 60), as
# many at once as the machine has CPUs: the parsers of outsiders' text (issue 21). Builds with the
# toolchain in use (stable): the coverage instrumentation libFuzzer needs is what `cargo fuzz`
# passes with `--sanitizer none` (no sanitizer: the code fuzzed is safe Rust), so neither nightly
# nor cargo-fuzz is installed, and the crates keep the codegen units fuzz/Cargo.toml gives them
# (`cargo fuzz` forces one per crate, which made the build the longest step of CI). Builds, grown
# corpora and crash artifacts live under target/fuzz/ (never in fuzz/corpus/, which holds the
# committed seeds). A crash fails the script and names the input that caused it.
#
#   scripts/fuzz.sh                  every target, FUZZ_SECONDS each
#   scripts/fuzz.sh pins github      some targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   FUZZ_JOBS=1 scripts/fuzz.sh      one target at a time
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
work=$(realpath -m target/fuzz)
skip() {
  echo "fuzz: skipped: $*"
  exit 0
}

host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
[ -n "$host" ] || skip "no rustc here"
case "$host" in
  *-linux-*) ;;
  *) skip "libFuzzer targets are built here for Linux hosts only (this is $host)" ;;
esac
command -v c++ >/dev/null 2>&1 || skip "no C++ compiler to build libFuzzer"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# The instrumentation of `cargo fuzz build --sanitizer none --debug-assertions` (cargo-fuzz
# 0.13, src/project.rs), less its `-Ccodegen-units=1`. Debug assertions on: an overflow is a
# finding. `--target` keeps the flags off build scripts.
flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  -Cllvm-args=-sanitizer-coverage-stack-depth
  -Cllvm-args=-simplifycfg-branch-fold-threshold=0
  -Cdebug-assertions
  --cfg fuzzing
)
start=$SECONDS
mkdir -p "$work"
if ! RUSTFLAGS="${flags[*]}" cargo build --locked --release --manifest-path fuzz/Cargo.toml --target "$host" \
  --target-dir "$work" --bins >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  echo "fuzz: the targets did not build (all of $work/build.log)" >&2
  exit 1
fi
bin="$work/$host/release"
echo "fuzz: built in $((SECONDS - start)) s"

# The extraction target writes a tree per input: in memory where the machine has a tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

# One target: its grown corpus first (where libFuzzer adds what it finds), the committed seeds
# only seed. Exit status: libFuzzer's.
fuzz_one() {
  local t=$1
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  "$bin/$t" "$work/corpus/$t" "fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 >"$work/$t.log" 2>&1
}

report() {
  local t=$1 rc=$2 log="$work/$1.log"
  if [ "$rc" = 0 ]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t: ${runs:-?} inputs in ${seconds} s, no crash (corpus $(ls "$work/corpus/$t" | wc -l) inputs)"
  else
    found+=("$t")
    echo "fuzz: $t: CRASH; the input is in $work/artifacts/$t/:" >&2
    grep -E 'panicked|ERROR|Test unit written|SUMMARY' "$log" | head -n 20 >&2 || tail -n 30 "$log" >&2
  fi
}

found=()
running=()
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzz: no target $t (fuzz/fuzz_targets/$t.rs)" >&2; exit 1; }
  fuzz_one "$t" &
  running+=("$!:$t")
  if [ ${#running[@]} -ge "$jobs" ]; then
    for r in "${running[@]}"; do
      rc=0; wait "${r%%:*}" || rc=$?
      report "${r#*:}" "$rc"
    done
    running=()
  fi
done
for r in "${running[@]}"; do
  rc=0; wait "${r%%:*}" || rc=$?
  report "${r#*:}" "$rc"
done

echo "fuzz: done in $((SECONDS - start)) s"
if [ ${#found[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${found[*]}: reproduce with $bin/<target> <input> (after scripts/fuzz.sh <target> builds it)" >&2
  exit 1
fi
