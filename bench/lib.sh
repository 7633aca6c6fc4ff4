# Shared helpers for the rswarm benchmark scripts (sourced, not run).
# Every helper that starts something records it so that bench_cleanup (run
# from an EXIT trap) can stop exactly what this script started.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The Docker side is the tests' private engine (started by
# scripts/setup.sh, stopped by scripts/teardown.sh), never the machine's own
# engine: its socket comes from scripts/test-engine.env (or
# RSWARM_TEST_DOCKER_HOST, as for the tests).
# shellcheck source=scripts/test-engine.env
. "$BENCH_ROOT/scripts/test-engine.env"
RSWARM_BIN=${RSWARM_BIN:-$BENCH_ROOT/target/release/rswarm}
DOCKER_BIN=${DOCKER_BIN:-docker}
DOCKER_HOST_SOCK=${DOCKER_HOST_SOCK:-${RSWARM_TEST_DOCKER_HOST:-unix://$RSWARM_ENGINE_SOCK}}
DOCKER_IMAGE=${DOCKER_IMAGE:-rswarm-test/busybox:latest}
POLL=${POLL:-0.02}

# State owned by this script.
BENCH_TMPDIRS=()
RSWARM_DAEMON_PID=""
RSWARM_SOCK=""
RSWARM_SERVICE_IDS=()
DOCKER_SWARM_OURS=0
DOCKER_SERVICE_NAMES=()

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

rs() { "$RSWARM_BIN" -H "unix://$RSWARM_SOCK" "$@"; }
dk() { "$DOCKER_BIN" -H "$DOCKER_HOST_SOCK" "$@"; }

require_binary() {
  [ -x "$RSWARM_BIN" ] || die "$RSWARM_BIN missing; build it with: cargo build --release -p rswarm"
}

# Number of live processes whose environment holds RSWARM_SERVICE_ID=<id>
# for any of the given ids.
count_task_procs() {
  local args=() id
  for id in "$@"; do args+=(-e "RSWARM_SERVICE_ID=$id"); done
  { grep -lsazxF "${args[@]}" /proc/[0-9]*/environ 2>/dev/null || true; } | wc -l
}

# PIDs of those processes.
task_pids() {
  local args=() id f
  for id in "$@"; do args+=(-e "RSWARM_SERVICE_ID=$id"); done
  for f in $({ grep -lsazxF "${args[@]}" /proc/[0-9]*/environ 2>/dev/null || true; }); do
    f=${f#/proc/}; printf '%s\n' "${f%/environ}"
  done
}

pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
kb_to_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Starts a fresh rswarm daemon in a new temp dir; sets RSWARM_DAEMON_PID,
# RSWARM_SOCK, RSWARM_DIR.
start_rswarm_daemon() {
  require_binary
  RSWARM_DIR=$(mktemp -d /tmp/rswarm-bench.XXXXXX)
  BENCH_TMPDIRS+=("$RSWARM_DIR")
  RSWARM_SOCK=$RSWARM_DIR/rswarm.sock
  "$RSWARM_BIN" daemon -H "unix://$RSWARM_SOCK" --data-root "$RSWARM_DIR/data" \
    --hostname bench-node --runtime process >"$RSWARM_DIR/daemon.log" 2>&1 &
  RSWARM_DAEMON_PID=$!
  local i
  for i in $(seq 1 250); do
    if [ "$(curl -s --max-time 1 --unix-socket "$RSWARM_SOCK" http://rswarm/_ping 2>/dev/null)" = OK ]; then return 0; fi
    kill -0 "$RSWARM_DAEMON_PID" 2>/dev/null || { cat "$RSWARM_DIR/daemon.log" >&2; die "rswarm daemon exited at start"; }
    sleep 0.02
  done
  die "rswarm daemon did not answer within 5 s (log: $RSWARM_DIR/daemon.log)"
}

# SIGTERM, wait up to 60 s, then SIGKILL; then kill any task process of ours
# that survived (it would be orphaned by a SIGKILLed daemon).
stop_rswarm_daemon() {
  local pid=$RSWARM_DAEMON_PID i
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "warning: rswarm daemon $pid ignored SIGTERM for 60 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  RSWARM_DAEMON_PID=""
  if [ "${#RSWARM_SERVICE_IDS[@]}" -gt 0 ]; then
    local left
    left=$(task_pids "${RSWARM_SERVICE_IDS[@]}")
    if [ -n "$left" ]; then
      log "warning: $(echo "$left" | wc -l) rswarm task process(es) outlived the daemon; killing them"
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
    fi
  fi
  RSWARM_SERVICE_IDS=()
}

docker_swarm_init() {
  dk version >/dev/null 2>&1 || die "the tests' private Docker engine does not answer at $DOCKER_HOST_SOCK (start it: bash scripts/setup.sh)"
  local state
  state=$(dk info --format '{{.Swarm.LocalNodeState}}')
  [ "$state" = inactive ] || die "Docker engine is already in swarm state '$state' (someone else is using it); not touching it"
  dk image inspect "$DOCKER_IMAGE" >/dev/null 2>&1 || die "image $DOCKER_IMAGE missing (run: bash scripts/setup.sh)"
  dk swarm init --advertise-addr 127.0.0.1 >/dev/null
  DOCKER_SWARM_OURS=1
}

docker_swarm_leave() {
  local n
  if [ "$DOCKER_SWARM_OURS" = 1 ]; then
    for n in "${DOCKER_SERVICE_NAMES[@]}"; do dk service rm "$n" >/dev/null 2>&1 || true; done
    # Retry for a minute: the private engine may be busy or restarting.
    local i
    for i in $(seq 1 60); do
      dk swarm leave --force >/dev/null 2>&1 && break
      [ "$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = inactive ] && break
      [ "$i" = 60 ] && log "warning: docker swarm leave --force failed for 60 s; run it by hand"
      sleep 1
    done
    DOCKER_SWARM_OURS=0
  fi
  DOCKER_SERVICE_NAMES=()
}

# `docker service create -d ARGS...`, quiet; drops only the CLI's warning that
# the local-only image has no registry digest (the lookup fails fast).
dk_create() {
  local err
  err=$(mktemp /tmp/rswarm-bench-err.XXXXXX); BENCH_TMPDIRS+=("$err")
  if ! dk service create -d "$@" >/dev/null 2>"$err"; then cat "$err" >&2; return 1; fi
  grep -v -e 'could not be accessed on a registry' -e 'its digest. Each node' -e 'possibly leading to different' \
    -e 'versions of the image' -e '^$' "$err" >&2 || true
}

# Running containers of a Docker Swarm service.
docker_running() {
  dk ps -q --filter "label=com.docker.swarm.service.name=$1" | wc -l
}

# Any containers (running or not) of a Docker Swarm service.
docker_containers() {
  dk ps -aq --filter "label=com.docker.swarm.service.name=$1" | wc -l
}

# Waits until `$1 service ls` (rs or dk) shows <want> for service $2. Bounded.
wait_replicas() {
  local cli=$1 name=$2 want=$3 timeout=${4:-600} t0 got
  t0=$SECONDS
  while :; do
    got=$($cli service ls --filter "name=$name" --format '{{.Name}} {{.Replicas}}' 2>/dev/null | awk -v n="$name" '$1 == n { print $2 }')
    [ "$got" = "$want" ] && return 0
    [ $((SECONDS - t0)) -ge "$timeout" ] && { log "timeout: $cli service ls shows '$got' for $name, want $want"; return 1; }
    sleep "$POLL"
  done
}

bench_cleanup() {
  local rc=$?
  set +e
  stop_rswarm_daemon
  docker_swarm_leave
  local d
  for d in "${BENCH_TMPDIRS[@]}"; do rm -rf "$d"; done
  BENCH_TMPDIRS=()
  return $rc
}

# median and spread (min-max) of a list of numbers
stats() {
  [ "$#" -gt 0 ] || { echo "n/a"; return; }
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median %.2f (min %.2f, max %.2f, n=%d)", m, v[1], v[NR], NR }'
}
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}
# Median over rounds of ${A[r]} / ${B[r]} for arrays named A and B, in %
# (the paths of one round share the machine's load).
round_ratios() {
  local -n a=$1 b=$2
  local i out=()
  for i in "${!a[@]}"; do out+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.1f", 100 * x / y }')"); done
  printf '%.0f %%' "$(median "${out[@]}")"
}
# A bare VXLAN device (MTU 1450) in namespace $1: `bare_vxlan NS DEV VNI
# PORT LOCAL REMOTE ADDR/LEN` (vxlan_ceiling.sh; overlay_e2e.sh's path X).
bare_vxlan() {
  local ns=$1 dev=$2 vni=$3 port=$4 local_ip=$5 remote=$6 addr=$7
  ip -n "$ns" link add "$dev" type vxlan id "$vni" dstport "$port" local "$local_ip" remote "$remote"
  ip -n "$ns" link set "$dev" mtu 1450 up
  ip -n "$ns" addr add "$addr" dev "$dev"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "inf" }'; }

# Local manager daemons for the high-availability benches (failover.sh,
# catch_up.sh): `managers_dir NAME` makes their directory,
# `manager_start mN` runs a process-runtime daemon on $MANAGERS_DIR/mN.sock
# (data root and log beside it, PID in MANAGER_PID), `on mN ARGS` runs the
# CLI against it, `managers_swarm PORT` makes m1-m3 (127.0.0.1-3) one swarm
# of three managers and sets MANAGER_TOKEN, and `managers_stop` (from the
# script's EXIT trap) stops exactly those daemons by PID and removes the
# directory.
MANAGERS_DIR=""
declare -A MANAGER_PID
managers_dir() { MANAGERS_DIR=$(mktemp -d "/tmp/rswarm-bench-$1.XXXXXX"); }
manager_start() {
  "$RSWARM_BIN" daemon -H "unix://$MANAGERS_DIR/$1.sock" --data-root "$MANAGERS_DIR/$1" \
    --hostname "$1" --runtime process >>"$MANAGERS_DIR/$1.log" 2>&1 &
  MANAGER_PID[$1]=$!
  local _
  for _ in $(seq 1 250); do [ -S "$MANAGERS_DIR/$1.sock" ] && return 0; sleep 0.02; done
  die "daemon $1 did not start"
}
on() { local n=$1; shift; "$RSWARM_BIN" -H "unix://$MANAGERS_DIR/$n.sock" "$@"; }
managers_swarm() {
  local port=$1 i
  for i in 1 2 3; do manager_start "m$i"; done
  on m1 swarm init --advertise-addr "127.0.0.1:$port" --listen-addr "127.0.0.1:$port" >/dev/null
  MANAGER_TOKEN=$(on m1 swarm join-token -q manager)
  for i in 2 3; do
    on "m$i" swarm join --token "$MANAGER_TOKEN" --advertise-addr "127.0.0.$i:$port" \
      --listen-addr "127.0.0.$i:$port" "127.0.0.1:$port" >/dev/null
  done
}
managers_stop() {
  local p _
  for p in "${MANAGER_PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${MANAGER_PID[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  [ -z "$MANAGERS_DIR" ] || rm -rf "$MANAGERS_DIR"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
