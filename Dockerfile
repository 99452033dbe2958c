# The Tasks server image: the release build made exactly as scripts/test.sh makes it
# (same bootstrap script, same tool versions), in a distroless runtime that holds only
# the binary and the site, runs as a non-root user and needs no writable filesystem.
#
#   docker build --build-arg TASKS_GIT_SHA=$(git rev-parse --short=12 HEAD) -t tasks .
#
# Base images are pinned by digest where one could be determined offline: Node.js from
# Docker's official-image records, Rust from the digest that many unrelated public
# Dockerfiles pin for this very tag. The distroless runtime is pinned by tag only: no
# digest of it could be determined here. Renovate (renovate.json) pins every base image
# by digest and keeps the digests current. No remote Dockerfile frontend (`# syntax=`):
# BuildKit's built-in one builds this file.

FROM node:22.23.2-bookworm-slim@sha256:48e4b67d85f87bd551df43704e24d252f56cc5f8e9718841aace50f19948f0f9 AS node

# Rust, Node.js and the build tools of scripts/bootstrap.sh (cargo-leptos, the
# wasm-bindgen CLI of Cargo.lock, npm's Tailwind and binaryen).
FROM rust:1.95.0-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS tools
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && cargo install cargo-chef --version 0.1.73 --locked
WORKDIR /app
COPY scripts/bootstrap.sh scripts/tool-versions.env scripts/
COPY Cargo.toml Cargo.lock package.json package-lock.json ./
RUN scripts/bootstrap.sh

# The dependency graph only: the next stage's cached layer changes when it does.
FROM tools AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM tools AS builder
COPY --from=planner /app/recipe.json recipe.json
# Dependencies of the server and of the browser bundle, cached apart from our code.
RUN cargo chef cook --release --no-default-features --features ssr --recipe-path recipe.json \
    && cargo chef cook --profile wasm-release --target wasm32-unknown-unknown \
        --no-default-features --features hydrate --recipe-path recipe.json
COPY . .
ARG TASKS_GIT_SHA=unknown
ENV TASKS_GIT_SHA=${TASKS_GIT_SHA}
RUN cargo leptos build --release --precompress \
    && mkdir -p /out \
    && cp target/release/tasks target/release/hash.txt /out/ \
    && cp -r target/site /out/site

# Debian 13: distroless ends its Debian 12 images in September 2026. The binary, built
# against Debian 12's glibc, runs on Debian 13's newer one.
FROM gcr.io/distroless/cc-debian13:nonroot
ARG TASKS_GIT_SHA=unknown
ARG TASKS_VERSION=unknown
ARG TASKS_CREATED=unknown
LABEL org.opencontainers.image.title="tasks" \
      org.opencontainers.image.description="Tasks: a server-rendered, hydrated todo app on PostgreSQL with a read replica" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${TASKS_VERSION}" \
      org.opencontainers.image.revision="${TASKS_GIT_SHA}" \
      org.opencontainers.image.created="${TASKS_CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian13:nonroot"
WORKDIR /app
# hash.txt lists the hashed asset names; Leptos reads it beside the binary.
# MIMALLOC_PURGE_DELAY=0: the allocator returns freed pages to the system at once, which
# keeps resident memory under load near 30 MiB instead of near 50 (docs/performance.md).
COPY --from=builder /out/ /app/
ENV LEPTOS_OUTPUT_NAME=tasks \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_HASH_FILES=true \
    LEPTOS_ENV=PROD \
    LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    METRICS_ADDR=0.0.0.0:9090 \
    LOG_FORMAT=json \
    MIMALLOC_PURGE_DELAY=0
USER 65532:65532
EXPOSE 8080 9090
# The image has no shell and no curl: the binary asks its own /healthz (at
# LEPTOS_SITE_ADDR, within 2 s). Kubernetes ignores this and uses the chart's probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/app/tasks", "healthcheck"]
ENTRYPOINT ["/app/tasks"]
CMD ["serve"]
