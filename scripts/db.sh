#!/usr/bin/env bash
# Local PostgreSQL for development and tests: a primary and a streaming hot-standby
# replica on loopback, owned by this checkout, and for the tests of load-balanced
# replicas a second standby that applies WAL 2 s late (`recovery_min_apply_delay`). Idempotent: `up` creates what is missing
# and starts what is stopped.
#
#   scripts/db.sh up        create (first time) and start both servers, print the URLs
#   scripts/db.sh down      stop both servers (data is kept)
#   scripts/db.sh stop <primary|replica|delayed> [fast|immediate]
#                           stop one server; `immediate` as a crash would (failover drills)
#   scripts/db.sh destroy   stop both servers and delete their data
#   scripts/db.sh status    show whether each server runs and how replication is doing
#   scripts/db.sh env       print the environment variables the app and tests use
#   scripts/db.sh psql [primary|replica|delayed] [psql args...]   a superuser session
#
# Settings (environment): TASKS_PG_DIR (data, default /var/tmp/tasks-pg-<checkout hash>),
# TASKS_PG_PORT (primary, default 55432), TASKS_PG_REPLICA_PORT (default 55433),
# TASKS_PG_DELAYED_PORT (the delayed replica, default 55434).
#
# Every server also accepts TLS, with a certificate for 127.0.0.1 and localhost signed
# by a CA of this checkout's own (TEST_DATABASE_CA): the app's verified TLS
# (sslmode=verify-full, as the chart connects) has a real server to be tested against.
# URLs without sslmode stay as they were (sqlx's default, prefer, takes TLS when offered).
#
# These servers are for development only: fixed local passwords, fsync off, loopback
# only. Never copy these settings to anything that holds real data.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
checkout_id=$(printf '%s' "$root" | md5sum | cut -c1-8)
pg_dir=${TASKS_PG_DIR:-/var/tmp/tasks-pg-$checkout_id}
primary_port=${TASKS_PG_PORT:-55432}
replica_port=${TASKS_PG_REPLICA_PORT:-55433}
delayed_port=${TASKS_PG_DELAYED_PORT:-55434}
sock=$pg_dir/sock
tls_dir=$pg_dir/tls
# How late the delayed replica applies what it receives.
apply_delay=2s

# Local-only credentials (see the warning above).
app_user=tasks app_password=tasks app_db=tasks
admin_user=postgres admin_password=postgres
repl_user=replicator repl_password=replicator

log() { printf 'db: %s\n' "$*" >&2; }
die() { printf 'db: error: %s\n' "$*" >&2; exit 1; }

find_bindir() {
  local dir=""
  if command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir 2>/dev/null || true); fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && printf '%s' "$dir"
}

ensure_postgres_installed() {
  bindir=$(find_bindir) && return 0
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL server binaries not found; install them (Debian: sudo apt-get install -y postgresql) and rerun"
  log "PostgreSQL server not found: installing it from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bindir=$(find_bindir) || die "PostgreSQL was installed but initdb is still not found"
}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres OS user,
# from a directory that user can enter.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

prepare_dir() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "the postgres OS user does not exist (is the postgresql package installed?)"
    install -d -m 0700 -o postgres -g postgres "$pg_dir" "$sock"
    # Every parent must be enterable by the postgres user.
    as_pg test -x "$pg_dir" || die "$pg_dir is not reachable by the postgres user; set TASKS_PG_DIR to a directory under /var/tmp or /tmp"
  else
    install -d -m 0700 "$pg_dir" "$sock"
  fi
}

running() { as_pg "$bindir/pg_ctl" -D "$pg_dir/$1" status >/dev/null 2>&1; }

start() { # name port
  local node=$1 port=$2 action=start
  if running "$node"; then
    # Already up: reread node.conf, unless it listens on another port than the one
    # configured now (a port change needs a restart).
    if [ "$(sed -n 4p "$pg_dir/$node/postmaster.pid" 2>/dev/null)" = "$port" ]; then
      as_pg "$bindir/pg_ctl" -D "$pg_dir/$node" reload >/dev/null
      return 0
    fi
    action=restart
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$pg_dir/$node" -l "$pg_dir/$node.log" -w -t 60 -m fast "$action" >/dev/null; then
    tail -n 20 "$pg_dir/$node.log" >&2 || true
    die "the $node server did not start (log: $pg_dir/$node.log). If its port is taken (another checkout's databases?), stop those or pick other ports with TASKS_PG_PORT / TASKS_PG_REPLICA_PORT"
  fi
}

write_node_conf() { # name port [extra setting]
  as_pg sh -c "printf '%s\n' \"port = $2\" \"${3:-}\" \
    \"ssl = on\" \"ssl_cert_file = '$tls_dir/server.crt'\" \"ssl_key_file = '$tls_dir/server.key'\" \
    > '$pg_dir/$1/node.conf'"
}

# The local CA and the servers' certificate (SAN localhost and 127.0.0.1), made once.
ensure_tls() {
  [ -f "$tls_dir/server.crt" ] && return 0
  if ! command -v openssl >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "openssl is needed for the servers' TLS certificate; install it (Debian: sudo apt-get install -y openssl) and rerun"
    log "openssl not found: installing it from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  fi
  log "creating a local CA and the servers' TLS certificate in $tls_dir"
  as_pg sh -ec "umask 077; mkdir -p '$tls_dir'; cd '$tls_dir'
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj '/CN=tasks local development CA' -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt 2>/dev/null
    chmod 0644 ca.crt"
}

psql_admin() { # port, psql args...
  local port=$1; shift
  as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U "$admin_user" -d postgres "$@"
}

