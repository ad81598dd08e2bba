#!/usr/bin/env bash
# How many idle live usage streams (GET /events/{org_id}/) each setup holds on this machine, and
# what holding them costs the normal requests: figures, not a test.
#
#   bench/streams.sh [SIMA_SERVER] [--counts "1000 5000 10000"] [--setups "embedded nchan"]
#                    [--seconds 10] [--embedded-max 16384]
#
# For each setup, on SQLite in a temporary folder:
#   embedded  sima-server holds the streams itself (SIMA_EVENTS=embedded, SIMA_MAX_STREAMS set
#             to --embedded-max so the machine, not the default cap of 4096, is the limit);
#   nchan     nginx + nchan holds them (deploy/nginx/sima-events*.conf), sima-server only
#             authorizes each one and publishes (SIMA_EVENTS=nchan).
# it creates 10 organizations, then for 0 and each count: opens that many streams spread over
# them (bench/streams_hold.py, a few hundred at a time, each waiting for its first event),
# runs wrk against GET /billing/plans/ on sima-server directly (2 threads, 32 connections) while
# they are held, changes every organization once and counts the events the held streams got,
# and prints: streams open / refused / failed, requests/s, p99 latency, and the RSS of
# sima-server and of nginx (master + workers). ulimit -n is raised to the hard limit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=$root/build/release/server/sima-server
counts="1000 5000 10000"
setups="embedded nchan"
seconds=10
embedded_max=16384
while (($#)); do
  case "$1" in
    --counts) counts=$2; shift ;;
    --setups) setups=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --embedded-max) embedded_max=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) server=$1 ;;
  esac
  shift
