#!/usr/bin/env bash
# Turns a checkout into the action's release commit for one version (run by
# .github/workflows/release.yml before it tags vX.Y.Z and moves vX; tests/it/release.rs tests it):
#
#   action.yml         `image: Dockerfile` -> `image: docker://ghcr.io/<owner>/<name>:vX.Y.Z[@sha256:...]`
#                      (the exact version, optionally pinned by digest: never a moving tag)
#   binary/action.yml  `THEROCK_ARTIFACTS_RELEASE: ""` -> `THEROCK_ARTIFACTS_RELEASE: vX.Y.Z`, and
#                      THEROCK_ARTIFACTS_RELEASE_REPOSITORY -> the repository, so the binary path
#                      downloads this release's assets (ROCm/therock-artifacts-action/binary@v1
#                      resolves to the release commit, which names its own version)
#
# Nothing else changes: every other byte of both files is kept, and a second run with the same
# arguments is a no-op (files already right are not rewritten). main keeps `image: Dockerfile`,
# so branches and forks still build the image from source.
#
# Usage: scripts/release-action.sh [--repository OWNER/NAME] [--digest sha256:HEX] vX.Y.Z [DIR]
#   --repository  where the image and the release assets live (default ROCm/therock-artifacts-action;
#                 the image is ghcr.io/<owner>/<name>, lower-cased as ghcr.io requires)
#   --digest      the pushed image's digest, appended as @sha256:... (docker pulls by digest)
#   DIR           the checkout to rewrite (default: this script's repository)
set -euo pipefail

usage() {
  echo "usage: $0 [--repository OWNER/NAME] [--digest sha256:HEX] vX.Y.Z [DIR]" >&2
  exit 2
}
die() {
  echo "error: $*" >&2
  exit 2
}

repository=ROCm/therock-artifacts-action
digest=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repository) [ $# -ge 2 ] || usage; repository=$2; shift 2 ;;
    --repository=*) repository=${1#*=}; shift ;;
    --digest) [ $# -ge 2 ] || usage; digest=$2; shift 2 ;;
    --digest=*) digest=${1#*=}; shift ;;
    -h | --help) usage ;;
    -*) echo "error: unknown option $1" >&2; usage ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then usage; fi
version=${args[0]}
dir=${args[1]:-$(cd "$(dirname "$0")/.." && pwd)}

[[ $version =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
  die "version '$version' is not a release tag vX.Y.Z (such as v1.2.3)"
[[ $repository =~ ^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$ ]] ||
  die "repository '$repository' is not OWNER/NAME"
[ -z "$digest" ] || [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] ||
  die "digest '$digest' is not sha256:<64 lower-case hex digits>"

image="ghcr.io/$(printf '%s' "$repository" | tr '[:upper:]' '[:lower:]'):$version"
[ -z "$digest" ] || image="$image@$digest"

# Replaces the value of the one line `<indent><key>: <value>` (the key at any indent), keeping
# its indent; fails unless exactly one such line exists. Writes the file only if it changes.
set_value() {
  local file=$1 key=$2 value=$3 count tmp
  [ -f "$file" ] || die "$file does not exist"
  count=$(grep -cE "^[[:space:]]*$key:([[:space:]]|\$)" "$file" || true)
  [ "$count" = 1 ] || die "$file has $count '$key:' lines, expected exactly one"
  tmp=$(mktemp "$file.XXXXXX")
  awk -v key="$key" -v value="$value" '
    match($0, "^[ \t]*" key ":([ \t]|$)") {
      indent = substr($0, 1, index($0, key) - 1)
      print indent key ": " value
      next
    }
    { print }
  ' "$file" >"$tmp"
  if cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    echo "$file: $key already $value"
  else
    cat "$tmp" >"$file" # in place: the file keeps its mode
    rm -f "$tmp"
    echo "$file: $key: $value"
  fi
}

set_value "$dir/action.yml" image "docker://$image"
set_value "$dir/binary/action.yml" THEROCK_ARTIFACTS_RELEASE "$version"
set_value "$dir/binary/action.yml" THEROCK_ARTIFACTS_RELEASE_REPOSITORY "$repository"
