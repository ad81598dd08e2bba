#!/usr/bin/env bash
# Load benchmark of sima-server with wrk: limit-checked POST /invoices/ on a PRO organization
# and GET /billing/usage/, then both again for an organization with 3 overrides (a count, a
# switch, a value), 32 keep-alive connections each. Prints requests/s, p50 and p99.
# Usage: bench/server_load.sh [seconds]     (loopback only; default 10 s per run)
# Env: SIMA_BENCH_PORT (18089), SIMA_BENCH_BUILD (build/server-rel), SIMA_BENCH_LOG (file|off).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
port=${SIMA_BENCH_PORT:-18089}
build=${SIMA_BENCH_BUILD:-$root/build/server-rel}
bin=$build/server/sima-server

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ ! -x "$bin" ]; then
  echo "== building release sima-server in $build" >&2
  cmake --preset release -B "$build" >/dev/null
  cmake --build "$build" --target sima-server -j "$(nproc)" >/dev/null
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

admin=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
log=${SIMA_BENCH_LOG:-$tmp/access.log}
SIMA_LISTEN=127.0.0.1:$port SIMA_DB=$tmp/bench.db SIMA_ADMIN_TOKEN=$admin SIMA_ACCESS_LOG=$log \
  "$bin" 2>"$tmp/server.err" &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

org=$(curl -sf -X POST "http://127.0.0.1:$port/admin/orgs/" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"name":"Bench","plan":"PRO"}')
export SIMA_KEY
SIMA_KEY=$(printf '%s' "$org" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
[ -n "$SIMA_KEY" ] || { echo "could not create the PRO organization: $org" >&2; exit 1; }

# Prints "name  requests/s  p50  p99  non-2xx" from one wrk run.
run() {
  local name=$1 script=$2 out
  out=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$script" "http://127.0.0.1:$port")
  local rps p50 p99 bad
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-30s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${bad:-0}"
}

# "invoices counted: N" for the organization of SIMA_KEY.
counted() {
  curl -sf "http://127.0.0.1:$port/billing/usage/" -H "Authorization: Bearer $SIMA_KEY" |
    python3 -c 'import json, sys; print("invoices counted:", json.load(sys.stdin)["usage"]["invoices"]["used"])'
}

echo "sima-server load ($(nproc) cores, wrk -t2 -c32 -d${secs}s, access log: $log)"
run "POST /invoices/ (PRO)" "$root/bench/invoices.lua"
run "GET /billing/usage/" "$root/bench/usage.lua"

counted

# The same calls for an organization whose decisions and usage rows resolve 3 overrides.
org=$(curl -sf -X POST "http://127.0.0.1:$port/admin/orgs/" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"name":"Deal","plan":"PRO"}')
SIMA_KEY=$(printf '%s' "$org" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
org_id=$(printf '%s' "$org" | sed -n 's/.*"org_id":"\([^"]*\)".*/\1/p')
for o in 'invoices {"limit":100000000}' 'custom_branding {"limit":false}' \
         'attachment_mb {"limit":1000,"reason":"bench"}'; do
  curl -sf -X PUT "http://127.0.0.1:$port/admin/orgs/$org_id/overrides/${o%% *}/" \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "${o#* }" >/dev/null
done
run "POST /invoices/ (3 overrides)" "$root/bench/invoices.lua"
run "GET /billing/usage/ (3 ovr.)" "$root/bench/usage.lua"
counted