done
[ -x "$server" ] || { echo "no sima-server at $server (build it first)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (scripts/deps installs it)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
module=/usr/lib/nginx/modules/ngx_nchan_module.so

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d /tmp/sima-streams.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_healthy() {
  for _ in $(seq 200); do
    curl -sf -o /dev/null --max-time 1 "$1/healthz" && return 0
    sleep 0.05
  done
  echo "nothing answers at $1/healthz" >&2; return 1
}
rss_mb() {  # pid [children too]
  local kb
  kb=$(ps -o rss= -p "$1" | tr -d ' ')
  if [ "${2:-}" = children ]; then
    for c in $(ps -o pid= --ppid "$1"); do kb=$((kb + $(ps -o rss= -p "$c" | tr -d ' '))); done
  fi
  echo $((kb / 1024))
}
admin=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

printf '%-9s %8s %6s %8s %7s %10s %9s %9s %9s %s\n' setup streams open refused failed \
  'req/s' 'p99' 'sima MB' 'nginx MB' 'events'
for setup in $setups; do
  dir=$tmp/$setup
  mkdir -p "$dir"
  sima_port=$(free_port)
  env=(SIMA_DB="$dir/sima.db" SIMA_LISTEN="127.0.0.1:$sima_port" SIMA_ADMIN_TOKEN="$admin"
       SIMA_ACCESS_LOG=off SIMA_MAIL_DIR="$dir/mail" SIMA_RECONCILE_INTERVAL_MS=3600000
       SIMA_MAX_STREAMS_PER_ORG=100000)
  nginx_pid=""
  if [ "$setup" = embedded ]; then
    env+=(SIMA_EVENTS=embedded SIMA_MAX_STREAMS="$embedded_max")
  else
    [ -f "$module" ] || { echo "nchan is not installed ($module); skipping" >&2; continue; }
    front_port=$(free_port)
    publish_port=$(free_port)
    env+=(SIMA_EVENTS=nchan
          SIMA_NCHAN_PUBLISH_URL="http://127.0.0.1:$publish_port/_sima_events/pub/")
  fi
  env "${env[@]}" "$server" >"$dir/server.log" 2>&1 &
  sima_pid=$!
  pids+=("$sima_pid")
  wait_healthy "http://127.0.0.1:$sima_port"
  streams_url="http://127.0.0.1:$sima_port"
  if [ "$setup" = nchan ]; then
    # The production files, without sima-server.conf's per-address limits: every stream of
    # this benchmark comes from 127.0.0.1 (real browsers come from many addresses).
    user_line=""
    [ "$(id -u)" = 0 ] && user_line="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"
    deploy=$root/deploy/nginx
    cat >"$dir/nginx.conf" <<EOF
load_module $module;
daemon off;
$user_line
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
include $deploy/sima-main.conf;
http {
    include $deploy/sima-http.conf;
    client_body_temp_path $dir/cb; proxy_temp_path $dir/px; fastcgi_temp_path $dir/fc;
    uwsgi_temp_path $dir/uw; scgi_temp_path $dir/sc;
    access_log off;
    upstream sima { server 127.0.0.1:$sima_port; include $deploy/sima-upstream.conf; }
    server {
        listen 127.0.0.1:$front_port backlog=4096;
        include $deploy/sima-events.conf;
        location / { proxy_pass http://sima; }
    }
    server {
        listen 127.0.0.1:$publish_port;
        include $deploy/sima-events-publish.conf;
    }
}
EOF
    "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" &
    nginx_pid=$!
    pids+=("$nginx_pid")
    wait_healthy "http://127.0.0.1:$front_port"
    streams_url="http://127.0.0.1:$front_port"
  fi
  # Ten organizations; a session of each publishes its first state (nchan stores it).
  : >"$dir/orgs.txt"
  for i in $(seq 10); do
    created=$(curl -sf "http://127.0.0.1:$sima_port/admin/orgs/" -H "Authorization: Bearer $admin" \
      -H 'Content-Type: application/json' -d "{\"name\":\"Streams $i\",\"plan\":\"PRO\"}")
    org=$(echo "$created" | python3 -c 'import json, sys; print(json.load(sys.stdin)["org_id"])')
    key=$(echo "$created" | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$sima_port/sessions/" -H "Authorization: Bearer $key"
    echo "$org $key" >>"$dir/orgs.txt"
  done
  sleep 0.5
  for n in 0 $counts; do
    status=$dir/hold.$n.json
    : >"$status"
    open=0 refused=0 failed=0 events=-
    hold_pid=""
    if [ "$n" -gt 0 ]; then
      python3 "$root/bench/streams_hold.py" --url "$streams_url" --count "$n" \
        --orgs "$dir/orgs.txt" --status "$status" &
      hold_pid=$!
      pids+=("$hold_pid")
      for _ in $(seq 1200); do grep -q '"phase": "held"' "$status" && break; sleep 0.1; done
      read -r open refused failed < <(python3 - "$status" <<'EOF'
import json, sys
held = [json.loads(l) for l in open(sys.argv[1]) if '"held"' in l][0]
a = held["answers"]
print(held["open"], a.get("503", 0), sum(v for k, v in a.items() if k not in ("200", "503")))
EOF
)
    fi
    sima_rss=$(rss_mb "$sima_pid")
    nginx_rss=-
    [ -n "$nginx_pid" ] && nginx_rss=$(rss_mb "$nginx_pid" children)
    wrk -t2 -c32 -d"${seconds}s" --latency "http://127.0.0.1:$sima_port/billing/plans/" \
      >"$dir/wrk.$n.txt" 2>&1 || true
    rps=$(sed -n 's/^Requests\/sec: *//p' "$dir/wrk.$n.txt")
    p99=$(sed -n 's/^ *99% *//p' "$dir/wrk.$n.txt")
    if [ -n "$hold_pid" ]; then
      # One change per organization: every held stream should get one event.
      while read -r org key; do
        curl -sf -o /dev/null -X POST "http://127.0.0.1:$sima_port/sessions/" \
          -H "Authorization: Bearer $key"
      done <"$dir/orgs.txt"
      sleep 2
      kill -TERM "$hold_pid" 2>/dev/null || true
      wait "$hold_pid" 2>/dev/null || true
      events=$(python3 -c 'import json, sys; print([json.loads(l) for l in open(sys.argv[1]) if "\"end\"" in l][0]["events_received_while_held"])' "$status" 2>/dev/null || echo "?")
      sleep 1
    fi
    printf '%-9s %8s %6s %8s %7s %10s %9s %9s %9s %s\n' "$setup" "$n" "$open" "$refused" \
      "$failed" "${rps:-?}" "${p99:-?}" "$sima_rss" "$nginx_rss" "$events"
  done
  if [ -n "$nginx_pid" ]; then
    echo "  ($setup: publishes to nchan that failed, as logged: $(grep -c 'publishing to nchan failed' "$dir/server.log" || true))"
    kill "$nginx_pid"
    wait "$nginx_pid" 2>/dev/null || true
  fi
  kill "$sima_pid"
  wait "$sima_pid" 2>/dev/null || true
done
