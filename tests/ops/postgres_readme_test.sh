#!/usr/bin/env bash
# The README's "Running on PostgreSQL" works as written: this script takes the section's `sh`
# block and `nginx` block out of README.md and runs them, changing only what a test must
# (free ports instead of 8081/8082, this build's binary, the cluster's folder, nginx's include
# path), then through nginx:
#   1. creates an organization and 40 invoices: both servers count the same 40;
#   2. stops the first server: nginx sends everything to the second, which goes on counting
#      from the same database;
#   3. the usage counter equals the 201s the clients saw, on the surviving server.
# Usage: tests/ops/postgres_readme_test.sh [path/to/sima-server]   (needs PostgreSQL, nginx, curl)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${SIMA_SERVER_BIN:-$root/build/release/server/sima-server}}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x "$bin" ] || { echo "no sima-server at $bin (build it, or pass its path)" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is not installed (scripts/deps installs it)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/sima-pg-readme.XXXXXX)
chmod 755 "$tmp"  # nginx workers run as nobody when started as root
cluster=/tmp/sima-pg-readme-$$  # beside $tmp: the cluster's own user must reach it
nginx_pid=
cleanup() {
  local rc=$?
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    for log in "$tmp"/servers.log "$tmp"/nginx/error.log; do
      [ -f "$log" ] && { echo "--- $log (last lines)"; tail -n 20 "$log"; }
    done
  fi
  "$root/scripts/pg-cluster" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The README's blocks: the first ```sh and the first ```nginx after the heading.
block() {  # language
  awk -v lang="$1" '
    /^## Running on PostgreSQL/ { in_section = 1; next }
    in_section && /^## / { exit }
    in_section && $0 == "```" lang { take = 1; next }
    take && /^```/ { exit }
    take { print }' "$root/README.md"
}
commands=$(block sh)
upstream=$(block nginx)
if [ -z "$commands" ] || [ -z "$upstream" ]; then
  fail "README.md has no 'Running on PostgreSQL' blocks"
fi
port1=$(free_port)
port2=$(free_port)
adapt() {
  sed -e "s|127.0.0.1:8081|127.0.0.1:$port1|g" -e "s|127.0.0.1:8082|127.0.0.1:$port2|g" \
    -e "s|build/release/server/sima-server|$bin|g" -e "s|/tmp/sima-pg|$cluster|g" \
    -e "s|/etc/nginx/sima/|$root/deploy/nginx/|g"
}

echo "== the README's commands"
adapt <<<"$commands"
cd "$root"
# shellcheck disable=SC1090
source <(adapt <<<"$commands") 2>>"$tmp/servers.log"
cd - >/dev/null
case "$SIMA_DB" in postgresql://*) ;; *) fail "SIMA_DB is not a PostgreSQL URL: $SIMA_DB" ;; esac
mapfile -t servers < <(jobs -p)
[ "${#servers[@]}" = 2 ] || fail "expected two servers, got ${#servers[@]}"
for port in "$port1" "$port2"; do
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" || fail "no server on port $port"
done

echo "== nginx with the README's upstream"
mkdir -p "$tmp/nginx"
nginx_port=$(free_port)
user_line=""
if [ "$(id -u)" = 0 ]; then
  user_line="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"
fi
# The attack test's nginx.conf (deploy/nginx/ without TLS), its upstream block replaced by the
# README's.
python3 - "$root/tests/attack/nginx.conf.in" "$tmp/nginx/nginx.conf" "$(adapt <<<"$upstream")" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"    upstream sima \{.*?\n    \}\n", lambda m: sys.argv[3] + "\n", text, flags=re.S)
open(sys.argv[2], "w").write(text)
EOF
sed -i -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@DEPLOY@|$root/deploy/nginx|g" \
  -e "s|@PORT@|$nginx_port|g" -e "s|@USER@|$user_line|g" "$tmp/nginx/nginx.conf"
grep -q "server 127.0.0.1:$port2;" "$tmp/nginx/nginx.conf" || fail "the upstream block was not used"
"$nginx_bin" -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
front=http://127.0.0.1:$nginx_port
for _ in $(seq 100); do curl -sf -o /dev/null "$front/healthz" && break; sleep 0.1; done

key=$(curl -sf "$front/admin/orgs/" -H "Authorization: Bearer $SIMA_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"name":"README","plan":"PRO"}' |
  sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || fail "no organization through nginx"
created=0
create() {  # n: creates n invoices through nginx, counting the 201s
  for _ in $(seq "$1"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$front/invoices/" -H "Authorization: Bearer $key" \
      -H 'Content-Type: application/json' -d '{"amount_paisa":250000}')
    [ "$code" = 201 ] && created=$((created + 1))
  done
}
used() {  # port: the invoices the server on `port` counts
  curl -sf "http://127.0.0.1:$1/billing/usage/" -H "Authorization: Bearer $key" |
    sed -n 's/.*"invoices":{[^}]*"used":\([0-9]*\).*/\1/p'
}
create 40
[ "$created" = 40 ] || fail "$created of 40 invoices created through nginx"
# Both see the same database.
for port in "$port1" "$port2"; do
  [ "$(used "$port")" = 40 ] || fail "the server on $port counts $(used "$port") invoices, not 40"
done

echo "== the first server stops; nginx sends everything to the second"
kill -TERM "${servers[0]}"
wait "${servers[0]}" || fail "the first server did not stop cleanly"
create 20
[ "$created" = 60 ] || fail "$created of 60 invoices created with one server stopped"
[ "$(used "$port2")" = 60 ] || fail "the second server counts $(used "$port2") invoices, not 60"
rows=$(psql "$SIMA_DB" -Atc 'SELECT COUNT(*) FROM invoices')
[ "$rows" = 60 ] || fail "PostgreSQL holds $rows invoices, not 60"
echo "ok: the README's PostgreSQL commands serve through nginx, on two servers and on one"
