#!/usr/bin/env bash
# rss.sh
#
# Resident memory (VmRSS from /proc/<pid>/status) of the rswarm daemon:
#   idle before `swarm init`, idle after init, and with TASKS tasks running
#   (SERVICES services x TASKS/SERVICES replicas of `busybox sleep 1000`);
# and of dockerd + containerd for Docker Swarm on the local engine at the same
# points with DOCKER_TASKS containers (containerd-shim processes reported
# separately: one per container).
#
# Env: RUNS (default 3) fresh rswarm daemons; DOCKER_RUNS (default 1);
#      TASKS (default 1000); DOCKER_TASKS (default 1000, 0 skips Docker);
#      SERVICES (default 10); SETTLE seconds to wait before each sample
#      (default 3); TIMEOUT seconds to wait for convergence (default 900).
# Project goal: rswarm daemon under 40 MB idle.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

RUNS=${RUNS:-3}
DOCKER_RUNS=${DOCKER_RUNS:-1}
TASKS=${TASKS:-1000}
DOCKER_TASKS=${DOCKER_TASKS:-1000}
SERVICES=${SERVICES:-10}
SETTLE=${SETTLE:-3}
TIMEOUT=${TIMEOUT:-900}
require_binary

declare -A R=()
add() { R[$1]="${R[$1]:-} $2"; }
vmhwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
sum_rss_kb() { local p s=0; for p in "$@"; do s=$((s + $(vmrss_kb "$p"))); done; echo "$s"; }
sum_pss_kb() { local p s=0; for p in "$@"; do s=$((s + $(pss_kb "$p"))); done; echo "$s"; }

wait_until() { # wait_until <timeout-s> <description> <command...>
  local timeout=$1 what=$2 t0=$SECONDS; shift 2
  until "$@"; do
    [ $((SECONDS - t0)) -ge "$timeout" ] && { log "timeout after ${timeout} s waiting for: $what"; return 1; }
    sleep 0.1
  done
}

rs_all_running() {
  [ "$(count_task_procs "${RSWARM_SERVICE_IDS[@]}")" -eq "$TASKS" ] || return 1
  local want=$((TASKS / SERVICES))
  [ "$(rs service ls --format '{{.Replicas}}' | grep -cx "$want/$want")" -eq "$SERVICES" ]
}

run_rswarm() {
  local run=$1 idle init full hwm t0 tconv i id
  start_rswarm_daemon
  sleep "$SETTLE"; idle=$(vmrss_kb "$RSWARM_DAEMON_PID")
  rs swarm init >/dev/null
  sleep "$SETTLE"; init=$(vmrss_kb "$RSWARM_DAEMON_PID")
  t0=$(now)
  for i in $(seq 1 "$SERVICES"); do
    id=$(rs service create -d --name "rss$i" --replicas $((TASKS / SERVICES)) busybox sleep 1000)
    RSWARM_SERVICE_IDS+=("$id")
  done
  if ! wait_until "$TIMEOUT" "rswarm: $TASKS task processes and $SERVICES services N/N" rs_all_running; then
    log "rswarm: $(count_task_procs "${RSWARM_SERVICE_IDS[@]}") processes; service ls:"; rs service ls >&2 || true
    tail -n 30 "$RSWARM_DIR/daemon.log" >&2; exit 1
  fi
  tconv=$(elapsed "$t0" "$(now)")
  sleep "$SETTLE"; full=$(vmrss_kb "$RSWARM_DAEMON_PID"); hwm=$(vmhwm_kb "$RSWARM_DAEMON_PID")
  stop_rswarm_daemon
  add rs_idle "$(kb_to_mb "$idle")"; add rs_init "$(kb_to_mb "$init")"; add rs_full "$(kb_to_mb "$full")"; add rs_hwm "$(kb_to_mb "$hwm")"
  echo "run $run: rswarm daemon VmRSS: idle before init $(kb_to_mb "$idle") MB, idle after init $(kb_to_mb "$init") MB, with $TASKS tasks running $(kb_to_mb "$full") MB (peak VmHWM $(kb_to_mb "$hwm") MB; $TASKS tasks converged in ${tconv} s (polled every 0.1 s))"
}

docker_pids() { # dockerd and the containerd it manages
  local d c
  d=$(pgrep -x dockerd | head -n 1)
  c=$(pgrep -x -P "$d" containerd | head -n 1 || true)
  [ -n "$c" ] || c=$(pgrep -x containerd | head -n 1)
  echo "$d $c"
}
# containerd-shim processes of the containers of our services (one each).
shim_pids() {
  local ids n p
  ids=$(for n in "${DOCKER_SERVICE_NAMES[@]}"; do dk ps -q --no-trunc --filter "label=com.docker.swarm.service.name=$n"; done)
  for p in $(pgrep -f '^/usr/bin/containerd-shim|^containerd-shim' || true); do
    if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | awk 'f { print; exit } $0 == "-id" { f = 1 }' | grep -qxF -f <(printf '%s\n' "$ids"); then
      echo "$p"
    fi
  done
}

dk_all_running() {
  local want=$((DOCKER_TASKS / SERVICES))
  [ "$(dk service ls --filter name=rssbench- --format '{{.Replicas}}' | grep -cx "$want/$want")" -eq "$SERVICES" ]
}

