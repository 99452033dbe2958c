#!/usr/bin/env bash
# The benchmark of Tasks: builds the release build, brings up the local PostgreSQL
# primary + replica, starts the server on a database of its own and measures it under a
# fixed load from wrk, optionally side by side with another server (the limit-axum
# yardstick, or any URL) in the same run, rounds alternating A B A B.
#
#   scripts/bench.sh                                  our server alone, full run
#   scripts/bench.sh --yardstick ../shared/bench/limit-axum
#                                                     side by side with the yardstick
#   scripts/bench.sh --smoke                          a few seconds, for CI: no thresholds
#
# Options:
#   --yardstick DIR            build the limit-axum yardstick from DIR (its target dir goes
#                              to target/limit-axum), run it on a database of its own on
#                              the same primary, seeded exactly like ours
#   --compare URL              measure an already-running server at URL too; its data is
#                              yours to seed (this script never touches it)
#   --compare-create-path P    where that server creates a todo from the form fields
#                              title and text (default /new)
#   --duration SECS            length of each measured round (default 10)
#   --connections N            concurrent connections of wrk (default 32)
#   --threads N                wrk threads (default 2)
#   --rounds N                 measured rounds per server and scenario (default 2)
#   --sizes LIST               table sizes of the list scenario (default 100,1000,100000)
#   --smoke                    our server only, size 100, one 2-second round per
#                              scenario; prints the table, writes nothing
#   --write-docs               put the report into docs/performance.md (between its
#                              bench:results markers), with the machine and the date
#
# Scenarios, each measured on every server:
#   list N      GET of our list's page (/lists/<id>; the yardstick's /) with the list
#               seeded to exactly N todos, beside another list of 100,000 todos (re-seeded before every
#               round, then the replica is awaited: our list reads there, as in production)
#   list-br     the list page with 100 todos, compressed: Accept-Encoding as Chrome sends it
#   create      POST of a new todo (ours: the create_todo server function, answered with
#               JSON; the yardstick: POST /new, answered with 303)
# Each gives req/s, p50 and p99 latency, errors (socket errors and non-2xx/3xx answers)
# and the server's peak resident memory (sampled from /proc every 100 ms). Then: cold
# start to /readyz 200 on an empty database, wasm/JS/CSS sizes (raw, gzip -9, brotli
# q11, and as transferred by the server), and the HTML of the 100-todo page.
#
# The report is markdown on stdout; progress goes to stderr. Missed targets are
# reported, not failed: the exit status is non-zero only when the benchmark itself
# failed (a server did not start, a build failed) or a round had more than 1% errors,
# so that a broken server cannot look fast.
#
# Environment: BENCH_ADDR (our server, default 127.0.0.1:3700), BENCH_METRICS_ADDR
# (its /metrics, default 127.0.0.1:3702), BENCH_YARDSTICK_ADDR (default 127.0.0.1:3701),
# BENCH_RUST_LOG (our server's log filter, default warn), and TASKS_PG_PORT /
# TASKS_PG_REPLICA_PORT as for scripts/db.sh. The databases are left running, like
# scripts/test.sh leaves them; the servers started here are stopped on exit.
set -euo pipefail
# This script runs things: the builds, the databases, the servers and wrk. What it
# measures goes, as raw numbers, into target/bench/results, and scripts/bench-report.py
# turns those into the report (and into docs/performance.md).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
# shellcheck source=scripts/release-server.sh
. scripts/release-server.sh # recreate_database, start_release_server, wait_for_200

# --- options ------------------------------------------------------------------------
yardstick_dir="" compare_url="" compare_create_path=/new
duration=10 connections=32 threads=2 rounds=2 sizes=100,1000,100000
smoke=false write_docs=false
args_given="$*"
while [ $# -gt 0 ]; do
  case $1 in
    --yardstick) yardstick_dir=${2:?--yardstick needs a directory}; shift 2 ;;
    --compare) compare_url=${2:?--compare needs a URL}; shift 2 ;;
    --compare-create-path) compare_create_path=${2:?--compare-create-path needs a path}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --connections) connections=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --sizes) sizes=${2:?}; shift 2 ;;
    --smoke) smoke=true; shift ;;
    --write-docs) write_docs=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for number in "$duration" "$connections" "$threads" "$rounds"; do
  [[ $number =~ ^[1-9][0-9]*$ ]] || die "'$number' is not a positive whole number"
