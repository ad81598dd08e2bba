#!/usr/bin/env bash
# A backup taken with SQLite's online backup while sima-server serves writes is consistent and
# restorable, exactly as docs/operations.md tells an operator to do it:
#   1. start the server, create a PRO organization, keep 4 clients creating invoices;
#   2. meanwhile `sqlite3 sima.db ".backup ..."` and `VACUUM INTO` (both online);
#   3. each copy passes integrity_check and foreign_key_check, and its usage counter equals
#      its invoices (create and count are one transaction, so a torn copy would differ);
#   4. stop, restore the backup (replace the file, remove -wal/-shm), start: the server
#      answers with the backup's count and accepts new invoices.
# Usage: tests/ops/backup_restore_test.sh [path/to/sima-server]   (needs sqlite3 and curl)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${SIMA_SERVER_BIN:-$root/build/release/server/sima-server}}
[ -x "$bin" ] || { echo "no sima-server at $bin (build it, or pass its path)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing (scripts/deps installs it)" >&2; exit 2; }

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

admin=test-admin-$$-$RANDOM
server_pid=
port=
start_server() {  # $1: log file
  SIMA_ADMIN_TOKEN=$admin "$bin" --listen=127.0.0.1:0 --db="$dir/sima.db" --access-log=off \
    --reconcile-interval-ms=3600000 2>"$1" &
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
json_field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -1; }

start_server "$dir/server1.log"
key=$(api POST /admin/orgs/ "$admin" '{"name":"Backup test","plan":"PRO"}' | json_field api_key)
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

check_copy() {  # $1: a copy of the database
  local db=$1
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check;')" = ok ] || fail "$db: integrity_check failed"
  [ -z "$(sqlite3 "$db" 'PRAGMA foreign_key_check;')" ] || fail "$db: foreign_key_check failed"
  local invoices counted
  invoices=$(sqlite3 "$db" 'SELECT COUNT(*) FROM invoices;')
  counted=$(sqlite3 "$db" "SELECT COALESCE(SUM(used), 0) FROM usage_counters WHERE feature = 'invoices';")
  [ "$invoices" -gt 0 ] || fail "$db: no invoices in the copy"
  [ "$invoices" = "$counted" ] || fail "$db: $invoices invoices but the counter says $counted (torn copy)"
  echo "$invoices"
}

# Several copies while the writers run, by both online methods.
for i in 1 2 3; do
  sqlite3 "$dir/sima.db" ".timeout 5000" ".backup '$dir/backup-$i.db'"
  echo "backup $i (.backup): $(check_copy "$dir/backup-$i.db") invoices, consistent"
  sqlite3 "$dir/sima.db" ".timeout 5000" "VACUUM INTO '$dir/vacuum-$i.db';"
  echo "backup $i (VACUUM INTO): $(check_copy "$dir/vacuum-$i.db") invoices, consistent"
  sleep 0.5
done
touch "$dir/stop"
for p in "${pids[@]}"; do [ "$p" = "$server_pid" ] || wait "$p"; done
pids=("$server_pid")
written=$(awk "{ n += \$1 } END { print n }" "$dir"/written.*)
in_backup=$(sqlite3 "$dir/backup-3.db" 'SELECT COUNT(*) FROM invoices;')
live=$(api GET /billing/usage/ "$key" | sed -n 's/.*"invoices":{[^}]*"used":\([0-9]*\).*/\1/p')
[ "$live" = "$written" ] || fail "the live server counts $live invoices, the clients got $written 201s"
[ "$in_backup" -lt "$written" ] || fail "the last backup ($in_backup) should predate the last writes ($written)"
stop_server

# Restore the last .backup copy: stopped server, replace the file, remove -wal and -shm.
cp "$dir/backup-3.db" "$dir/sima.db"
rm -f "$dir/sima.db-wal" "$dir/sima.db-shm"
start_server "$dir/server2.log"
used=$(api GET /billing/usage/ "$key" | sed -n 's/.*"invoices":{[^}]*"used":\([0-9]*\).*/\1/p')
[ "$used" = "$in_backup" ] || fail "restored server counts $used invoices, the backup holds $in_backup"
created=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"amount_paisa":1}')
[ "$created" = 201 ] || fail "the restored server refused a new invoice ($created)"
stop_server
echo "ok: $written invoices written while backing up; the restored copy serves its $in_backup"
