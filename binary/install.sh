#!/usr/bin/env bash
# The binary path's first step (binary/action.yml): puts the release's therock-artifacts binary
# for this runner's OS and architecture in the tool cache and prints its path as the step output
# `path`. Runs under bash on Linux, macOS and Windows (Git Bash) runners.
#
# Release assets (published by .github/workflows/release.yml, each with `<asset>.sha256`):
#   Linux X64      therock-artifacts-x86_64-unknown-linux-musl
#   Linux ARM64    therock-artifacts-aarch64-unknown-linux-musl
#   Windows X64    therock-artifacts-x86_64-pc-windows-msvc.exe (also on Windows ARM64, emulated)
#   macOS ARM64    therock-artifacts-aarch64-apple-darwin
#
# Environment:
#   THEROCK_ARTIFACTS_RELEASE             release tag (vX.Y.Z), written into binary/action.yml by
#                                         scripts/release-action.sh; empty (main, branches, forks):
#                                         the newest release
#   THEROCK_ARTIFACTS_RELEASE_REPOSITORY  OWNER/NAME whose releases hold the assets
#   THEROCK_ARTIFACTS_TOKEN               sent as `Authorization: Bearer` to GITHUB_SERVER_URL only
#                                         (curl drops it on the redirect to the asset store);
#                                         retried without it if the server refuses it
#   THEROCK_ARTIFACTS_DOWNLOAD_BASE       overrides the URL the assets are read from (tests:
#                                         file:///path/to/dir)
#   THEROCK_ARTIFACTS_BINARY              an already-built binary to use instead (no download)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, GITHUB_SERVER_URL, GITHUB_OUTPUT  (the runner's)
#
# Cache layout (the tool-cache convention of actions/tool-cache):
#   $RUNNER_TOOL_CACHE/therock-artifacts/<X.Y.Z>/<x64|arm64>/<asset>  + <asset>.sha256
#   $RUNNER_TOOL_CACHE/therock-artifacts/<X.Y.Z>/<x64|arm64>.complete
# A cached binary is re-hashed against its cached digest before use. With no pinned release
# ("latest") the small .sha256 is always downloaded and the cached binary reused if it matches.
set -euo pipefail

# To stderr, so that it is seen from inside $(...) too (the runner reads commands from both).
die() {
  echo "::error title=therock-artifacts binary::$*" >&2
  exit 1
}

say() { echo "therock-artifacts: $*"; }

# Unix-style paths in Git Bash (the runner hands out C:\... paths).
unix_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

set_output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

sha256_of() {
  local f=$1 line
  if command -v sha256sum >/dev/null 2>&1; then
    line=$(sha256sum -b "$f") || return 1
  elif command -v shasum >/dev/null 2>&1; then
    line=$(shasum -a 256 -b "$f") || return 1
  elif command -v certutil >/dev/null 2>&1; then
    # certutil prints a header line, the digest (spaced on older Windows), a footer line.
    local win
    win=$(cygpath -w "$f" 2>/dev/null || printf '%s' "$f")
    line=$(certutil -hashfile "$win" SHA256 | sed -n 2p | tr -d ' \r') || return 1
  elif command -v openssl >/dev/null 2>&1; then
    line=$(openssl dgst -sha256 -r "$f") || return 1
  else
    die "no sha256sum, shasum, certutil or openssl on this runner to verify the download"
  fi
  line=${line%% *}
  # sha256sum puts a backslash before the digest of an escaped name; bash 3.2 (macOS) has no ${x,,}.
  line=${line#\\}
  printf '%s\n' "$line" | tr '[:upper:]' '[:lower:]'
}

# The digest a .sha256 file names: `<hex>` or sha256sum's `<hex>  <name>` / `<hex> *<name>`.
digest_in() {
  local d
  d=$(tr -d '\r' <"$1" | awk 'NF { print tolower($1); exit }')
  [[ $d =~ ^[0-9a-f]{64}$ ]] || return 1
  printf '%s\n' "$d"
}

# --- a local build, for tests and debugging
if [ -n "${THEROCK_ARTIFACTS_BINARY:-}" ]; then
  exe=$(unix_path "$THEROCK_ARTIFACTS_BINARY")
  [ -f "$exe" ] || die "THEROCK_ARTIFACTS_BINARY is $THEROCK_ARTIFACTS_BINARY, which is not a file"
  say "using $exe (THEROCK_ARTIFACTS_BINARY)"
  set_output path "$exe"
  set_output version local
  exit 0
fi

# --- which asset
os=${RUNNER_OS:-}
arch=${RUNNER_ARCH:-}
case "$os/$arch" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  # Windows on Arm runs the x64 build through its x64 emulation.
  Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc.exe ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) die "no prebuilt therock-artifacts binary for RUNNER_OS='$os' RUNNER_ARCH='$arch' (there are Linux X64/ARM64, Windows X64/ARM64 and macOS ARM64 builds); build it with 'cargo install --git https://github.com/ROCm/therock-artifacts-action' and set THEROCK_ARTIFACTS_BINARY" ;;