run_docker() {
  local run=$1 d c idle_d idle_c init_d init_c full_d full_c shims shims_pss nshim t0 tconv i name
  read -r d c <<<"$(docker_pids)"
  [ -n "$d" ] && [ -n "$c" ] || die "cannot find dockerd/containerd processes"
  [ "$(dk ps -q | wc -l)" -eq 0 ] || log "warning: $(dk ps -q | wc -l) containers already running on the engine; their shims are counted"
  sleep "$SETTLE"; idle_d=$(vmrss_kb "$d"); idle_c=$(vmrss_kb "$c")
  docker_swarm_init
  sleep "$SETTLE"; init_d=$(vmrss_kb "$d"); init_c=$(vmrss_kb "$c")
  t0=$(now)
  for i in $(seq 1 "$SERVICES"); do
    name="rssbench-$$-$i"
    DOCKER_SERVICE_NAMES+=("$name")
    dk_create --name "$name" --replicas $((DOCKER_TASKS / SERVICES)) --stop-grace-period 0s "$DOCKER_IMAGE" sleep 1000
  done
  if ! wait_until "$TIMEOUT" "Docker Swarm: $SERVICES services N/N" dk_all_running; then
    dk service ls >&2 || true; exit 1
  fi
  tconv=$(elapsed "$t0" "$(now)")
  sleep "$SETTLE"; full_d=$(vmrss_kb "$d"); full_c=$(vmrss_kb "$c")
  # shellcheck disable=SC2046
  local spids
  spids=$(shim_pids)
  # shellcheck disable=SC2086
  shims=$(sum_rss_kb $spids); nshim=$(echo $spids | wc -w)
  # shellcheck disable=SC2086
  shims_pss=$(sum_pss_kb $spids)
  for name in "${DOCKER_SERVICE_NAMES[@]}"; do dk service rm "$name" >/dev/null; done
  wait_until "$TIMEOUT" "Docker Swarm: containers removed" bash -c "[ \"\$($DOCKER_BIN -H $DOCKER_HOST_SOCK ps -aq --filter label=com.docker.swarm.service.name | wc -l)\" -eq 0 ]" || true
  docker_swarm_leave
  add dk_idle "$(kb_to_mb $((idle_d + idle_c)))"; add dk_init "$(kb_to_mb $((init_d + init_c)))"; add dk_full "$(kb_to_mb $((full_d + full_c)))"; add dk_shim "$(kb_to_mb "$shims")"; add dk_shim_pss "$(kb_to_mb "$shims_pss")"
  echo "run $run: dockerd+containerd VmRSS: idle before init $(kb_to_mb $((idle_d + idle_c))) MB (dockerd $(kb_to_mb "$idle_d") + containerd $(kb_to_mb "$idle_c")), idle after init $(kb_to_mb $((init_d + init_c))) MB ($(kb_to_mb "$init_d") + $(kb_to_mb "$init_c")), with $DOCKER_TASKS containers $(kb_to_mb $((full_d + full_c))) MB ($(kb_to_mb "$full_d") + $(kb_to_mb "$full_c")); plus $nshim containerd-shim processes: RSS sum $(kb_to_mb "$shims") MB, PSS sum $(kb_to_mb "$shims_pss") MB; converged in ${tconv} s (polled every 0.1 s)"
}

echo "# rss.sh RUNS=$RUNS TASKS=$TASKS DOCKER_RUNS=$DOCKER_RUNS DOCKER_TASKS=$DOCKER_TASKS SERVICES=$SERVICES SETTLE=${SETTLE}s; $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
for run in $(seq 1 "$RUNS"); do run_rswarm "$run"; done
if [ "$DOCKER_TASKS" -gt 0 ]; then
  for run in $(seq 1 "$DOCKER_RUNS"); do run_docker "$run"; done
fi

# shellcheck disable=SC2086
{
  echo "# medians (MB) over the runs, min-max in parentheses"
  if [ "$RUNS" -gt 0 ]; then
    echo "rswarm daemon RSS idle before init: $(stats ${R[rs_idle]:-})"
    echo "rswarm daemon RSS idle after init: $(stats ${R[rs_init]:-})"
    echo "rswarm daemon RSS with $TASKS tasks: $(stats ${R[rs_full]:-}); peak $(stats ${R[rs_hwm]:-})"
  fi
  if [ "$DOCKER_TASKS" -gt 0 ]; then
    echo "dockerd+containerd RSS idle before init: $(stats ${R[dk_idle]:-})"
    echo "dockerd+containerd RSS idle after init: $(stats ${R[dk_init]:-})"
    echo "dockerd+containerd RSS with $DOCKER_TASKS containers: $(stats ${R[dk_full]:-}); containerd-shims RSS sum: $(stats ${R[dk_shim]:-}), PSS sum: $(stats ${R[dk_shim_pss]:-})"
  fi
  if [ "$RUNS" -gt 0 ]; then
    idle=$(median ${R[rs_init]:-})
    if awk -v v="$idle" 'BEGIN { exit !(v < 40) }'; then verdict=met; else verdict="NOT met"; fi
    echo "goal rswarm < 40 MB idle (after init): $idle MB, $verdict"
  fi
}
