#!/usr/bin/env bash
# A pg_dump taken while sima-server serves writes from PostgreSQL is consistent and restorable,
# exactly as docs/operations.md ("PostgreSQL backups") tells an operator to do it:
#   1. a throwaway cluster (scripts/pg-cluster), a server on it, a PRO organization, 4 clients
#      creating invoices;
#   2. meanwhile `pg_dump --format=custom` three times; each dump restored into a database of
#      its own has a usage counter equal to its invoices (a torn copy would differ);
#   3. stop, restore the last dump into a new `sima` database, start: the server answers with
#      the dump's count and accepts new invoices.
# Usage: tests/ops/postgres_backup_test.sh [path/to/sima-server]   (needs PostgreSQL and curl)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${SIMA_SERVER_BIN:-$root/build/release/server/sima-server}}
[ -x "$bin" ] || { echo "no sima-server at $bin (build it, or pass its path)" >&2; exit 2; }
for tool in pg_dump pg_restore psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/deps installs it)" >&2; exit 2; }
done

dir=$(mktemp -d)
cluster=/tmp/sima-pg-backup-$$  # beside $dir: the cluster's own user must reach it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$root/scripts/pg-cluster" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

url=$("$root/scripts/pg-cluster" start "$cluster")
# The superuser, over the cluster's socket (as `sudo -u postgres psql` would on a server).
superuser() { psql -h "$cluster" -p "$(cat "$cluster/port")" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"; }
url_of() { printf '%s' "${url%/*}/$1"; }  # the same server, another database

admin=test-admin-$$-$RANDOM
server_pid=
port=
start_server() {  # $1: log file
  SIMA_ADMIN_TOKEN=$admin SIMA_DB=$url "$bin" --listen=127.0.0.1:0 --access-log=off \
    --mail-dir="$dir/mail" --reconcile-interval-ms=3600000 2>"$1" &
  server_pid=$!
  pids+=("$server_pid")
  port=
  for _ in $(seq 500); do
    port=$(grep -o '"addr":"127.0.0.1:[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server did not start: $(cat "$1")"
    sleep 0.02
  done
  fail "the server did not report its port: $(cat "$1")"
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "the server did not stop cleanly"
}
api() {  # method path token [body]
  curl -sS -X "$1" "http://127.0.0.1:$port$2" -H "Authorization: Bearer $3" \
    ${4:+-H 'Content-Type: application/json' --data "$4"}
}
used() { api GET /billing/usage/ "$key" | sed -n 's/.*"invoices":{[^}]*"used":\([0-9]*\).*/\1/p'; }

start_server "$dir/server1.log"
key=$(api POST /admin/orgs/ "$admin" '{"name":"Backup test","plan":"PRO"}' |
  sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || fail "no organization"

writer() {  # creates invoices until stopped; prints how many were 201
  local n=0
  while [ ! -e "$dir/stop" ]; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
      -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      --data '{"amount_paisa":250000,"description":"backup test"}') || code=000
    [ "$code" = 201 ] && n=$((n + 1))
  done
  echo "$n" >"$dir/written.$1"
}
for w in 1 2 3 4; do writer "$w" & pids+=("$!"); done
sleep 1

# Restores dump $1 into a new database $2 and checks it; prints its invoices.
check_dump() {
  superuser -c "CREATE DATABASE $2 OWNER sima"
  pg_restore --list "$1" >/dev/null || fail "$1: pg_restore cannot read it"
  pg_restore --no-owner --dbname="$(url_of "$2")" "$1" || fail "$1: restore failed"
  local invoices counted
  invoices=$(psql "$(url_of "$2")" -qAt -c 'SELECT COUNT(*) FROM invoices')
  counted=$(psql "$(url_of "$2")" -qAt -c "SELECT COALESCE(SUM(used), 0) FROM usage_counters WHERE feature = 'invoices'")
  [ "$invoices" -gt 0 ] || fail "$1: no invoices in the dump"
  [ "$invoices" = "$counted" ] || fail "$1: $invoices invoices but the counter says $counted (torn copy)"
  echo "$invoices"
}
for i in 1 2 3; do
  pg_dump --format=custom --file="$dir/sima-$i.dump" "$url"
  echo "dump $i: $(check_dump "$dir/sima-$i.dump" "check_$i") invoices, consistent"
  sleep 0.5
done
touch "$dir/stop"
for p in "${pids[@]}"; do [ "$p" = "$server_pid" ] || wait "$p"; done
pids=("$server_pid")
written=$(awk '{ n += $1 } END { print n }' "$dir"/written.*)
in_dump=$(psql "$(url_of check_3)" -qAt -c 'SELECT COUNT(*) FROM invoices')
live=$(used)
[ "$live" = "$written" ] || fail "the live server counts $live invoices, the clients got $written 201s"
[ "$in_dump" -lt "$written" ] || fail "the last dump ($in_dump) should predate the last writes ($written)"
stop_server

# Restore the last dump as docs/operations.md says: the servers stopped, an empty database.
superuser -c "DROP DATABASE sima" -c "CREATE DATABASE sima OWNER sima"
pg_restore --no-owner --dbname="$url" "$dir/sima-3.dump"
start_server "$dir/server2.log"
[ "$(used)" = "$in_dump" ] || fail "the restored server counts $(used) invoices, the dump holds $in_dump"
created=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"amount_paisa":1}')
[ "$created" = 201 ] || fail "the restored server refused a new invoice ($created)"
stop_server
echo "ok: $written invoices written while dumping; the restored dump serves its $in_dump"
