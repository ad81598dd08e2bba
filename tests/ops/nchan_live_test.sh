#!/usr/bin/env bash
# Live usage through nginx + nchan (SIMA_EVENTS=nchan), with the files of deploy/nginx/ as an
# operator installs them (docs/operations.md "Live usage"):
#   1. sima-server on SQLite publishes to nchan's loopback publisher; nginx serves
#      GET /events/{org_id}/ as an EventSource subscriber authorized by sima-server;
#   2. a browser's session token gets the organization's current state at once, then an event
#      after POST /invoices/ (its usage grows by one);
#   3. another organization's token, no token, and a token in the query string are refused, and
#      a CORS preflight allows the headers the client sends;
#   4. no token (secret key or session) appears in nginx's or sima-server's logs.
# Usage: tests/ops/nchan_live_test.sh [path/to/sima-server]   (root or a user nginx may run as;
# needs nginx with libnginx-mod-nchan, curl, python3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${SIMA_SERVER_BIN:-$root/build/release/server/sima-server}}
[ -x "$bin" ] || { echo "no sima-server at $bin (build it, or pass its path)" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is not installed (scripts/deps installs it)" >&2; exit 2; }
module=/usr/lib/nginx/modules/ngx_nchan_module.so
[ -f "$module" ] || { echo "nchan is not installed: $module (scripts/deps: libnginx-mod-nchan)" >&2; exit 2; }

dir=$(mktemp -d /tmp/sima-nchan.XXXXXX)
chmod 755 "$dir"  # nginx workers run as nobody when started as root
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    for log in "$dir"/*.log; do [ -f "$log" ] && { echo "--- ${log#"$dir"/}"; tail -n 15 "$log"; }; done
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
# shellcheck source=tests/ops/lib.sh
source "$root/tests/ops/lib.sh"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
front_port=$(free_port)
publish_port=$(free_port)

# --- sima-server: SQLite, events published to nchan -------------------------------------------
start_server "$dir/server.log" --db="$dir/sima.db" --access-log="$dir/sima-access.log" \
  --events=nchan --nchan-publish-url="http://127.0.0.1:$publish_port/_sima_events/pub/" \
  --trusted-proxies=127.0.0.1

# --- nginx: the deploy files, plain HTTP on free loopback ports --------------------------------
user_line=""
if [ "$(id -u)" = 0 ]; then
  user_line="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"
fi
deploy=$root/deploy/nginx
cat >"$dir/nginx.conf" <<EOF
load_module $module;
daemon off;
$user_line
pid $dir/nginx.pid;
error_log $dir/nginx-error.log info;
include $deploy/sima-main.conf;
http {
    include $deploy/sima-http.conf;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    access_log $dir/nginx-access.log sima_json;
    upstream sima {
        server 127.0.0.1:$port;
        include $deploy/sima-upstream.conf;
    }
    server {
        listen 127.0.0.1:$front_port;
        include $deploy/sima-events.conf;
        include $deploy/sima-server.conf;
    }
    server {
        listen 127.0.0.1:$publish_port;
        include $deploy/sima-events-publish.conf;
    }
}
EOF
"$nginx_bin" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log"
"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" &
pids+=($!)
front="http://127.0.0.1:$front_port"
for _ in $(seq 100); do
  curl -sf -o /dev/null --max-time 1 "$front/healthz" && break
  sleep 0.1
done
curl -sf -o /dev/null --max-time 2 "$front/healthz" || fail "nginx does not answer"

# --- two organizations, a browser session of the first ------------------------------------------
org_key() {  # name -> "org_id key"
  api POST /admin/orgs/ "$admin" "{\"name\":\"$1\"}" >"$dir/org.json"
  echo "$(json_field org_id <"$dir/org.json") $(json_field api_key <"$dir/org.json")"
}
read -r org_a key_a < <(org_key "Live A")
read -r org_b key_b < <(org_key "Live B")
[ -n "$org_a" ] && [ -n "$key_a" ] && [ -n "$org_b" ] && [ -n "$key_b" ] || fail "no organizations"
session_a=$(api POST /sessions/ "$key_a" | json_field token)
session_b=$(api POST /sessions/ "$key_b" | json_field token)
[ -n "$session_a" ] && [ -n "$session_b" ] || fail "no session tokens"

# A subscriber as the browser client opens it: fetch() with the bearer header.
subscribe() {  # out token -> curl's pid in $sub_pid
  curl -sN --max-time 60 "$front/events/$org_a/" -H 'Accept: text/event-stream' \
    -H "Authorization: Bearer $2" >"$1" 2>/dev/null &
  sub_pid=$!
  pids+=("$sub_pid")
}
events() { grep -c '^event: usage' "$1" 2>/dev/null || true; }
wait_events() {  # file n
  for _ in $(seq 200); do
    [ "$(events "$1")" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "expected $2 usage events on the stream, got $(events "$1"): $(cat "$1")"
}
last_invoices() {  # file: invoices used in the stream's last event
  grep '^data: ' "$1" | tail -1 | sed 's/^data: //' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["usage"]["invoices"]["used"])'
}

# 2. The current state at once (the session's creation published it), then the change.
subscribe "$dir/stream.a" "$session_a"
wait_events "$dir/stream.a" 1
grep '^data: ' "$dir/stream.a" | head -1 | grep -q "\"org_id\":\"$org_a\"" || fail "not org A's state"
grep '^data: ' "$dir/stream.a" | head -1 | grep -q '"version":"[0-9]*-[0-9a-f]\{16\}"' ||
  fail "the event has no version"
before=$(last_invoices "$dir/stream.a")
[ "$(api POST /invoices/ "$key_a" '{"amount_paisa":1000}' | json_field id | cut -c1-4)" = "inv_" ] ||
  fail "POST /invoices/ failed"
seen=$(events "$dir/stream.a")
wait_events "$dir/stream.a" $((seen + 1))
after=$(last_invoices "$dir/stream.a")
[ "$after" = $((before + 1)) ] || fail "invoices used went from $before to $after, not by one"
echo "ok: a session token gets org A's state ($before invoices), then $after after POST /invoices/"

# 3. Refusals.
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" -H 'Accept: text/event-stream'; }
code=$(status "$front/events/$org_a/" -H "Authorization: Bearer $session_b")
[ "$code" = 404 ] || fail "org B's token on org A's stream answered $code, not 404"
code=$(status "$front/events/$org_a/")
[ "$code" = 401 ] || fail "no token answered $code, not 401"
code=$(status "$front/events/$org_a/?token=$session_a")
[ "$code" = 401 ] || fail "a token in the query string answered $code, not 401"
code=$(status "$front/_sima_events/pub/$org_a" -X POST -d '{}')
[ "$code" = 404 ] || fail "the publisher is reachable from the front: $code"
allowed=$(curl -s -i -X OPTIONS --max-time 5 "$front/events/$org_a/" -H 'Origin: http://app.test' \
  -H 'Access-Control-Request-Method: GET' \
  -H 'Access-Control-Request-Headers: authorization,last-event-id' |
  tr -d '\r' | sed -n 's/^Access-Control-Allow-Headers: //Ip')
case "$allowed" in *Authorization*Last-Event-ID*) ;; *) fail "preflight allows only: $allowed" ;; esac
echo "ok: another org's token 404, no token 401, a query-string token 401, publisher internal"

# 4. No credential in any log (the session token was even sent in a URL above).
kill "$sub_pid" 2>/dev/null || true
sleep 0.3
for secret in "$key_a" "$key_b" "$session_a" "$session_b" "$admin"; do
  for log in "$dir"/*.log; do
    if grep -qF "$secret" "$log"; then fail "a token is in ${log#"$dir"/}"; fi
  done
done
grep -q "\"path\":\"/events/$org_a/\"" "$dir/nginx-access.log" || fail "nginx logged no stream"
echo "ok: no token in nginx's or sima-server's logs"
echo "PASS: live usage through nginx + nchan"
