#!/usr/bin/env bash
# Builds the action's image without a Docker engine and runs it the way the runner does:
# a static musl release build, a FROM scratch image with buildah (the Dockerfile's final stage;
# its build stage needs a registry, which this check replaces with a local build), unpacked
# with umoci, then tests/it/container.rs (ignored in a plain `cargo test`) runs it through chroot.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
# --if-possible (used by .ci/run): skip with a warning when the tools cannot be installed
# (the musl target comes from rustup's server, which not every machine reaches); once they
# are there, any failure of the check itself fails.
skip() {
  if [ "${1:-}" = "--if-possible" ]; then echo "warning: container check skipped: $2" >&2; exit 0; fi
  echo "error: $2" >&2; exit 1
}
mode="${1:-}"
if ! command -v buildah >/dev/null || ! command -v umoci >/dev/null || ! command -v musl-gcc >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq buildah umoci musl-tools >/dev/null; } || skip "$mode" "cannot install buildah, umoci and musl-tools"
fi
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || skip "$mode" "the x86_64-unknown-linux-musl target cannot be installed"
cargo build --release --locked --target x86_64-unknown-linux-musl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/therock-artifacts" /etc/ssl/certs/ca-certificates.crt "$work/"
# The Dockerfile's final stage, fed from the local build.
sed -n '/^FROM scratch/,$p' Dockerfile \
  | sed -e 's#COPY --from=build /etc/ssl/certs/ca-certificates.crt#COPY ca-certificates.crt#' \
        -e 's#COPY --from=build /therock-artifacts#COPY therock-artifacts#' > "$work/Containerfile"
buildah --storage-driver vfs build -q -t therock-artifacts:check -f "$work/Containerfile" "$work"
buildah --storage-driver vfs push therock-artifacts:check "oci:$work/oci:check"
umoci unpack --image "$work/oci:check" "$work/bundle"
THEROCK_ARTIFACTS_ROOTFS="$work/bundle/rootfs" cargo test --locked --test it container:: -- --ignored --nocapture