done
[[ $sizes =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--sizes must be a comma-separated list of positive numbers, not '$sizes'"
[ -n "$yardstick_dir" ] && [ -n "$compare_url" ] && die "use --yardstick or --compare, not both"
warmup=2
if $smoke; then
  [ -z "$yardstick_dir$compare_url" ] || die "--smoke measures our server alone"
  $write_docs && die "--smoke results are too short to be published: drop --write-docs"
  duration=2 rounds=1 sizes=100 warmup=1
fi
IFS=, read -r -a size_list <<<"$sizes"
first_size=${size_list[0]}

addr=${BENCH_ADDR:-127.0.0.1:3700}
metrics_addr=${BENCH_METRICS_ADDR:-127.0.0.1:3702}
yardstick_addr=${BENCH_YARDSTICK_ADDR:-127.0.0.1:3701}
bench_db=tasks_bench
yardstick_db=tasks_bench_yardstick
# Larger than the server's own REQUEST_TIMEOUT_MS (15 s): a slow page is measured as
# slow, or answered 503 by the server, rather than silently dropped by wrk.
wrk_timeout=20s
# A todo as people write them: a short title, a sentence or two of text.
create_body='title=Water+the+plants&text=Both+the+fern+in+the+hall+and+the+herbs+on+the+balcony%2C+before+the+weekend.'
# Our server measures one list, reached through its URL, beside another list of 100,000
# todos: a page and a count of one list must cost the same whatever other lists hold.
# Fixed ids (26 characters of Crockford base32) and the uuids PostgreSQL stores them as.
bench_list=0benchmark0000000000000000 bench_list_uuid=0b75591a-2b13-0000-0000-000000000000
other_list_uuid=0b755910-6a2e-c000-0000-000000000000 other_list_todos=100000

work=$root/target/bench # logs, the pid of our server, wrk's script and output
results=$work/results   # this run's raw numbers, for scripts/bench-report.py
rm -rf "$results"
mkdir -p "$results/metrics"
# What the report needs to know about the run, one "key <tab> value" a line.
fact() { printf '%s\t%s\n' "$1" "$2" >>"$results/run.tsv"; }
fact args "$args_given"
fact duration "$duration"
fact connections "$connections"
fact threads "$threads"
fact rounds "$rounds"
fact sizes "$sizes"
fact smoke "$smoke"

# --- cleanup: stop what this script started, leave the databases running -------------
started_pids=()
sampler_pid=""
cleanup() {
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  local pid
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# --- tools ----------------------------------------------------------------------------
# wrk over oha: a Debian package, so no long compile on a fresh machine; its Lua hooks
# give exact percentiles and error counts.
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "wrk is missing: install it (sudo apt-get install -y wrk) and rerun"
  log "installing wrk from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null || die "curl is missing (Debian: apt-get install -y curl)"
scripts/bootstrap.sh # also guarantees Node.js, which computes the gzip and brotli sizes

# --- builds ---------------------------------------------------------------------------
# As scripts/test.sh builds it, so that a benchmark after the tests reuses that build.
export CARGO_INCREMENTAL=0
log "release build (a no-op when up to date)"
cargo leptos build --release --precompress >&2
[ -x target/release/tasks ] || die "target/release/tasks was not built"

other="" other_kind="" # kind: yardstick (started and seeded here) or compare (as is)
if [ -n "$yardstick_dir" ]; then
  yardstick_dir=$(cd "$yardstick_dir" && pwd) || die "--yardstick: no directory $yardstick_dir"
  [ -f "$yardstick_dir/Cargo.toml" ] || die "--yardstick: no Cargo.toml in $yardstick_dir"
  yardstick_name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$yardstick_dir/Cargo.toml" | head -n 1)
  log "building the yardstick $yardstick_name (target dir: target/limit-axum)"
  # Its build output stays in our target/, and --locked keeps cargo from rewriting its
  # Cargo.lock: the yardstick's directory is only read.
  CARGO_TARGET_DIR=$root/target/limit-axum cargo build --release --locked -q \
    --manifest-path "$yardstick_dir/Cargo.toml" >&2
  yardstick_bin=$root/target/limit-axum/release/$yardstick_name
  [ -x "$yardstick_bin" ] || die "the yardstick build produced no $yardstick_bin"
  other=$yardstick_name other_kind=yardstick
elif [ -n "$compare_url" ]; then
  compare_url=${compare_url%/}
  other=$compare_url other_kind=compare
fi

# --- databases ------------------------------------------------------------------------
log "local PostgreSQL primary + replica"
db_env=$(scripts/db.sh up) # a failure here stops the script; inside eval it would not
eval "$db_env"
psql_url() { # url, psql args...
  local url=$1; shift
  psql -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}
# A fresh database per run: the cold start then includes the migrations, and no row of
# an earlier run stays behind.
recreate_database "$bench_db"
primary_url=${DATABASE_URL%/*}/$bench_db
replica_url=${DATABASE_REPLICA_URL%/*}/$bench_db
if [ "$other_kind" = yardstick ]; then
  recreate_database "$yardstick_db"
  yardstick_url=${DATABASE_URL%/*}/$yardstick_db
fi

# Waits until the replica has replayed everything the primary has written so far.
wait_for_replica() {
  local lsn _
  lsn=$(psql_url "$primary_url" -At -c "SELECT pg_current_wal_lsn()")
  for _ in $(seq 1 600); do
    [ "$(psql_url "$replica_url" -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
    sleep 0.1
  done
  die "the replica did not catch up with the primary within 60 s"
}

# Exactly n todos, with titles and texts of realistic length and variety. Only title and
# text are named, so the seed keeps working as columns with defaults are added.
seed_sql() { # table n
  cat <<SQL
TRUNCATE $1 RESTART IDENTITY;
INSERT INTO $1 (title, text)
SELECT (ARRAY['Call', 'Email', 'Review', 'Renew', 'Book', 'Pay', 'Fix', 'Plan', 'Order',
              'Update', 'Clean', 'Return', 'Prepare', 'Check'])[1 + g % 14]
       || ' ' ||
       (ARRAY['the dentist', 'the car insurance', 'the quarterly report', 'my passport',
              'train tickets to Lyon', 'the electricity bill', 'the leaking kitchen tap',
              'the team offsite', 'printer toner', 'the project roadmap', 'the garage',
              'the library books', 'a birthday present for Sam', 'the slides for Monday',
              'the tax return', 'the bike brakes', 'the hotel in Porto'])[1 + (g / 14) % 17]
       || ' #' || g,
       (ARRAY['Before Friday, ideally in the morning when it is quiet.',
              'Check the notes from last time first and bring the folder with the receipts.',
              'Ask Maria whether she already did it, so we do not do it twice.',
              'Not urgent, but it has been on the list for three weeks now.',
              'The number is in the email from the 12th; keep the confirmation.',
              '',
              'Compare at least three offers and write down the prices.'])[1 + g % 7]
       || (ARRAY['', ' Budget: about 80 euros.', ' Takes about an hour.',
              ' If it rains, move it to next week.', ''])[1 + (g / 7) % 5]
FROM generate_series(1, $2) AS g;
SQL
}
# Ours: the other list first (older ids), then n todos in the measured list.
seed_tasks_sql() { # n
  cat <<SQL
TRUNCATE todos, list_counts RESTART IDENTITY;
DELETE FROM lists;
INSERT INTO lists (id) VALUES ('$other_list_uuid'), ('$bench_list_uuid');
INSERT INTO todos (list_id, title, text)
SELECT '$other_list_uuid', 'Another list''s todo ' || g, '' FROM generate_series(1, $other_list_todos) AS g;
SQL
  seed_sql todos "$1" | sed -e '/^TRUNCATE/d' -e "s/^INSERT INTO todos (title, text)/INSERT INTO todos (list_id, title, text)/" \
    -e "s/^SELECT (ARRAY\['Call'/SELECT '$bench_list_uuid'::uuid, (ARRAY['Call'/"
}
seed() { # server index, n
  case ${server_kind[$1]} in
    tasks) seed_tasks_sql "$2" | psql_url "$primary_url"
      psql_url "$primary_url" -c "VACUUM ANALYZE todos"
      wait_for_replica
      # A large seed can put the replica over the lag limit for a moment, and the server
      # then leaves it out of rotation until its next health check (every ~1 s).
      sleep 1.5 ;;
    yardstick) seed_sql todo "$2" | psql_url "$yardstick_url"
      psql_url "$yardstick_url" -c "VACUUM ANALYZE todo" ;;
    compare) ;; # not ours to touch
  esac
}

# --- servers --------------------------------------------------------------------------
server_name=(tasks) server_url=("http://$addr") server_kind=(tasks)
server_page=("/lists/$bench_list") server_create=(/api/create_todo) server_pid=("")
server_create_body=("list=$bench_list&$create_body")
for used in "$addr" "$metrics_addr"; do
  port_in_use "$used" && die "$used is taken: stop what listens there or set BENCH_ADDR / BENCH_METRICS_ADDR"
done
log "starting our server on $addr (cold start: exec to /readyz 200, migrations included)"
start_ms=$(now_ms)
# The create rounds add tens of thousands of todos to one list: its cap (LIST_MAX_TODOS,
# 10,000 by default) would turn most of them into quick 422s, which count as errors.
start_release_server "$addr" "$metrics_addr" "$bench_db" "$work/tasks.log" RUST_LOG="${BENCH_RUST_LOG:-warn}" \
  LIST_MAX_TODOS=100000000
server_pid[0]=$release_server_pid
started_pids+=("${server_pid[0]}")
echo "${server_pid[0]}" >"$work/tasks.pid" # for a profiler attached during the run
if ! cold_start_ms=$(wait_for_200 "http://$addr/readyz" "$start_ms" "${server_pid[0]}"); then
  tail -n 20 "$work/tasks.log" >&2
  die "our server did not become ready within 60 s (log: $work/tasks.log)"
fi
log "ready after $cold_start_ms ms"
other_cold_start=""

if [ "$other_kind" = yardstick ]; then
  port_in_use "$yardstick_addr" && die "$yardstick_addr is taken: stop what listens there or set BENCH_YARDSTICK_ADDR"
  log "starting the yardstick on $yardstick_addr"
  start_ms=$(now_ms)
  DATABASE_URL=$yardstick_url LISTEN=$yardstick_addr "$yardstick_bin" >"$work/yardstick.log" 2>&1 &
  server_pid[1]=$!
  started_pids+=("${server_pid[1]}")
  # It has no readiness probe: its first page answered is its "ready".
  if ! other_cold_start=$(wait_for_200 "http://$yardstick_addr/" "$start_ms" "${server_pid[1]}"); then
    tail -n 20 "$work/yardstick.log" >&2
    die "the yardstick did not answer within 60 s (log: $work/yardstick.log)"
  fi
  server_name[1]=$other server_url[1]="http://$yardstick_addr" server_kind[1]=yardstick
  server_page[1]=/ server_create_body[1]=$create_body
  server_create[1]=/new
elif [ "$other_kind" = compare ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$compare_url/" || true)
  [[ $code =~ ^2 ]] || die "--compare: $compare_url/ answered '$code', not 2xx"
  server_name[1]=$other server_url[1]=$compare_url server_kind[1]=compare server_pid[1]=""
  server_page[1]=/ server_create_body[1]=$create_body
  server_create[1]=$compare_create_path
fi
server_count=${#server_name[@]}
for ((i = 0; i < server_count; i++)); do
  fact "server.$i.name" "${server_name[$i]}"
  fact "server.$i.kind" "${server_kind[$i]}"
done
fact server.0.cold_start_ms "$cold_start_ms"
if [ -n "$other_cold_start" ]; then fact server.1.cold_start_ms "$other_cold_start"; fi

# --- measurement ----------------------------------------------------------------------
cat >"$work/wrk.lua" <<'LUA'
-- Written by scripts/bench.sh: the request from the environment, the results as one line.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT") or "*/*"
-- What a browser sends with a request of the app's own page (our server refuses writes
-- without it, or an Origin).
wrk.headers["Sec-Fetch-Site"] = "same-origin"
local encoding = os.getenv("BENCH_ACCEPT_ENCODING") or ""
if encoding ~= "" then wrk.headers["Accept-Encoding"] = encoding end

-- Raw numbers, tab-separated, after "BENCH": requests, duration (us), errors (socket
-- errors, and non-2xx/3xx answers, which are in e.status), p50 and p99 latency (us), bytes.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH\t%d\t%d\t%d\t%.0f\t%.0f\t%d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end
LUA

# Highest VmRSS of pid (kB) while it runs, written to a file after every new peak.
sample_rss() { # pid file
  local peak=0 key value _
  while kill -0 "$1" 2>/dev/null; do
    while read -r key value _; do
      if [ "$key" = VmRSS: ] && [ "$value" -gt "$peak" ]; then
        peak=$value
        echo "$peak" >"$2"
      fi
    done <"/proc/$1/status" 2>/dev/null || true
    sleep 0.1
  done
}
# The highest resident memory of pid since it started (kB).
vm_hwm_kb() { # pid
  local key value _
  while read -r key value _; do
    if [ "$key" = VmHWM: ]; then echo "$value"; return 0; fi
  done <"/proc/$1/status"
  return 1
}
# CPU time pid has used, user + system, in 1/100 s: fields 14 and 15 of its stat, counted
# after the command name in parentheses (which may hold spaces).
cpu_ticks() { # pid
  local stat fields
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  read -r -a fields <<<"${stat##*) }"
  echo $((fields[11] + fields[12]))
}

# Waits (at most a minute) until a server is idle: requests that wrk abandoned at the
# end of a round may still be rendering, and must not slow down the next server's round.
settle() { # pid (empty: not ours to watch)
  [ -n "$1" ] || return 0
  local before after _
  for _ in $(seq 1 120); do
    before=$(cpu_ticks "$1") || return 0
    sleep 0.5
    after=$(cpu_ticks "$1") || return 0
    [ $((after - before)) -le 2 ] && return 0 # under 5% of a core
  done
  log "  ${2:-the server} is still busy after a minute; going on"
}

# Our /metrics, saved around each list round: the report counts from them the reads of
# our list that the replica served.
save_metrics() { # file
  curl -s --max-time 2 -o "$1" "http://$metrics_addr/metrics" || die "our /metrics ($metrics_addr) did not answer"
}

# One wrk run against server i; prints wrk's raw numbers (see done() in wrk.lua).
run_wrk() { # server index, scenario, seconds
  local i=$1 scenario=$2 seconds=$3 method=GET body="" accept=text/html encoding="" path=${server_page[$1]}
  case $scenario in
    create) method=POST body=${server_create_body[$i]} accept=application/json path=${server_create[$i]} ;;
    list-br) encoding=$browser_encodings ;;
  esac
  BENCH_METHOD=$method BENCH_BODY=$body BENCH_ACCEPT=$accept BENCH_ACCEPT_ENCODING=$encoding \
    wrk -t "$threads" -c "$connections" -d "${seconds}s" --timeout "$wrk_timeout" \
    -s "$work/wrk.lua" "${server_url[$i]}$path" >"$work/wrk.out" 2>&1 || {
    cat "$work/wrk.out" >&2
    die "wrk failed against ${server_url[$i]}$path"
  }
  sed -n 's/^BENCH\t//p' "$work/wrk.out"
}

# One measured round: appends its raw numbers to rounds.tsv (the report finds there the
# rounds with too many errors, too).
round_id=0
measure() { # server index, scenario, size, round
  local i=$1 scenario=$2 size=$3 round=$4 result fields rss_kb="" count_reads=false
  local pid=${server_pid[$i]}
  round_id=$((round_id + 1))
  if [ "${server_kind[$i]}" = tasks ] && [ "$scenario" != create ]; then count_reads=true; fi
  if $count_reads; then save_metrics "$results/metrics/$round_id-before.txt"; fi
  if [ -n "$pid" ]; then
    rm -f "$work/rss"
    sample_rss "$pid" "$work/rss" &
    sampler_pid=$!
  fi
  result=$(run_wrk "$i" "$scenario" "$duration")
  if [ -n "$pid" ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
    kill -0 "$pid" 2>/dev/null || die "${server_name[$i]} died during $scenario (log in $work)"
    rss_kb=$(<"$work/rss")
  fi
  if $count_reads; then save_metrics "$results/metrics/$round_id-after.txt"; fi
  IFS=$'\t' read -r -a fields <<<"$result"
  [ ${#fields[@]} -eq 6 ] || die "no result from wrk against ${server_name[$i]} (output: $work/wrk.out)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round_id" "$scenario" "$size" "$i" "$round" "$rss_kb" "$result" \
    >>"$results/rounds.tsv"
  log "  $scenario $size, ${server_name[$i]}, round $round: $(python3 scripts/bench-report.py round "$results")"
  settle "$pid" "${server_name[$i]}"
}
printf 'id\tscenario\tsize\tserver\tround\trss_kb\trequests\tduration_us\terrors\tp50_us\tp99_us\tbytes\n' \
  >"$results/rounds.tsv"

# Counts the todos a page shows (seeded titles end in "#<n>"), to prove each server
# really renders what it was given: the whole table (the yardstick), or a full first
# page of it (ours, paged by PAGE_SIZE in src/todos/listing.rs).
count_items() { # url of the page, todos seeded (ours also checks the list's count)
  local page=$work/count.html
  curl -sf --max-time 60 -o "$page" "$1" || die "$1 did not answer 2xx within 60 s (curl exit $?)"
  case $1 in
    */lists/*) grep -q ">$2 items\? left<" "$page" || die "$1 does not say \"$2 items left\": the count is not the list's own" ;;
  esac
  grep -oE '#[0-9]+</' "$page" | wc -l
  rm -f "$page"
}

# The cost of one page with nothing else running: 3 sequential requests, of which the
# report takes the median.
single_page() { # server index, size
  local _ timing
  for _ in 1 2 3; do
    timing=$(curl -sf --max-time 120 -o /dev/null -w '%{time_total}\t%{size_download}' "${server_url[$1]}${server_page[$1]}") ||
      die "${server_url[$1]}${server_page[$1]} did not answer 2xx within 120 s"
    printf '%s\t%s\t%s\n' "$2" "$1" "$timing" >>"$results/single.tsv" # size, server, seconds, bytes
  done
}

# What a browser offers (Chrome's Accept-Encoding): the server picks from it.
browser_encodings='gzip, deflate, br, zstd'

# Our list page shows at most this many todos (keyset paging).
tasks_page_size=$(sed -n 's/^pub const PAGE_SIZE: usize = \([0-9]*\);/\1/p' src/todos/listing.rs)
[ -n "$tasks_page_size" ] || die "PAGE_SIZE not found in src/todos/listing.rs"

scenario() { # name, size
  local name=$1 size=$2 i round shown expected
  log "scenario $name, $size todos"
  for ((i = 0; i < server_count; i++)); do
    seed "$i" "$size"
    if [ "$name" != create ] && [ "${server_kind[$i]}" != compare ]; then
      shown=$(count_items "${server_url[$i]}${server_page[$i]}" "$size")
      expected=$size
      if [ "${server_kind[$i]}" = tasks ] && [ "$size" -gt "$tasks_page_size" ]; then
        expected=$tasks_page_size
      fi
      [ "$shown" -eq "$expected" ] || die "${server_name[$i]} shows $shown todos, not the $expected expected of the $size seeded"
    fi
    if [ "$name" = list ]; then single_page "$i" "$size"; fi
    # Unmeasured: pools filled, statements prepared, caches warm. Once per kind of
    # request: a warm-up at 100,000 todos would only queue minutes of work.
    if [ "$name" != list ] || [ "$size" = "$first_size" ]; then
      run_wrk "$i" "$name" "$warmup" >/dev/null
      settle "${server_pid[$i]}" "${server_name[$i]}"
    fi
  done
  for ((round = 1; round <= rounds; round++)); do
    for ((i = 0; i < server_count; i++)); do # A B A B
      seed "$i" "$size"
      measure "$i" "$name" "$size" "$round"
    done
  done
}

fact load_start "$(cut -d' ' -f1 /proc/loadavg)"
# The scenarios with targets first, on a process that has not yet seen a large table
# (memory an allocator took for a huge page is rarely given back).
scenario list "$first_size"
$smoke || scenario list-br "$first_size"
scenario create "$first_size"
for size in "${size_list[@]:1}"; do
  scenario list "$size"
done

# --- sizes: bundle and page ---------------------------------------------------------
log "bundle and page sizes (100 todos)"
for ((i = 0; i < server_count; i++)); do seed "$i" 100; done
page=$results/page.html
curl -s --max-time 10 -o "$page" "${server_url[0]}${server_page[0]}"
transferred() { # url -> bytes on the wire for a browser, and the encoding used
  curl -s --max-time 10 -o /dev/null -H "Accept-Encoding: $browser_encodings" -w '%{size_download} %header{content-encoding}' "$1"
}
# The files the page loads; the report adds their sizes compressed.
mapfile -t assets < <(grep -oE '/pkg/[A-Za-z0-9._-]+\.(wasm|js|css)' "$page" | sort -u)
[ ${#assets[@]} -gt 0 ] || die "the page references no /pkg assets"
for asset in "${assets[@]}"; do
  file=target/site$asset
  [ -f "$file" ] || die "the page references $asset, which is not in target/site"
  read -r wire encoding <<<"$(transferred "${server_url[0]}$asset")"
  printf '%s\t%s\t%s\t%s\n' "$asset" "$file" "$wire" "$encoding" >>"$results/assets.tsv"
done
read -r wire encoding <<<"$(transferred "${server_url[0]}${server_page[0]}")"
fact page_wire "$wire"
fact page_encoding "$encoding"
if [ "$server_count" -gt 1 ]; then
  raw=$(curl -s --max-time 10 -o /dev/null -w '%{size_download}' "${server_url[1]}${server_page[1]}")
  read -r wire encoding <<<"$(transferred "${server_url[1]}${server_page[1]}")"
  fact other_page_raw "$raw"
  fact other_page_wire "$wire"
  fact other_page_encoding "$encoding"
fi
for ((i = 0; i < server_count; i++)); do
  if [ -n "${server_pid[$i]}" ]; then
    hwm=$(vm_hwm_kb "${server_pid[$i]}") || die "${server_name[$i]} is no longer running"
    fact "server.$i.hwm_kb" "$hwm"
  fi
done
version=$(psql_url "$primary_url" -At -c "SHOW server_version") # for --write-docs
fact pg_version "$version"

# --- report ---------------------------------------------------------------------------
# On stdout, and with --write-docs into docs/performance.md. It exits non-zero when a
# round had more than 1% errors, which ends this script with that status.
report_args=(report "$results")
if $write_docs; then report_args+=(--write-docs); fi
python3 scripts/bench-report.py "${report_args[@]}"
log "done"
