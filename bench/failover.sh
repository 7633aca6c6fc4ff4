#!/usr/bin/env bash
# failover.sh [ROUNDS=10]
#
# Leader failover on a local 3-manager swarm (real daemons on 127.0.0.1/2/3,
# Raft over mutual TLS). Each round: find the leader with `node ls`,
# SIGKILL its daemon, and time until a write (`service create`) is
# acknowledged by a surviving manager; then restart the killed manager and
# time until it is a follower again that holds that write. Also times a
# write on a healthy 3-manager swarm (acknowledged = committed by a
# majority and applied). Prints each round and the medians.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-10}
require_binary
DIR=$(mktemp -d /tmp/rswarm-bench-failover.XXXXXX)
declare -A PID
cleanup() {
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PID[@]}"; do for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  rm -rf "$DIR"
}
trap cleanup EXIT

start() { # start <name>
  "$RSWARM_BIN" daemon -H "unix://$DIR/$1.sock" --data-root "$DIR/$1" --hostname "$1" --runtime process >>"$DIR/$1.log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 1 250); do [ -S "$DIR/$1.sock" ] && return 0; sleep 0.02; done
  die "daemon $1 did not start"
}
on() { local n=$1; shift; "$RSWARM_BIN" -H "unix://$DIR/$n.sock" "$@"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for i in 1 2 3; do start "m$i"; done
on m1 swarm init --advertise-addr "127.0.0.1:$port" --listen-addr "127.0.0.1:$port" >/dev/null
token=$(on m1 swarm join-token -q manager)
for i in 2 3; do
  on "m$i" swarm join --token "$token" --advertise-addr "127.0.0.$i:$port" --listen-addr "127.0.0.$i:$port" "127.0.0.1:$port" >/dev/null
done
until [ "$(on m1 node ls | grep -c -E 'Leader|Reachable')" -eq 3 ]; do sleep 0.1; done

writes=()
for w in $(seq 1 10); do
  t0=$(now); on m2 service create -d -q --name "w$w" busybox true >/dev/null; t1=$(now)
  writes+=("$(elapsed "$t0" "$t1")")
done

failovers=(); rejoins=()
for r in $(seq 1 "$ROUNDS"); do
  leader=$(on m1 node ls --format '{{.Hostname}} {{.ManagerStatus}}' 2>/dev/null | awk '$2 == "Leader" { print $1 }' || true)
  [ -n "$leader" ] || leader=$(on m2 node ls --format '{{.Hostname}} {{.ManagerStatus}}' | awk '$2 == "Leader" { print $1 }')
  survivor=m1; [ "$leader" = m1 ] && survivor=m2
  t0=$(now)
  kill -KILL "${PID[$leader]}"; wait "${PID[$leader]}" 2>/dev/null || true
  until on "$survivor" service create -d -q --name "r$r" busybox true >/dev/null 2>&1; do sleep "$POLL"; done
  t1=$(now)
  rm -f "$DIR/$leader.sock"; start "$leader"
  until on "$leader" service ls --format '{{.Name}}' 2>/dev/null | grep -qx "r$r" \
      && on "$leader" node ls --format '{{.Hostname}} {{.ManagerStatus}}' 2>/dev/null | grep -qx "$leader Reachable"; do
    sleep "$POLL"
  done
  t2=$(now)
  failovers+=("$(elapsed "$t0" "$t1")"); rejoins+=("$(elapsed "$t1" "$t2")")
  printf 'round %2d: leader %s killed -> write acknowledged by %s after %ss; back as follower with it after %ss\n' \
    "$r" "$leader" "$survivor" "${failovers[-1]}" "${rejoins[-1]}"
done
printf '\nwrite on a healthy 3-manager swarm (service create, CLI included): median %ss over %d\n' "$(median "${writes[@]}")" "${#writes[@]}"
printf 'failover (leader SIGKILL -> next acknowledged write): median %ss over %d rounds\n' "$(median "${failovers[@]}")" "$ROUNDS"
printf 'rejoin (restart -> follower holding the new write): median %ss\n' "$(median "${rejoins[@]}")"
