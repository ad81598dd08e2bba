#!/usr/bin/env bash
# Storage bounds of sima-server under an attacker with one FREE organization's key:
#  1. WAL size during N seconds of sustained writes (POST /usage/api_calls/ with a new
#     idempotency key each time: a soft limit, so FREE may do it forever), sampled every 0.2 s;
#  2. bytes one idempotency key costs (database growth / keys stored, after the final
#     checkpoint);
#  3. sessions kept for one key after minting for 5 s (SIMA_SESSIONS_PER_KEY);
#  4. what one pruning pass removes and how long it takes (bench/store_prune, in-process).
# Usage: bench/storage_bounds.sh [seconds]   (default 20; loopback only)
# Env: SIMA_BENCH_BIN (build/debug/server/sima-server; give another build's binary to compare),
#      SIMA_BENCH_PRUNE (build/debug/bench/store_prune; "off" to skip), SIMA_BENCH_PORT (18093),
#      SIMA_BENCH_CAP (SIMA_SESSIONS_PER_KEY, default 1000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
port=${SIMA_BENCH_PORT:-18093}
bin=${SIMA_BENCH_BIN:-$root/build/debug/server/sima-server}
prune=${SIMA_BENCH_PRUNE:-$root/build/debug/bench/store_prune}
cap=${SIMA_BENCH_CAP:-1000}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 1; }
[ -x "$bin" ] || { echo "no sima-server at $bin (cmake --build --preset debug --target sima-server)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  pid=""
}
trap 'stop; rm -rf "$tmp"' EXIT
admin=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# start DB [ENV=VALUE...]: sima-server on $port with a new FREE organization; sets SIMA_KEY.
start() {
  local db=$1
  shift
  env SIMA_LISTEN=127.0.0.1:$port SIMA_DB="$db" SIMA_ADMIN_TOKEN="$admin" SIMA_ACCESS_LOG=off \
    "$@" "$bin" 2>"$tmp/server.err" &
  pid=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  local org
  org=$(curl -sf -X POST "http://127.0.0.1:$port/admin/orgs/" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"name":"Attacker"}')
  SIMA_KEY=$(printf '%s' "$org" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
  [ -n "$SIMA_KEY" ] || { echo "could not create the organization: $org" >&2; exit 1; }
  export SIMA_KEY
}

echo "storage bounds of $bin ($(nproc) cores, wrk -t2 -c32 -d${secs}s)"

# 1 + 2: sustained writes.
db=$tmp/writes.db
start "$db"
base=$(( $(size "$db") + $(size "$db-wal") ))
wrk -t2 -c32 -d"${secs}s" -s "$root/bench/idempotent_usage.lua" "http://127.0.0.1:$port" \
  >"$tmp/wrk.txt" &
wrk_pid=$!
peak=0
while kill -0 "$wrk_pid" 2>/dev/null; do
  w=$(size "$db-wal")
  [ "$w" -gt "$peak" ] && peak=$w
  sleep 0.2
done
wait "$wrk_pid"
end_wal=$(size "$db-wal")
keys=$(sqlite3 "file:$db?mode=ro" 'SELECT COUNT(*) FROM usage_events')
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
stop  # the final checkpoint moves everything into the database file
grown=$(( $(size "$db") + $(size "$db-wal") - base ))
echo "WAL during ${secs} s of writes from one FREE org: peak $(mib "$peak"), at the end $(mib "$end_wal") ($rps req/s)"
echo "idempotency keys stored: $keys; database grew $(mib "$grown"): $(( grown / (keys > 0 ? keys : 1) )) bytes per key"

# 3: sessions per key.
db=$tmp/sessions.db
start "$db" SIMA_SESSIONS_PER_KEY="$cap"
wrk -t2 -c8 -d5s -s "$root/bench/sessions.lua" "http://127.0.0.1:$port" >"$tmp/wrk.txt"
minted=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
kept=$(sqlite3 "file:$db?mode=ro" 'SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM sessions GROUP BY org_id)')
stop
echo "sessions minted with one key in 5 s: $minted; kept: $kept (SIMA_SESSIONS_PER_KEY=$cap)"

# 4: pruning.
if [ "$prune" != off ] && [ -x "$prune" ]; then
  "$prune" 100000
fi
