#!/usr/bin/env bash
# raft_writes.sh
#
# Replicated write throughput and latency on 3 managers: `POST
# /services/create` and `POST /services/{id}/update` (Engine API, replicas
# 0, so the write alone) at 1 and 64 concurrent clients, client i on
# manager i mod 3 (followers forward to the leader), measured by
# bench/raft_writes_client.py (keep-alive HTTP over the unix sockets).
#
#  * rswarm: 3 daemons on 127.0.0.1/2/3 (Raft over mutual TLS), as
#    failover.sh builds them.
#  * Docker Swarm: 3 private dockerd instances (Debian's 20.10), each in
#    its own network namespace (rswbench-d1..3, 10.213.47.1-3/24 on a
#    bridge in rswbench-hub; entered with nsenter --net only, so cgroups stay
#    mounted) with its own socket, data root, exec root,
#    pid file and containerd namespaces, no bridge or iptables changes;
#    `swarm init` on the first, `swarm join` with the manager token on the
#    others. Never the machine's engine nor the tests' private one.
#
# Both get the same requests (API v1.41), the same data disk (temp dirs
# under /tmp). Also prints the client's own ceiling (GET /_ping at 64
# clients on rswarm). Prints a table and the ratios.
#
# Env: WRITES_1 (200) and WRITES_64 (1280): writes of each kind per run;
#      RUNS (3): runs per cell, the median is shown; SKIP_DOCKER=1.
# Needs root, `ip`, dockerd 20.10, python3. Leaves nothing behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
WRITES_1=${WRITES_1:-200}
WRITES_64=${WRITES_64:-1280}
RUNS=${RUNS:-3}
SKIP_DOCKER=${SKIP_DOCKER:-0}
CLIENT="python3 $BENCH_ROOT/bench/raft_writes_client.py"
require_binary
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, dockerd)"
DIR=$(mktemp -d /tmp/rswarm-bench-raftw.XXXXXX)
NETNS_PREFIX=rswbench
SUBNET=10.213.47
declare -A PID
NETNS_OURS=()

