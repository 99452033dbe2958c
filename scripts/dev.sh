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
exec cargo leptos watch
