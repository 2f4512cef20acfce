# syntax=docker/dockerfile:1
# Stage 1: a static (musl) release build.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && cp target/x86_64-unknown-linux-musl/release/therock-artifacts /therock-artifacts

# Stage 2: the binary and a CA bundle, nothing else. Runs as root (container actions do), no
# WORKDIR (the runner sets it to GITHUB_WORKSPACE).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /therock-artifacts /usr/local/bin/therock-artifacts
ENTRYPOINT ["/usr/local/bin/therock-artifacts"]
