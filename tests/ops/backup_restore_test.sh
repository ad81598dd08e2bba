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
# shellcheck source=tests/ops/lib.sh
source "$root/tests/ops/lib.sh"

start_server "$dir/server1.log" --db="$dir/sima.db"
key=$(api POST /admin/orgs/ "$admin" '{"name":"Backup test","plan":"PRO"}' | json_field api_key)
[ -n "$key" ] || fail "no organization"

start_writers "$key"
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
stop_writers
in_backup=$(sqlite3 "$dir/backup-3.db" 'SELECT COUNT(*) FROM invoices;')
live=$(invoices_used "$key")
[ "$live" = "$written" ] || fail "the live server counts $live invoices, the clients got $written 201s"
[ "$in_backup" -lt "$written" ] || fail "the last backup ($in_backup) should predate the last writes ($written)"
stop_server

# Restore the last .backup copy: stopped server, replace the file, remove -wal and -shm.
cp "$dir/backup-3.db" "$dir/sima.db"
rm -f "$dir/sima.db-wal" "$dir/sima.db-shm"
start_server "$dir/server2.log" --db="$dir/sima.db"
used=$(invoices_used "$key")
[ "$used" = "$in_backup" ] || fail "restored server counts $used invoices, the backup holds $in_backup"
created=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"amount_paisa":1}')
[ "$created" = 201 ] || fail "the restored server refused a new invoice ($created)"
stop_server
echo "ok: $written invoices written while backing up; the restored copy serves its $in_backup"
