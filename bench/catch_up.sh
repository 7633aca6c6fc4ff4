#!/usr/bin/env bash
# catch_up.sh [TASKS=20000] [JOINS=3]
#
# Catch-up of a new manager on a large state. Three managers (real daemons
# on 127.0.0.1-3) hold a service of TASKS replicas that no node can take
# (TASKS pending tasks, each with the scheduler's verdict); the log is
# compacted behind a snapshot (snapshot interval 100, 10 entries kept for
# slow followers), so a new manager can only catch up by snapshot. Then
# JOINS new managers join one after the other (127.0.0.4, .5, ...); for
# each: time from `swarm join` to the snapshot installed (its log), and to
# its own `GET /tasks` showing all TASKS tasks pending with their verdict.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
TASKS=${1:-20000}
JOINS=${2:-3}
require_binary
managers_dir catchup
trap managers_stop EXIT
api() { curl -s --unix-socket "$MANAGERS_DIR/$1.sock" "http://rswarm$2"; }
# Tasks of service "big" that are pending with the scheduler's verdict.
pending() {
  api "$1" '/tasks?filters=%7B%22service%22%3A%5B%22big%22%5D%7D' | python3 -c '
import json, sys
ts = json.load(sys.stdin)
print(sum(1 for t in ts if t["Status"]["State"] == "pending" and "no suitable node" in t["Status"].get("Err", "")))' 2>/dev/null || echo 0
}

port=$(free_port)
managers_swarm "$port"
token=$MANAGER_TOKEN
t0=$(now)
on m1 service create -d -q --name big --replicas "$TASKS" --constraint node.labels.none==yes busybox sleep 1000 >/dev/null
until [ "$(pending m3)" -eq "$TASKS" ]; do sleep 1; done
log "state: $TASKS pending tasks on every manager after $(elapsed "$t0" "$(now)")s"
# Few entries kept behind a snapshot (API, as in Swarm), then a snapshot
# every 100 entries.
version=$(api m1 /swarm | python3 -c 'import json,sys; print(json.load(sys.stdin)["Version"]["Index"])')
api m1 /swarm | python3 -c '
import json, sys
s = json.load(sys.stdin)["Spec"]; s["Raft"]["LogEntriesForSlowFollowers"] = 10; print(json.dumps(s))' >"$MANAGERS_DIR/spec.json"
curl -sf --unix-socket "$MANAGERS_DIR/m1.sock" -H 'Content-Type: application/json' -d @"$MANAGERS_DIR/spec.json" \
  "http://rswarm/swarm/update?version=$version" >/dev/null
on m1 swarm update --snapshot-interval 100 >/dev/null
for i in 1 2 3; do
  until grep -q "log compacted up to index" "$MANAGERS_DIR/m$i.log"; do sleep 0.2; done
done
log "every manager compacted its log"

installs=(); readies=()
for j in $(seq 1 "$JOINS"); do
  n=$((3 + j)); name="m$n"
  manager_start "$name"
  t0=$(now)
  on "$name" swarm join --token "$token" --advertise-addr "127.0.0.$n:$port" --listen-addr "127.0.0.$n:$port" "127.0.0.1:$port" >/dev/null
  until grep -q "installed (" "$MANAGERS_DIR/$name.log"; do sleep "$POLL"; done
  t1=$(now)
  until [ "$(pending "$name")" -eq "$TASKS" ]; do sleep 0.1; done
  t2=$(now)
  installs+=("$(elapsed "$t0" "$t1")"); readies+=("$(elapsed "$t0" "$t2")")
  printf 'join %d (%s): snapshot installed after %ss (%s); all %d tasks read on it after %ss\n' \
    "$j" "$name" "${installs[-1]}" "$(grep -o 'installed ([0-9]* objects)' "$MANAGERS_DIR/$name.log" | head -1)" "$TASKS" "${readies[-1]}"
done
printf '\ncatch-up by snapshot on %d tasks: installed median %ss, state readable median %ss (over %d joins)\n' \
  "$TASKS" "$(median "${installs[@]}")" "$(median "${readies[@]}")" "$JOINS"
