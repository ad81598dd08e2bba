#!/usr/bin/env bash
# The attack test: sima-server behind the nginx front of deploy/nginx/, under every attack shape
# of tests/attack/probe.py. Builds nothing: give it a built sima-server.
#
#   tests/attack/run.sh [SIMA_SERVER] [--compare] [probe options, e.g. --only 4,8 --hold 5]
#
# Starts sima-server (temporary database, random admin token, free port) and nginx (the same
# include files as deploy/nginx/sima.conf, plain HTTP on a free port, temporary prefix), creates
# an organization through nginx and runs the probe with --assert: /healthz must answer 200 in
# under a second during every shape, no smuggled invoice may exist, and the webhook admin API
# must refuse strangers, bad bodies and private addresses without a secret reaching any answer
# or log. Prints the figures.
# --compare first runs the same probe directly against another fresh sima-server (figures only,
# no assertion), for a before/after table. Everything started is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
server=$root/build/release/server/sima-server
compare=0
probe_args=()
while (($#)); do
  case "$1" in
    --compare) compare=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    --only|--hold) probe_args+=("$1" "$2"); shift ;;
    *) server=$1 ;;
  esac
  shift
done
[ -x "$server" ] || { echo "no sima-server at $server (build it first)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is not installed (scripts/deps installs it)" >&2; exit 1; }

# 2,000 idle sockets on the probe's side and as many in nginx, plus the upstream side.
want_fds=8192
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fds" ]; then want_fds=$hard; fi
ulimit -n "$want_fds"
if [ "$(ulimit -n)" -lt 4500 ]; then
  echo "need at least 4500 open files (ulimit -n), the hard limit is $hard" >&2; exit 1
fi

tmp=$(mktemp -d /tmp/sima-attack.XXXXXX)
chmod 755 "$tmp"   # nginx workers run as nobody when started as root
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" != 0 ]; then
    for log in "$tmp"/*/error.log "$tmp"/*/server.log; do
      [ -f "$log" ] && { echo "--- ${log#$tmp/} (last lines)"; tail -n 20 "$log"; }
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_healthy() {  # url
  for _ in $(seq 100); do
    curl -sf -o /dev/null --max-time 1 "$1/healthz" && return 0
    sleep 0.1
  done
  echo "nothing answers at $1/healthz" >&2; return 1
}
admin_token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

# start_server DIR: starts sima-server with its state in DIR; sets server_port and server_pid.
start_server() {
  mkdir -p "$1"
  server_port=$(free_port)
  SIMA_DB="$1/sima.db" SIMA_LISTEN="127.0.0.1:$server_port" SIMA_ADMIN_TOKEN="$admin_token" \
    SIMA_ACCESS_LOG="$1/access.log" SIMA_MAIL_DIR="$1/mail" SIMA_TRUSTED_PROXIES=127.0.0.1 \
    "$server" >"$1/server.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_healthy "http://127.0.0.1:$server_port"
}
stop_last() {
  local pid=${pids[-1]}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'
}
# create_org URL: prints the new organization's secret key (PRO, so limits never interfere).
create_org() {
  curl -sf --max-time 5 "$1/admin/orgs/" -H "Authorization: Bearer $admin_token" \
    -H 'Content-Type: application/json' -d '{"name":"Attack test","plan":"PRO"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])'
}
probe() { timeout 300 python3 "$root/tests/attack/probe.py" ${probe_args[@]+"${probe_args[@]}"} "$@"; }

if [ "$compare" = 1 ]; then
  start_server "$tmp/direct"
  key=$(create_org "http://127.0.0.1:$server_port")
  probe --url "http://127.0.0.1:$server_port" --api-key "$key" --server-pid "$server_pid" \
    --label "sima-server directly (figures only)"
  stop_last
fi

start_server "$tmp/front"
nginx_dir=$tmp/nginx
mkdir -p "$nginx_dir"
nginx_port=$(free_port)
user_line=""
if [ "$(id -u)" = 0 ]; then
  user_line="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"
fi
sed -e "s|@PREFIX@|$nginx_dir|g" -e "s|@DEPLOY@|$root/deploy/nginx|g" \
    -e "s|@SIMA_PORT@|$server_port|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER@|$user_line|g" \
    "$root/tests/attack/nginx.conf.in" >"$nginx_dir/nginx.conf"
"$nginx_bin" -t -q -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log"
"$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log" &
pids+=($!)
front="http://127.0.0.1:$nginx_port"
wait_healthy "$front"
key=$(create_org "$front")
probe --url "$front" --api-key "$key" --server-pid "$server_pid" --assert \
  --admin-token "$admin_token" --log "$tmp/front/access.log" --log "$tmp/front/server.log" \
  --log "$nginx_dir/access.log" \
  --label "sima-server behind nginx ($("$nginx_bin" -v 2>&1 | sed 's|.*/||'))"
