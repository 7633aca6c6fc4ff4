#!/usr/bin/env bash
# multi_node_create.sh [N=300]
#
# Create-to-running on a local 3-node swarm: one manager and two workers
# (real daemons, mutual-TLS sessions, workers advertising 127.0.0.2/3),
# `service create -d --replicas N busybox sleep 1000`, timed until N task
# processes exist and until `service ls` shows N/N; then `service rm` until
# no task process is left. RUNS (default 3) fresh swarms.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-300}
RUNS=${RUNS:-3}
require_binary
DIRS=()
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

start() { # start <dir> <name>
  "$RSWARM_BIN" daemon -H "unix://$1/$2.sock" --data-root "$1/$2" --hostname "$2" --runtime process >"$1/$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 250); do [ -S "$1/$2.sock" ] && return 0; sleep 0.02; done
  die "daemon $2 did not start"
}
on() { local sock=$1; shift; "$RSWARM_BIN" -H "unix://$sock" "$@"; }

creates=(); removes=(); procs=()
for run in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d /tmp/rswarm-bench-mn.XXXXXX); DIRS+=("$dir")
  for n in manager worker1 worker2; do start "$dir" "$n"; done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  on "$dir/manager.sock" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port" >/dev/null
  token=$(on "$dir/manager.sock" swarm join-token -q worker)
  on "$dir/worker1.sock" swarm join --token "$token" --advertise-addr 127.0.0.2 "127.0.0.1:$port" >/dev/null
  on "$dir/worker2.sock" swarm join --token "$token" --advertise-addr 127.0.0.3 "127.0.0.1:$port" >/dev/null
  until [ "$(on "$dir/manager.sock" node ls | grep -c ' Ready ')" -eq 3 ]; do sleep 0.1; done
  t0=$(now)
  id=$(on "$dir/manager.sock" service create -d -q --name load --replicas "$N" --stop-grace-period 0s busybox sleep 1000)
  until [ "$(count_task_procs "$id")" -eq "$N" ]; do sleep 0.02; done
  t1=$(now)
  until on "$dir/manager.sock" service ls | grep -q " $N/$N "; do sleep 0.02; done
  t2=$(now)
  on "$dir/manager.sock" service rm load >/dev/null
  until [ "$(count_task_procs "$id")" -eq 0 ]; do sleep 0.02; done
  t3=$(now)
  procs+=("$(elapsed "$t0" "$t1")"); creates+=("$(elapsed "$t0" "$t2")"); removes+=("$(elapsed "$t2" "$t3")")
  echo "run $run: $N processes in $(elapsed "$t0" "$t1") s, $N/$N in $(elapsed "$t0" "$t2") s, removed in $(elapsed "$t2" "$t3") s"
  cleanup; PIDS=(); DIRS=()
done
echo "create-to-running $N replicas on 3 nodes: processes $(stats "${procs[@]}"); service ls $N/$N $(stats "${creates[@]}"); service rm $(stats "${removes[@]}")"