init_primary() {
  [ -f "$pg_dir/primary/PG_VERSION" ] && return 0
  log "creating the primary in $pg_dir/primary"
  local pwfile=$pg_dir/.pwfile
  as_pg sh -c "umask 077; printf '%s\n' '$admin_password' > '$pwfile'"
  as_pg "$bindir/initdb" -D "$pg_dir/primary" -U "$admin_user" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  as_pg rm -f "$pwfile"
  # Shared settings; pg_basebackup copies them to the replica. Per-node settings (the
  # port) live in node.conf, rewritten for each node.
  as_pg sh -c "cat >> '$pg_dir/primary/postgresql.conf'" <<CONF

# --- tasks local development cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
fsync = off
full_page_writes = off
max_connections = 200
include_if_exists = 'node.conf'
CONF
}

create_roles() {
  psql_admin "$primary_port" <<SQL
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', '$repl_user', '$repl_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$repl_user') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$app_user', '$app_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$app_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$app_db', '$app_user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$app_db') \gexec
SQL
}

init_replica() { # name
  local node=$1 slot=tasks_$1
  [ -f "$pg_dir/$node/PG_VERSION" ] && return 0
  log "creating the $node replica in $pg_dir/$node (base backup of the primary)"
  as_pg rm -rf "$pg_dir/$node"
  # A slot left by an interrupted earlier attempt would make -C fail.
  psql_admin "$primary_port" -c "SELECT pg_drop_replication_slot('$slot') FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null
  as_pg env PGPASSWORD="$repl_password" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" \
    -U "$repl_user" -D "$pg_dir/$node" -R -X stream -C -S "$slot" -c fast --no-sync
}

start_replica() { # name port [extra setting]
  init_replica "$1"
  write_node_conf "$1" "$2" "${3:-}"
  # The replica finds the primary through primary_conninfo, written by pg_basebackup.
  as_pg sed -i "s/port=[0-9]*/port=$primary_port/" "$pg_dir/$1/postgresql.auto.conf"
  start "$1" "$2"
}

wait_for_streaming() {
  local i
  for i in $(seq 1 100); do
    if [ "$(psql_admin "$primary_port" -Atc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" -ge 2 ]; then
      return 0
    fi
    sleep 0.1
  done
  die "the replicas are running but not both streaming from the primary (logs: $pg_dir/*.log)"
}

print_env() {
  cat <<ENV
export DATABASE_URL=postgres://$app_user:$app_password@127.0.0.1:$primary_port/$app_db
export DATABASE_REPLICA_URL=postgres://$app_user:$app_password@127.0.0.1:$replica_port/$app_db
export TEST_ADMIN_DATABASE_URL=postgres://$admin_user:$admin_password@127.0.0.1:$primary_port/postgres
export TEST_ADMIN_REPLICA_URL=postgres://$admin_user:$admin_password@127.0.0.1:$replica_port/postgres
export TEST_DELAYED_REPLICA_URL=postgres://$app_user:$app_password@127.0.0.1:$delayed_port/$app_db
export TEST_ADMIN_DELAYED_REPLICA_URL=postgres://$admin_user:$admin_password@127.0.0.1:$delayed_port/postgres
export TEST_DATABASE_CA=$tls_dir/ca.crt
ENV
}

cmd=${1:-up}
[ $# -gt 0 ] && shift
case $cmd in
  up)
    ensure_postgres_installed
    prepare_dir
    ensure_tls
    init_primary
    write_node_conf primary "$primary_port" # ports may change between runs
    start primary "$primary_port"
    create_roles
    start_replica replica "$replica_port"
    start_replica delayed "$delayed_port" "recovery_min_apply_delay = '$apply_delay'"
    wait_for_streaming
    log "primary on 127.0.0.1:$primary_port, replica on 127.0.0.1:$replica_port, replica applying $apply_delay late on 127.0.0.1:$delayed_port (data: $pg_dir)"
    print_env
    ;;
  down)
    bindir=$(find_bindir) || exit 0
    for node in delayed replica primary; do
      if [ -d "$pg_dir/$node" ] && running "$node"; then
        as_pg "$bindir/pg_ctl" -D "$pg_dir/$node" -m fast -w stop >/dev/null
        log "$node stopped"
      fi
    done
    ;;
  stop)
    bindir=$(find_bindir) || die "PostgreSQL is not installed"
    node=${1:-}; mode=${2:-fast}
    case $node in primary|replica|delayed) ;; *) die "stop which server: primary, replica or delayed?" ;; esac
    case $mode in fast|immediate) ;; *) die "stop mode '$mode': use fast or immediate" ;; esac
    if [ -d "$pg_dir/$node" ] && running "$node"; then
      as_pg "$bindir/pg_ctl" -D "$pg_dir/$node" -m "$mode" -w stop >/dev/null
      log "$node stopped ($mode)"
    fi
    ;;
  destroy)
    "$0" down
    rm -rf "$pg_dir"
    log "deleted $pg_dir"
    ;;
  status)
    bindir=$(find_bindir) || die "PostgreSQL is not installed"
    for node in primary replica delayed; do
      if [ -d "$pg_dir/$node" ] && running "$node"; then log "$node: running"; else log "$node: stopped"; fi
    done
    if running primary; then
      psql_admin "$primary_port" -c "SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication"
    fi
    ;;
  env) print_env ;;
  psql)
    bindir=$(find_bindir) || die "PostgreSQL is not installed"
    node=${1:-primary}; [ $# -gt 0 ] && shift
    case $node in
      replica) port=$replica_port ;;
      delayed) port=$delayed_port ;;
      *) port=$primary_port ;;
    esac
    psql_admin "$port" "$@"
    ;;
  *) die "unknown command '$cmd' (use up, down, stop, destroy, status, env or psql)" ;;
esac
