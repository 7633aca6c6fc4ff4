#!/usr/bin/env bash
# rss_churn.sh [CYCLES=10]
#
# Daemon memory under churn: each cycle creates SERVICES services x
# TASKS/SERVICES replicas of `busybox sleep 1000` on one fresh rswarm daemon,
# waits until all task processes run, removes the services, waits until no
# task process is left, and prints the daemon's VmRSS and thread count with
# the tasks running and after the removal. A daemon whose memory is bounded
# levels off; one that keeps something per created task keeps growing.
#
# Env: TASKS (default 1000), SERVICES (default 10), SETTLE seconds before
#      each sample (default 3), TIMEOUT (default 300), and anything in the
#      environment is passed to the daemon (e.g. MALLOC_ARENA_MAX=1 to tell
#      glibc arena fragmentation apart from retained objects).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

CYCLES=${1:-10}
TASKS=${TASKS:-1000}
SERVICES=${SERVICES:-10}
SETTLE=${SETTLE:-3}
TIMEOUT=${TIMEOUT:-300}
require_binary

threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
sample() { echo "$(kb_to_mb "$(vmrss_kb "$RSWARM_DAEMON_PID")") MB, $(threads "$RSWARM_DAEMON_PID") threads"; }
wait_procs() { # wait_procs <count> <ids...>
  local want=$1 t0=$SECONDS; shift
  until [ "$(count_task_procs "$@")" -eq "$want" ]; do
    [ $((SECONDS - t0)) -ge "$TIMEOUT" ] && die "timeout: $(count_task_procs "$@") task processes, want $want"
    sleep 0.1
  done
}

echo "# rss_churn.sh CYCLES=$CYCLES TASKS=$TASKS SERVICES=$SERVICES MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}; $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
start_rswarm_daemon
rs swarm init >/dev/null
sleep "$SETTLE"
echo "after init: $(sample)"
for c in $(seq 1 "$CYCLES"); do
  ids=()
  for i in $(seq 1 "$SERVICES"); do
    ids+=("$(rs service create -d --name "churn$i" --replicas $((TASKS / SERVICES)) busybox sleep 1000)")
  done
  RSWARM_SERVICE_IDS+=("${ids[@]}")
  wait_procs "$TASKS" "${ids[@]}"
  sleep "$SETTLE"; running=$(sample)
  for i in $(seq 1 "$SERVICES"); do rs service rm "churn$i" >/dev/null; done
  wait_procs 0 "${ids[@]}"
  sleep "$SETTLE"
  echo "cycle $c ($((c * TASKS)) tasks created so far): with $TASKS tasks running $running; after service rm $(sample)"
done
