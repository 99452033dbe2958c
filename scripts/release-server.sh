# shellcheck shell=bash
# Helpers for running the release build on a database of its own, sourced (never run) by
# scripts/bench.sh (the benchmark) and scripts/test.sh (the end-to-end and Lighthouse
# steps). The caller is in the checkout's root, has the local primary + replica's
# environment (`eval "$(scripts/db.sh up)"`: DATABASE_URL, DATABASE_REPLICA_URL) and
# defines die().

# Makes a new, empty database on the local primary, owned by the app's role, and waits
# until the replica has it too.
recreate_database() { # name
  scripts/db.sh psql primary -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1 OWNER tasks" >/dev/null
  local _
  for _ in $(seq 1 100); do
    [ "$(scripts/db.sh psql replica -At -c "SELECT count(*) FROM pg_database WHERE datname = '$1'")" = 1 ] && return 0
    sleep 0.1
  done
  die "the replica did not receive database $1 within 10 s"
}

port_in_use() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Polls url every 10 ms until it answers 200; prints the milliseconds since start_ms.
# Fails after a minute, or as soon as process pid is gone.
wait_for_200() { # url start_ms pid
  local deadline=$(($(now_ms) + 60000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    kill -0 "$3" 2>/dev/null || return 1
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = 200 ]; then
      echo $(($(now_ms) - $2))
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# Starts the release build (target/release/tasks with target/site, as `cargo leptos
# build --release --precompress` leaves them) in the background, with the environment of
# the production image (Dockerfile) on local addresses, on the given database of the
# local primary and replica, the write rate limit off (one client writes fast). Its
# output goes to the log file; its pid into release_server_pid. Arguments VAR=value
# after the log file are added to that environment, or override it.
start_release_server() { # addr metrics_addr database log [VAR=value...]
  local addr=$1 metrics_addr=$2 database=$3 log=$4
  shift 4
  env LEPTOS_OUTPUT_NAME=tasks LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_HASH_FILES=true LEPTOS_ENV=PROD MIMALLOC_PURGE_DELAY=0 LEPTOS_SITE_ADDR="$addr" METRICS_ADDR="$metrics_addr" \
    DATABASE_URL="${DATABASE_URL%/*}/$database" DATABASE_REPLICA_URL="${DATABASE_REPLICA_URL%/*}/$database" \
    RUST_LOG=warn WRITE_RATE_LIMIT_PER_MINUTE=0 "$@" target/release/tasks serve >"$log" 2>&1 &
  # shellcheck disable=SC2034 # read by the caller
  release_server_pid=$!
}
