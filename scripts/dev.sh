#!/usr/bin/env bash
# Runs Tasks for development: installs missing tools, brings up the local PostgreSQL
# primary + replica, then `cargo leptos watch` (rebuilds and reloads on every change).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/bootstrap.sh
db_env=$(scripts/db.sh up) # a failure here stops the script; inside eval it would not
eval "$db_env"
printf '\nTasks will be served at http://%s once built (first build: several minutes).\n' \
  "${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
printf 'Stop with Ctrl-C; the databases keep running (scripts/db.sh down stops them).\n\n'
# Metrics on loopback only in development (the server's default, 0.0.0.0:9090, is for pods).
export METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:9090}
# Content-hashed asset names are for release builds (a year of caching). In watch mode
# cargo-leptos 0.3.11 could panic while hashing on its first build after a release
# build in the same target/site ("no entry found for key" in add_hashes_to_site: the
# stylesheet was missing from the package directory when the names were computed);
# without hashing that step does not run. cargo-leptos passes the same value to the
# server, which then links the plain names.
export LEPTOS_HASH_FILES=false
exec cargo leptos watch
