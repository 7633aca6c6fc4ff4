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
managers_dir failover
trap managers_stop EXIT

port=$(free_port)
managers_swarm "$port"
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
  kill -KILL "${MANAGER_PID[$leader]}"; wait "${MANAGER_PID[$leader]}" 2>/dev/null || true
  until on "$survivor" service create -d -q --name "r$r" busybox true >/dev/null 2>&1; do sleep "$POLL"; done
  t1=$(now)
  rm -f "$MANAGERS_DIR/$leader.sock"; manager_start "$leader"
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
