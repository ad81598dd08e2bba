#!/usr/bin/env bash
# The two stores side by side, in one run: limit-checked POST /invoices/ on a PRO organization
# with wrk (32 keep-alive connections) against
#   1. SQLite, one sima-server;
#   2. PostgreSQL, one sima-server;
#   3. PostgreSQL, three sima-servers on the same database, wrk's connections spread over them
#      (bench/invoices_spread.lua gives each wrk thread one server: one histogram for all);
#   4. PostgreSQL, one sima-server, an organization with three overrides (invoices unlimited on
#      PRO, a switch, a value): what reading overrides with every decision costs.
# Prints requests/s, p50 and p99 of each, and checks each organization's counter against the
# 201s wrk saw.
# Usage: bench/store_load.sh [seconds]     (default 10 s per run; loopback only)
# Env: SIMA_BENCH_BUILD (build/release), SIMA_BENCH_THREADS (wrk threads, 32: one per
#      connection, so three servers get 11/11/10), SIMA_DB_POOL (the servers' pool size).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
build=${SIMA_BENCH_BUILD:-$root/build/release}
bin=$build/server/sima-server
threads=${SIMA_BENCH_THREADS:-32}

command -v wrk >/dev/null || { echo "wrk is not installed (scripts/deps installs it)" >&2; exit 1; }
if [ ! -x "$bin" ]; then
  echo "== building release sima-server in $build" >&2
  cmake --preset release -B "$build" >/dev/null
  cmake --build "$build" --target sima-server -j "$(nproc)" >/dev/null
fi

tmp=$(mktemp -d)
pg_dir=/tmp/sima-bench-pg-$$  # beside, not inside, $tmp: the cluster's user must reach it
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
  "$root/scripts/pg-cluster" stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

admin=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
ports=()
# Starts one sima-server on $1 (SIMA_DB); appends its port to ports.
start_server() {
  local n=${#pids[@]} port
  SIMA_LISTEN=127.0.0.1:0 SIMA_DB=$1 SIMA_ADMIN_TOKEN=$admin SIMA_ACCESS_LOG=off \
    SIMA_MAIL_DIR=$tmp/mail "$bin" 2>"$tmp/server-$n.err" &
  pids+=("$!")
  for _ in $(seq 1 500); do
    port=$(grep -o '"addr":"127.0.0.1:[0-9]*' "$tmp/server-$n.err" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "sima-server did not start: $(cat "$tmp/server-$n.err")" >&2; exit 1; }
    sleep 0.02
  done
  [ -n "$port" ] || { echo "sima-server did not report its port" >&2; exit 1; }
  ports+=("$port")
}
stop_servers() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  ports=()
}
new_pro_org() {  # prints the organization's secret key; with "overrides", gives it three
  local org id
  org=$(curl -sf -X POST "http://127.0.0.1:${ports[0]}/admin/orgs/" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"name":"Bench","plan":"PRO"}')
  if [ "${1:-}" = overrides ]; then
    id=$(printf '%s' "$org" | sed -n 's/.*"org_id":"\([^"]*\)".*/\1/p')
    for o in 'invoices {"limit":-1,"plan":"PRO"}' 'custom_branding {"limit":false}' \
      'attachment_mb {"limit":1000}'; do
      curl -sf -o /dev/null -X PUT "http://127.0.0.1:${ports[0]}/admin/orgs/$id/overrides/${o%% *}/" \
        -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "${o#* }" ||
        { echo "could not set the override ${o%% *}" >&2; exit 1; }
    done
  fi
  printf '%s' "$org" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p'
}
invoices_used() {
  curl -sf "http://127.0.0.1:${ports[0]}/billing/usage/" -H "Authorization: Bearer $SIMA_KEY" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["usage"]["invoices"]["used"])'
}

results=()
# One wrk run over every server in ports (for an organization with overrides when $2 is
# "overrides"); adds a line to results.
run() {
  local name=$1 out rps p50 p99 bad total used
  export SIMA_KEY SIMA_PORTS
  SIMA_KEY=$(new_pro_org "${2:-}")
  [ -n "$SIMA_KEY" ] || { echo "could not create the PRO organization" >&2; exit 1; }
  SIMA_PORTS="${ports[*]}"
  out=$(wrk -t"$threads" -c32 -d"${secs}s" --latency -s "$root/bench/invoices_spread.lua" \
    "http://127.0.0.1:${ports[0]}")
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $5}')
  total=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
  used=$(invoices_used)
  # wrk does not count the requests in flight when it stops (at most one per connection).
  local seen=$((total - ${bad:-0}))
  if [ "$used" -lt "$seen" ] || [ "$used" -gt "$((seen + 32))" ]; then
    echo "warning: $name: the counter says $used, wrk saw $seen created (+ at most 32 in flight)" >&2
  fi
  results+=("$(printf '%-24s %9s %14s %10s %10s %8s %10s' "$name" "${#ports[@]}" "$rps" "$p50" "$p99" "${bad:-0}" "$used")")
}

echo "== SQLite, one server" >&2
start_server "$tmp/bench.db"
run "SQLite"
stop_servers

echo "== PostgreSQL (scripts/pg-cluster), one server, then three" >&2
url=$("$root/scripts/pg-cluster" start "$pg_dir")
start_server "$url"
run "PostgreSQL"
stop_servers
for _ in 1 2 3; do start_server "$url"; done
run "PostgreSQL"
stop_servers
start_server "$url"
run "PostgreSQL, 3 overrides" overrides
stop_servers

echo
echo "POST /invoices/ on PRO: $(nproc) cores, wrk -t$threads -c32 -d${secs}s, ${SIMA_DB_POOL:+pool $SIMA_DB_POOL, }access log off"
printf '%-24s %9s %14s %10s %10s %8s %10s\n' store instances "requests/s" p50 p99 non-2xx counted
for line in "${results[@]}"; do echo "$line"; done
