#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for a bounded time each (FUZZ_SECONDS, default 60),
# one after another: the parsers of outsiders' text (issue 21). Installs the nightly toolchain and
# cargo-fuzz where it can and skips, saying why, where it cannot. Builds, grown corpora and crash
# artifacts live under target/fuzz/ (never in fuzz/corpus/, which holds the committed seeds).
# A crash fails the script and names the input that caused it.
#
#   scripts/fuzz.sh                  every target, FUZZ_SECONDS each
#   scripts/fuzz.sh pins github      some targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
work=target/fuzz
skip() {
  echo "fuzz: skipped: $*"
  exit 0
}

command -v rustup >/dev/null 2>&1 || skip "no rustup here to install a nightly toolchain"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || skip "the nightly toolchain could not be installed"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked >/dev/null 2>&1 || skip "cargo-fuzz could not be installed"
fi
command -v c++ >/dev/null 2>&1 || skip "no C++ compiler to build libFuzzer"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# No sanitizer: the code fuzzed is safe Rust, and AddressSanitizer would double the build and
# halve the executions. Debug assertions on: an overflow is a finding.
flags=(--sanitizer none --debug-assertions --target-dir "$work")
start=$SECONDS
mkdir -p "$work"
if ! cargo +nightly fuzz build "${flags[@]}" >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  echo "fuzz: the targets did not build (all of $work/build.log)" >&2
  exit 1
fi
echo "fuzz: built in $((SECONDS - start)) s"

# The extraction target writes a tree per input: in memory where the machine has a tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

found=()
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  log="$work/$t.log"
  # The first corpus directory is where libFuzzer adds what it finds; the committed seeds only seed.
  if cargo +nightly fuzz run "${flags[@]}" "$t" "$work/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t: ${runs:-?} inputs in ${seconds} s, no crash (corpus $(ls "$work/corpus/$t" | wc -l) inputs)"
  else
    found+=("$t")
    echo "fuzz: $t: CRASH; the input is in $work/artifacts/$t/:" >&2
    grep -E 'panicked|ERROR|Test unit written|SUMMARY' "$log" | head -n 20 >&2 || tail -n 30 "$log" >&2
  fi
done

echo "fuzz: done in $((SECONDS - start)) s"
if [ ${#found[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${found[*]}: reproduce with cargo +nightly fuzz run --sanitizer none --target-dir $work <target> <input>" >&2
  exit 1
fi
