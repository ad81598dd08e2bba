#!/usr/bin/env bash
# Server-side latency of the Khalti payment calls against the local simulator: N times
# init (server -> simulator initiate) and, after paying at the simulator, verify (server ->
# simulator lookup, then the durable apply + activation). Figures come from sima-server's
# own access log ("ms" = time inside the server, request read to response written).
# Usage: bench/payments_latency.sh [N]   (default 200; loopback only)
# Env: SIMA_BENCH_BUILD (build/pay-rel), SIMA_BENCH_PORT (18091), SIMA_BENCH_SIM_PORT (18092).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
build=${SIMA_BENCH_BUILD:-$root/build/pay-rel}
port=${SIMA_BENCH_PORT:-18091}
sim_port=${SIMA_BENCH_SIM_PORT:-18092}
server_bin=$build/server/sima-server
sim_bin=$build/simulator/sima-gateway-sim
if [ ! -x "$server_bin" ] || [ ! -x "$sim_bin" ]; then
  echo "== building release binaries in $build" >&2
  cmake --preset release -B "$build" >/dev/null
  cmake --build "$build" --target sima-server sima-gateway-sim -j 2 >/dev/null
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

api=http://127.0.0.1:$port
sim=http://127.0.0.1:$sim_port
admin=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$sim_bin" --listen "127.0.0.1:$sim_port" --quiet &
pids+=($!)
SIMA_LISTEN=127.0.0.1:$port SIMA_DB=$tmp/bench.db SIMA_ADMIN_TOKEN=$admin \
SIMA_ACCESS_LOG=$tmp/access.log SIMA_MAIL_DIR=$tmp/mail SIMA_PUBLIC_URL=$api \
SIMA_INIT_PER_MINUTE=100000 \
KHALTI_BASE_URL=$sim/api/v2/ KHALTI_SECRET_KEY=live_secret_key_68791341fdd94846a146f0457ff7b455 \
  "$server_bin" 2>"$tmp/server.err" &
pids+=($!)
for url in "$sim/_sim/health" "$api/healthz"; do
  for _ in $(seq 1 100); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.05; done
done

key=$(curl -sf -X POST "$api/admin/orgs/" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"name":"Bench","billing_email":"b@bench.test"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
for _ in $(seq 1 "$n"); do
  init=$(curl -sf -X POST "$api/billing/khalti/init/" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d '{"plan":"PRO"}')
  id=$(echo "$init" | json payment_id)
  pidx=$(echo "$init" | json pidx)
  curl -sf -X POST "$sim/_sim/khalti/$pidx/pay" -d '{}' >/dev/null
  curl -sf -X POST "$api/billing/khalti/verify/" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d "{\"payment_id\":$id,\"pidx\":\"$pidx\"}" >/dev/null
done
kill -TERM "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true   # flushes the access log
python3 - "$tmp/access.log" "$n" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(f"sima-server payment latency against sima-gateway-sim, N={sys.argv[2]} (release, loopback)")
for path in ("/billing/khalti/init/", "/billing/khalti/verify/"):
    ms = [r["ms"] for r in rows if r.get("path") == path and r.get("status") in (200, 201)]
    print(f"{path:26} n={len(ms):4}  p50 {pct(ms, 50):6.2f} ms  p99 {pct(ms, 99):6.2f} ms")
PY
