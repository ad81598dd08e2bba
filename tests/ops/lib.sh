# Shared by the operations tests (source it): one sima-server at a time on a free port, its
# API, and writers that create invoices until told to stop. The caller sets `bin` (the
# sima-server), `dir` (a temporary folder) and `pids` (an array its cleanup kills).
# shellcheck shell=bash disable=SC2154,SC2034  # bin and dir come from the caller, written goes to it

fail() { echo "FAIL: $*" >&2; exit 1; }

admin=test-admin-$$-$RANDOM
server_pid=
port=
# start_server LOG [FLAG...]: starts sima-server with the flags (its database among them), the
# admin token, no access log and no reconciler passes; sets server_pid and port.
start_server() {
  local log=$1
  shift
  SIMA_ADMIN_TOKEN=$admin "$bin" --listen=127.0.0.1:0 --access-log=off \
    --reconcile-interval-ms=3600000 "$@" 2>"$log" &
  server_pid=$!
  pids+=("$server_pid")
  port=
  for _ in $(seq 500); do
    port=$(grep -o '"addr":"127.0.0.1:[0-9]*' "$log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server did not start: $(cat "$log")"
    sleep 0.02
  done
  fail "the server did not report its port: $(cat "$log")"
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
invoices_used() {  # key: the invoices the server counts for that organization
  api GET /billing/usage/ "$1" | sed -n 's/.*"invoices":{[^}]*"used":\([0-9]*\).*/\1/p'
}
# writer N KEY: creates invoices until $dir/stop exists; then writes how many were 201 to
# $dir/written.N.
writer() {
  local n=0 code
  while [ ! -e "$dir/stop" ]; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/invoices/" \
      -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
      --data '{"amount_paisa":250000,"description":"backup test"}') || code=000
    [ "$code" = 201 ] && n=$((n + 1))
  done
  echo "$n" >"$dir/written.$1"
}
# start_writers KEY: four writers in the background.
start_writers() {
  for w in 1 2 3 4; do writer "$w" "$1" & pids+=("$!"); done
}
# stop_writers: stops them; sets `written` to how many invoices they created in all.
stop_writers() {
  touch "$dir/stop"
  local p
  for p in "${pids[@]}"; do [ "$p" = "$server_pid" ] || wait "$p"; done
  pids=("$server_pid")
  written=$(awk '{ n += $1 } END { print n }' "$dir"/written.*)
}
