#!/usr/bin/env bash
# create_to_running.sh [N=100]
#
# Wall time from `service create -d --replicas N busybox sleep 1000` until the
# N tasks run, on a fresh rswarm daemon (process runtime) and on real Docker
# Swarm on the local engine; then scale-down to 0, scale back up to N, and
# `service rm`, each until no task process/container is left (or N/N again).
#
# Env: RUNS (default 3) repetitions, alternating rswarm and Docker; a fresh
#      rswarm daemon per run, one Docker swarm for the whole script.
#      SKIP_DOCKER=1 measures rswarm only.
#      CREATE_FLAGS (default "--stop-grace-period 0s", used on both sides):
#      busybox `sleep` is PID 1 in a Docker container and ignores SIGTERM, so
#      with Docker's default 10 s grace period every Docker stop would take
#      10 s; the flag removes that artefact from the scale-down / rm times.
#      TIMEOUT seconds per phase (default 600).
#
# rswarm's process runtime starts host processes; Docker Swarm starts
# containers (namespaces, cgroups, overlay mount, shim, network), so the
# ratio measures orchestration + runtime start cost, not orchestration alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

N=${1:-100}
RUNS=${RUNS:-3}
SKIP_DOCKER=${SKIP_DOCKER:-0}
TIMEOUT=${TIMEOUT:-600}
read -r -a FLAGS <<<"${CREATE_FLAGS---stop-grace-period 0s}"
require_binary

declare -A R=()   # R[metric] = space-separated per-run values

add() { R[$1]="${R[$1]:-} $2"; }

# Polls until the rswarm service has N processes and `service ls` shows N/N;
# prints "<t_procs> <t_ls>" relative to $1.
rs_wait_up() {
  local t0=$1 id=$2 want=$3 tp="" tl="" got=""
  while [ -z "$tp" ] || [ -z "$tl" ]; do
    if [ -z "$tp" ] && [ "$(count_task_procs "$id")" -eq "$want" ]; then tp=$(elapsed "$t0" "$(now)"); fi
    if [ -z "$tl" ]; then
      got=$(rs service ls --filter name=bench --format '{{.Name}} {{.Replicas}}' | awk '$1 == "bench" { print $2 }')
      if [ "$got" = "$want/$want" ]; then tl=$(elapsed "$t0" "$(now)"); fi
    fi
    if awk -v t="$(elapsed "$t0" "$(now)")" -v m="$TIMEOUT" 'BEGIN { exit !(t > m) }'; then
      log "rswarm did not converge within ${TIMEOUT} s: $(count_task_procs "$id") processes, service ls '$got' (daemon log: $RSWARM_DIR/daemon.log)"
      tail -n 30 "$RSWARM_DIR/daemon.log" >&2 || true
      return 1
    fi
    sleep "$POLL"
  done
  echo "$tp $tl"
}

# Polls until no process of the service is left; prints seconds since $1.
rs_wait_gone() {
  local t0=$1 id=$2
  while [ "$(count_task_procs "$id")" -ne 0 ]; do
    if awk -v t="$(elapsed "$t0" "$(now)")" -v m="$TIMEOUT" 'BEGIN { exit !(t > m) }'; then
      log "rswarm: $(count_task_procs "$id") task processes still alive after ${TIMEOUT} s"; return 1
    fi
    sleep "$POLL"
  done
  elapsed "$t0" "$(now)"
}

dk_wait_gone() {
  local t0=$1 name=$2
  while [ "$(docker_running "$name")" -ne 0 ]; do
    if awk -v t="$(elapsed "$t0" "$(now)")" -v m="$TIMEOUT" 'BEGIN { exit !(t > m) }'; then
      log "Docker: containers of $name still running after ${TIMEOUT} s"; return 1
    fi
    sleep "$POLL"
  done
  elapsed "$t0" "$(now)"
}

run_rswarm() {
  local run=$1 t0 id up tp tl td tu tr
  start_rswarm_daemon
  rs swarm init >/dev/null
  t0=$(now)
  id=$(rs service create -d --name bench --replicas "$N" "${FLAGS[@]}" busybox sleep 1000)
  RSWARM_SERVICE_IDS+=("$id")
  up=$(rs_wait_up "$t0" "$id" "$N"); read -r tp tl <<<"$up"

  t0=$(now)
  rs service scale -d bench=0 >/dev/null
  td=$(rs_wait_gone "$t0" "$id")
  wait_replicas rs bench 0/0 "$TIMEOUT"

  t0=$(now)
  rs service scale -d bench="$N" >/dev/null
  up=$(rs_wait_up "$t0" "$id" "$N"); read -r _ tu <<<"$up"

  t0=$(now)
  rs service rm bench >/dev/null
  tr=$(rs_wait_gone "$t0" "$id")
  stop_rswarm_daemon
  add rs_procs "$tp"; add rs_ls "$tl"; add rs_down "$td"; add rs_up "$tu"; add rs_rm "$tr"
  echo "run $run: rswarm $N replicas: create->$N processes ${tp} s, create->service ls $N/$N ${tl} s; scale-down to 0 (no process left) ${td} s; scale-up 0->$N ($N/$N) ${tu} s; service rm (no process left) ${tr} s"
}

