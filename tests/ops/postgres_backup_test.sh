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
# shellcheck source=tests/ops/lib.sh
source "$root/tests/ops/lib.sh"

url=$("$root/scripts/pg-cluster" start "$cluster")
# The superuser, over the cluster's socket (as `sudo -u postgres psql` would on a server).
superuser() { psql -h "$cluster" -p "$(cat "$cluster/port")" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"; }
url_of() { printf '%s' "${url%/*}/$1"; }  # the same server, another database

used() { invoices_used "$key"; }

start_server "$dir/server1.log" --db="$url" --mail-dir="$dir/mail"
key=$(api POST /admin/orgs/ "$admin" '{"name":"Backup test","plan":"PRO"}' | json_field api_key)
[ -n "$key" ] || fail "no organization"

start_writers "$key"
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
stop_writers
in_dump=$(psql "$(url_of check_3)" -qAt -c 'SELECT COUNT(*) FROM invoices')
live=$(used)
[ "$live" = "$written" ] || fail "the live server counts $live invoices, the clients got $written 201s"
[ "$in_dump" -lt "$written" ] || fail "the last dump ($in_dump) should predate the last writes ($written)"
stop_server

# Restore the last dump as docs/operations.md says: the servers stopped, an empty database.
superuser -c "DROP DATABASE sima" -c "CREATE DATABASE sima OWNER sima"
pg_restore --no-owner --dbname="$url" "$dir/sima-3.dump"
start_server "$dir/server2.log" --db="$url" --mail-dir="$dir/mail"
[ "$(used)" = "$in_dump" ] || fail "the restored server counts $(used) invoices, the dump holds $in_dump"
created=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"amount_paisa":1}')
[ "$created" = 201 ] || fail "the restored server refused a new invoice ($created)"
stop_server
echo "ok: $written invoices written while dumping; the restored dump serves its $in_dump"