esac
asset="therock-artifacts-$target"
tc_arch=$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')

release=${THEROCK_ARTIFACTS_RELEASE:-}
if [ -n "$release" ]; then
  [[ $release =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "THEROCK_ARTIFACTS_RELEASE is '$release': expected a release tag such as v1.2.3"
  tc_version=${release#v}
else
  tc_version=latest
fi
repo=${THEROCK_ARTIFACTS_RELEASE_REPOSITORY:-ROCm/therock-artifacts-action}
server=${GITHUB_SERVER_URL:-https://github.com}
if [ -n "${THEROCK_ARTIFACTS_DOWNLOAD_BASE:-}" ]; then
  base=${THEROCK_ARTIFACTS_DOWNLOAD_BASE%/}
elif [ -n "$release" ]; then
  base="$server/$repo/releases/download/$release"
else
  base="$server/$repo/releases/latest/download"
fi

tool_cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}
tool_cache=$(unix_path "$tool_cache")
version_dir="$tool_cache/therock-artifacts/$tc_version"
dir="$version_dir/$tc_arch"
exe="$dir/$asset"

# --- download (token only to the GitHub server itself)
fetch() {
  local url=$1 out=$2
  local args=(-fsSL --retry 3 --retry-delay 2 --connect-timeout 20 --proto-redir "=https" -o "$out")
  if [ -n "${THEROCK_ARTIFACTS_TOKEN:-}" ] && [[ $url == "$server"/* ]]; then
    # The header comes from stdin, so the token is never on a command line.
    if printf 'Authorization: Bearer %s\n' "$THEROCK_ARTIFACTS_TOKEN" | curl "${args[@]}" -H @- "$url"; then
      return 0
    fi
    say "the download with the job's token failed; trying without it"
  fi
  curl "${args[@]}" "$url"
}

cached_ok() {
  [ -f "$exe" ] && [ -f "$exe.sha256" ] || return 1
  local want have
  want=$(digest_in "$exe.sha256") || return 1
  have=$(sha256_of "$exe") || return 1
  [ "$have" = "$want" ] && { [ -z "${1:-}" ] || [ "$want" = "$1" ]; }
}

mkdir -p "$version_dir"
tmp=$(mktemp -d "$version_dir/.download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

want=""
if [ "$tc_version" = latest ]; then
  # Nothing pins the binary: ask for the newest digest, reuse the cache when it matches.
  fetch "$base/$asset.sha256" "$tmp/$asset.sha256" || die "cannot download $base/$asset.sha256"
  want=$(digest_in "$tmp/$asset.sha256") || die "$base/$asset.sha256 holds no SHA-256 digest"
fi

if [ -f "$version_dir/$tc_arch.complete" ] && cached_ok "$want"; then
  say "$asset $tc_version from the tool cache ($exe)"
else
  say "downloading $base/$asset"
  if [ -z "$want" ]; then
    fetch "$base/$asset.sha256" "$tmp/$asset.sha256" || die "cannot download $base/$asset.sha256"
    want=$(digest_in "$tmp/$asset.sha256") || die "$base/$asset.sha256 holds no SHA-256 digest"
  fi
  fetch "$base/$asset" "$tmp/$asset" || die "cannot download $base/$asset"
  have=$(sha256_of "$tmp/$asset")
  [ "$have" = "$want" ] || die "$asset from $base does not match its .sha256 (expected $want, got $have); not using it"
  chmod +x "$tmp/$asset"
  # Into place: a fresh directory renamed over the old one, then the completion marker.
  rm -f "$version_dir/$tc_arch.complete"
  staged="$version_dir/.$tc_arch.$$"
  rm -rf "$staged"
  mkdir "$staged"
  mv "$tmp/$asset" "$tmp/$asset.sha256" "$staged/"
  rm -rf "$dir"
  mv "$staged" "$dir"
  : >"$version_dir/$tc_arch.complete"
  say "verified (sha256 $want) and cached at $exe"
fi

set_output path "$exe"
set_output version "$tc_version"