run_docker() {
  local run=$1 name="rswarm-bench-$$-$1" t0 tl td tu tr
  DOCKER_SERVICE_NAMES+=("$name")
  t0=$(now)
  dk_create --name "$name" --replicas "$N" "${FLAGS[@]}" "$DOCKER_IMAGE" sleep 1000
  wait_replicas dk "$name" "$N/$N" "$TIMEOUT"
  tl=$(elapsed "$t0" "$(now)")

  t0=$(now)
  dk service scale -d "$name"=0 >/dev/null
  td=$(dk_wait_gone "$t0" "$name")

  t0=$(now)
  dk service scale -d "$name"="$N" >/dev/null
  wait_replicas dk "$name" "$N/$N" "$TIMEOUT"
  tu=$(elapsed "$t0" "$(now)")

  t0=$(now)
  dk service rm "$name" >/dev/null
  tr=$(dk_wait_gone "$t0" "$name")
  # Not timed: let swarm remove the exited containers before the next run.
  local i
  for i in $(seq 1 600); do [ "$(docker_containers "$name")" -eq 0 ] && break; sleep 0.5; done
  add dk_ls "$tl"; add dk_down "$td"; add dk_up "$tu"; add dk_rm "$tr"
  echo "run $run: Docker Swarm $N replicas: create->service ls $N/$N ${tl} s; scale-down to 0 (no container running) ${td} s; scale-up 0->$N ($N/$N) ${tu} s; service rm (no container running) ${tr} s"
}

echo "# create_to_running.sh N=$N RUNS=$RUNS flags='${FLAGS[*]}' $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
if [ "$SKIP_DOCKER" = 1 ]; then
  echo "# rswarm: $RSWARM_BIN (process runtime: tasks are host processes); Docker Swarm skipped"
else
  echo "# rswarm: $RSWARM_BIN (process runtime: tasks are host processes); Docker Swarm: engine $(dk version --format '{{.Server.Version}}'), image $DOCKER_IMAGE (tasks are containers)"
fi
[ "$SKIP_DOCKER" = 1 ] || docker_swarm_init
for run in $(seq 1 "$RUNS"); do
  run_rswarm "$run"
  [ "$SKIP_DOCKER" = 1 ] || run_docker "$run"
done

# shellcheck disable=SC2086
{
  echo "# medians over $RUNS run(s) (min-max in parentheses); timing starts just before the create/scale/rm command"
  echo "rswarm create->$N processes: $(stats ${R[rs_procs]:-})"
  echo "rswarm create->service ls $N/$N: $(stats ${R[rs_ls]:-})"
  echo "rswarm scale-down $N->0: $(stats ${R[rs_down]:-}); scale-up 0->$N: $(stats ${R[rs_up]:-}); service rm: $(stats ${R[rs_rm]:-})"
  if [ "$SKIP_DOCKER" != 1 ]; then
    echo "Docker Swarm create->service ls $N/$N: $(stats ${R[dk_ls]:-})"
    echo "Docker Swarm scale-down $N->0: $(stats ${R[dk_down]:-}); scale-up 0->$N: $(stats ${R[dk_up]:-}); service rm: $(stats ${R[dk_rm]:-})"
    a=$(median ${R[rs_ls]:-}); b=$(median ${R[dk_ls]:-})
    echo "create-to-running $N replicas: rswarm $a s, Docker Swarm $b s ($(ratio "$a" "$b"))"
    a=$(median ${R[rs_down]:-}); b=$(median ${R[dk_down]:-})
    echo "scale-down $N->0: rswarm $a s, Docker Swarm $b s ($(ratio "$a" "$b"))"
    a=$(median ${R[rs_up]:-}); b=$(median ${R[dk_up]:-})
    echo "scale-up 0->$N: rswarm $a s, Docker Swarm $b s ($(ratio "$a" "$b"))"
    a=$(median ${R[rs_rm]:-}); b=$(median ${R[dk_rm]:-})
    echo "service rm $N replicas: rswarm $a s, Docker Swarm $b s ($(ratio "$a" "$b"))"
    echo "note: Docker Swarm starts containers while rswarm's process runtime starts host processes, so each ratio measures orchestration + runtime start/stop cost, not orchestration alone."
  fi
}