cleanup() {
  set +e
  local p
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PID[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && { log "warning: $p ignored SIGTERM for 30 s; SIGKILL"; kill -KILL "$p"; }
  done
  for p in "${NETNS_OURS[@]}"; do ip netns delete "$p" 2>/dev/null; done
  # dockerd leaves its exec root mounts (netns files) behind on some exits.
  grep -o " $DIR[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT

wait_sock() { # wait_sock <socket> <what>
  for _ in $(seq 1 600); do
    [ "$(curl -s --max-time 1 --unix-socket "$1" http://x/_ping 2>/dev/null)" = OK ] && return 0
    sleep 0.05
  done
  die "$2 did not answer on $1 within 30 s (logs in $DIR)"
}

# ---- rswarm: 3 managers on 127.0.0.1/2/3 --------------------------------
rs_start() { # rs_start <name>
  "$RSWARM_BIN" daemon -H "unix://$DIR/$1.sock" --data-root "$DIR/$1" --hostname "$1" \
    --runtime process >>"$DIR/$1.log" 2>&1 &
  PID[$1]=$!
  wait_sock "$DIR/$1.sock" "rswarm $1"
}
rs_on() { local n=$1; shift; "$RSWARM_BIN" -H "unix://$DIR/$n.sock" "$@"; }

rswarm_cluster() {
  local port i token
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  for i in 1 2 3; do rs_start "m$i"; done
  rs_on m1 swarm init --advertise-addr "127.0.0.1:$port" --listen-addr "127.0.0.1:$port" >/dev/null
  token=$(rs_on m1 swarm join-token -q manager)
  for i in 2 3; do
    rs_on "m$i" swarm join --token "$token" --advertise-addr "127.0.0.$i:$port" \
      --listen-addr "127.0.0.$i:$port" "127.0.0.1:$port" >/dev/null
  done
  until [ "$(rs_on m1 node ls 2>/dev/null | grep -c -E 'Leader|Reachable')" -eq 3 ]; do sleep 0.1; done
}

# ---- Docker Swarm: 3 dockerd in network namespaces -----------------------
ns_make() { # ns_make <name>
  ip netns list | grep -qw "^$1" && die "network namespace $1 exists (a previous run?); not touching it"
  ip netns add "$1"
  NETNS_OURS+=("$1")
  ip -n "$1" link set lo up
}

docker_cluster() {
  local hub=$NETNS_PREFIX-hub i ns token
  ns_make "$hub"
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  for i in 1 2 3; do
    ns=$NETNS_PREFIX-d$i
    ns_make "$ns"
    ip -n "$hub" link add "v$i" type veth peer name eth0 netns "$ns"
    ip -n "$hub" link set "v$i" master br0 up
    ip -n "$ns" addr add "$SUBNET.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "$DIR/d$i/data" "$DIR/d$i/exec"
    nsenter --net="/run/netns/$ns" dockerd --host "unix://$DIR/d$i.sock" --data-root "$DIR/d$i/data" \
      --exec-root "$DIR/d$i/exec" --pidfile "$DIR/d$i/dockerd.pid" \
      --containerd-namespace "rswbench-d$i" --containerd-plugins-namespace "rswbench-d$i-plugins" \
      --storage-driver vfs --bridge none --iptables=false --ip6tables=false \
      --ip-forward=false --ip-masq=false >"$DIR/d$i.log" 2>&1 &
    PID[d$i]=$!
  done
  for i in 1 2 3; do wait_sock "$DIR/d$i.sock" "dockerd d$i"; done
  dkn() { local n=$1; shift; /usr/bin/docker -H "unix://$DIR/$n.sock" "$@"; }
  dkn d1 swarm init --advertise-addr "$SUBNET.1" >/dev/null
  token=$(dkn d1 swarm join-token -q manager)
  for i in 2 3; do dkn "d$i" swarm join --token "$token" --advertise-addr "$SUBNET.$i" "$SUBNET.1:2377" >/dev/null; done
  for _ in $(seq 1 300); do
    [ "$(dkn d1 node ls 2>/dev/null | grep -c -E 'Leader|Reachable')" -eq 3 ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- measuring ------------------------------------------------------------
declare -A R # R[<system>:<kind>:<clients>:<field>] = list of values
measure() { # measure <system> <sockets> <clients> <writes> <run>
  local out k f
  out=$($CLIENT --sockets "$2" --clients "$3" --writes "$4" --prefix "r$5c$3")
  for k in create update; do
    for f in per_s p50_ms p99_ms errors; do
      R[$1:$k:$3:$f]+=" $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['$k']['$f'])" "$out")"
    done
  done
  log "  $1, $3 client(s), run $5: $out"
}
med() { # med <system> <kind> <clients> <field>
  # shellcheck disable=SC2086
  median ${R[$1:$2:$3:$4]}
}

log "rswarm: 3 managers"
rswarm_cluster
RS_SOCKS="$DIR/m1.sock,$DIR/m2.sock,$DIR/m3.sock"
ping=$($CLIENT --sockets "$RS_SOCKS" --clients 64 --writes 20000 --ping)
PING=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ping']['per_s'])" "$ping")

DOCKER=""
if [ "$SKIP_DOCKER" != 1 ]; then
  log "Docker Swarm: 3 managers (dockerd $(dockerd --version | awk '{print $3}' | tr -d ,) in network namespaces)"
  if docker_cluster; then
    DOCKER="Docker Swarm (3 managers)"
  else
    log "warning: the 3 Docker Swarm managers did not form (logs in $DIR); no Docker numbers"
  fi
fi
DK_SOCKS="$DIR/d1.sock,$DIR/d2.sock,$DIR/d3.sock"

# Runs alternate between the two systems (both clusters stay up, idle when
# not measured), so load from elsewhere on the machine hits both alike.
for r in $(seq 1 "$RUNS"); do
  for c in 1 64; do
    w=$WRITES_1; [ "$c" = 64 ] && w=$WRITES_64
    measure rswarm "$RS_SOCKS" "$c" "$w" "$r"
    [ -z "$DOCKER" ] || measure docker "$DK_SOCKS" "$c" "$w" "$r"
  done
done

printf '\nreplicated writes on 3 managers, medians of %s runs (%s writes at 1 client, %s at 64; client ceiling %s req/s)\n' \
  "$RUNS" "$WRITES_1" "$WRITES_64" "$PING"
printf '%-22s | %-30s | %-30s | %s\n' "" "rswarm (3 managers)" "${DOCKER:-Docker Swarm (not measured)}" "rswarm vs Docker"
for k in create update; do
  for c in 1 64; do
    rs="$(med rswarm $k $c per_s)/s p50 $(med rswarm $k $c p50_ms) p99 $(med rswarm $k $c p99_ms) ms"
    if [ -n "$DOCKER" ]; then
      dk="$(med docker $k $c per_s)/s p50 $(med docker $k $c p50_ms) p99 $(med docker $k $c p99_ms) ms"
      rt="$(ratio "$(med docker $k $c per_s)" "$(med rswarm $k $c per_s)") throughput, p50 $(ratio "$(med rswarm $k $c p50_ms)" "$(med docker $k $c p50_ms)") lower"
    else
      dk="-"; rt="-"
    fi
    printf '%-22s | %-30s | %-30s | %s\n' "$k, $c client(s)" "$rs" "$dk" "$rt"
  done
done
errs=""
for s in rswarm docker; do for k in create update; do for c in 1 64; do
  e=${R[$s:$k:$c:errors]:-}
  for x in $e; do [ "$x" = 0 ] || errs+=" $s:$k:$c=$x"; done
done; done; done
[ -z "$errs" ] || log "warning: failed requests:$errs"
