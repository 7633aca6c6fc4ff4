#!/usr/bin/env bash
# overlay_e2e.sh
#
# Overlay networks end to end through real daemons (issue 9): three network
# namespace "hosts" on an underlay bridge that lives in a namespace of its
# own (as in crates/rswarm/tests/t71_overlay.rs), each running the release
# `rswarm daemon --runtime process`, joined into one swarm with an overlay
# network `benchnet`. Measured in one run, each as a ratio to a direct path:
#
#   U  host1 -> host2 on the underlay (host namespaces, no rswarm): baseline
#   X  host1 -> host2 through a bare kernel VXLAN device the bench makes in
#      both host namespaces (UDP 4800, MTU 1450, untracked like rswarm's):
#      what any VXLAN overlay can reach here, the ceiling for O
#   O  client task (host1) -> web task (host2) by task address (VXLAN)
#   V  client task (host1) -> `web` VIP (nftables DNAT; its one task on host2)
#
# - TCP throughput, one stream, iperf3 (Debian `iperf3`, scripts/setup.sh);
# - connection rate: sequential short TCP connections (connect, read the
#   server's one-line answer up to EOF, close with a reset: no TIME_WAIT)
#   from a Python client to a
#   Python accept/answer/close server, conns/s;
# - DNS answer latency of the embedded server at 127.0.0.11 inside the
#   client task: raw UDP A queries for `web` and `tasks.web`, one at a time,
#   median and p99;
# - time from `service scale scaled=N+1` (-d) until a connection from the
#   client to the `scaled` VIP is answered by the new task (the client polls
#   the VIP; each task answers with its own address).
#
# And the ingress routing mesh (issue 10), from a client outside the swarm
# (the underlay bridge's namespace, 198.18.0.254):
#
#   D  outside -> host2's address, a server in host2's own namespace (a
#      direct connection to the machine of the task): baseline
#   T  outside -> the `meshweb` task's own ingress address, routed through
#      host2 (a route in the outside namespace; no DNAT): a direct
#      connection to the task, the issue's baseline
#   M2 outside -> host2:7200, published by `meshweb` (its one task on host2)
#   M3 outside -> host3:7200 (host3 runs no task: the mesh sends it over
#      VXLAN to host2 and the reply comes back the same way)
#
# with the same throughput and connection-rate measurements, and the time
# from `service scale meshscaled=N+1` until a connection from outside to
# host1's published port is answered by the new task.
#
# Every path is measured once per round, the paths interleaved; the tables
# give the median over rounds and the ratio of medians, then the median of
# the per-round ratios.
#
# Env: RUNS (default 3) rounds; SECS (default 3) seconds per throughput and
#      connection-rate measurement; DNS_QUERIES (default 2000) per name and
#      round; SCALE_ROUNDS (default 3) scale-ups of `scaled` (1 -> 2 -> ...).
# Needs root, the release binary (cargo build --release -p rswarm), `ip`,
# `nsenter`, `nft`, `iperf3`, /usr/bin/python3. Leaves nothing behind: an
# EXIT trap stops the daemons by PID (after `service rm`), kills any task
# process of theirs by its RSWARM_NODE_ID, stops the baseline servers by
# PID, deletes the namespaces `rswb-<pid>-*` and its temp dir.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "overlay_e2e.sh: needs root"
require_binary
[ -x "${DOCKER28:-/usr/local/bin/docker}" ] || die "the docker 28 CLI is missing at /usr/local/bin/docker (DOCKER28)"
command -v iperf3 >/dev/null || die "iperf3 missing (bash scripts/setup.sh installs it)"
PY=/usr/bin/python3
[ -x "$PY" ] || die "$PY missing"

RUNS=${RUNS:-3}
SECS=${SECS:-3}
DNS_QUERIES=${DNS_QUERIES:-2000}
SCALE_ROUNDS=${SCALE_ROUNDS:-3}
NHOSTS=3
PREFIX=rswb-$$
UL=$PREFIX-ul
WORK=$(mktemp -d /tmp/rswarm-bench-overlay.XXXXXX)
BENCH_TMPDIRS+=("$WORK")
chmod 755 "$WORK"
HOSTS=()
DAEMON_PIDS=()
NODE_IDS=()
BASE_PIDS=()

addr() { echo "198.18.0.$1"; }
# The docker 28 CLI (as the tests use it) against host i's daemon.
DOCKER28=${DOCKER28:-/usr/local/bin/docker}
rsh() { local i=$1; shift; DOCKER_CONFIG=$WORK/docker-config DOCKER_HOST= "$DOCKER28" -H "unix://$WORK/h$i/rswarm.sock" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ "${#DAEMON_PIDS[@]}" -gt 0 ] && kill -0 "${DAEMON_PIDS[0]}" 2>/dev/null; then
    rsh 1 service rm web client scaled meshweb meshscaled >/dev/null 2>&1
    local i
    for i in $(seq 1 100); do
      [ -z "$(node_task_pids)" ] && break
      sleep 0.1
    done
  fi
  local p
  for p in "${DAEMON_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${DAEMON_PIDS[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then log "warning: daemon $p ignored SIGTERM for 30 s; SIGKILL"; kill -KILL "$p"; fi
    wait "$p" 2>/dev/null
  done
  left=$(node_task_pids)
  if [ -n "$left" ]; then
    log "warning: $(echo "$left" | wc -l) task process(es) outlived their daemon; killing them"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
  fi
  for p in "${BASE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  local ns
  for ns in "${HOSTS[@]}" "$UL"; do ip netns del "$ns" 2>/dev/null; done
  for d in "${BENCH_TMPDIRS[@]}"; do rm -rf "$d"; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Task processes of our daemons (by their RSWARM_NODE_ID).
node_task_pids() {
  [ "${#NODE_IDS[@]}" -gt 0 ] || return 0
  local args=() id f
  for id in "${NODE_IDS[@]}"; do args+=(-e "RSWARM_NODE_ID=$id"); done
  for f in $({ grep -lsazxF "${args[@]}" /proc/[0-9]*/environ 2>/dev/null || true; }); do
    f=${f#/proc/}; printf '%s\n' "${f%/environ}"
  done
}

# The benchmark's Python side: server, connection-rate client, DNS prober,
# scale poller.
TOOL=$BENCH_ROOT/bench/net_tool.py


# --- the hosts --------------------------------------------------------------
ip netns add "$UL"
ip -n "$UL" link set lo up
ip -n "$UL" link add ulbr type bridge
ip -n "$UL" addr add 198.18.0.254/24 dev ulbr
ip -n "$UL" link set ulbr up
for i in $(seq 1 $NHOSTS); do
  ns=$PREFIX-h$i
  ip netns add "$ns"; HOSTS+=("$ns")
  ip link add ul0 netns "$ns" type veth peer name "h$i" netns "$UL"
  ip -n "$UL" link set "h$i" master ulbr up
  ip -n "$ns" addr add "$(addr "$i")/24" dev ul0
  ip -n "$ns" link set ul0 up
  ip -n "$ns" link set lo up
done

for i in $(seq 1 $NHOSTS); do
  mkdir -p "$WORK/h$i"
  ip netns exec "$PREFIX-h$i" "$RSWARM_BIN" daemon -H "unix://$WORK/h$i/rswarm.sock" \
    --data-root "$WORK/h$i/data" --hostname "host$i" --runtime process \
    --docker-host "$DOCKER_HOST_SOCK" >/dev/null 2>"$WORK/h$i/daemon.log" &
  DAEMON_PIDS+=($!)
done
for i in $(seq 1 $NHOSTS); do
  for _ in $(seq 1 500); do
    [ "$(curl -s --max-time 1 --unix-socket "$WORK/h$i/rswarm.sock" http://rswarm/_ping 2>/dev/null)" = OK ] && break
    kill -0 "${DAEMON_PIDS[$((i - 1))]}" 2>/dev/null || { cat "$WORK/h$i/daemon.log" >&2; die "daemon host$i exited"; }
    sleep 0.02
  done
done
rsh 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
token=$(rsh 1 swarm join-token -q worker)
for i in $(seq 2 $NHOSTS); do
  rsh "$i" swarm join --token "$token" --advertise-addr "$(addr "$i")" "$(addr 1):2377" >/dev/null
done
for i in $(seq 1 $NHOSTS); do NODE_IDS+=("$(curl -s --unix-socket "$WORK/h$i/rswarm.sock" http://rswarm/info | jq -r .Swarm.NodeID)"); done
t0=$SECONDS
until [ "$(rsh 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = $NHOSTS ]; do
  [ $((SECONDS - t0)) -lt 60 ] || die "nodes not ready: $(rsh 1 node ls)"
  sleep 0.2
done
log "swarm of $NHOSTS hosts ready"

rsh 1 network create -d overlay benchnet >/dev/null
SERVE=("$PY" "$TOOL" serve 7000 5201)
rsh 1 service create -d -q --name web --replicas 1 --network benchnet --constraint node.hostname==host2 busybox "${SERVE[@]}" >/dev/null
rsh 1 service create -d -q --name client --replicas 1 --network benchnet --constraint node.hostname==host1 busybox /bin/busybox sleep 100000 >/dev/null
rsh 1 service create -d -q --name scaled --replicas 1 --network benchnet busybox "${SERVE[@]}" >/dev/null
rsh 1 service create -d -q --name meshweb --replicas 1 -p 7200:7000 -p 5202:5201 --constraint node.hostname==host2 busybox "${SERVE[@]}" >/dev/null
rsh 1 service create -d -q --name meshscaled --replicas 1 -p 7300:7000 busybox "${SERVE[@]}" >/dev/null

# Running tasks of a service: "<pid> <address>" lines.
running() {
  local id
  for id in $(rsh 1 service ps -q --filter desired-state=running "$1"); do
    rsh 1 inspect "$id" | jq -r '.[0] | select(.Status.State == "running")
      | "\(.Status.ContainerStatus.PID) \(.NetworksAttachments[0].Addresses[0] | split("/")[0])"'
  done
}
wait_running() {
  local svc=$1 n=$2 t0=$SECONDS out
  while :; do
    out=$(running "$svc" 2>/dev/null || true)
    [ "$(printf '%s' "$out" | grep -c .)" = "$n" ] && { printf '%s\n' "$out"; return 0; }
    [ $((SECONDS - t0)) -lt 90 ] || die "$svc: want $n running tasks, have: $out"
    sleep 0.2
  done
}
read -r WEB_PID WEB_ADDR < <(wait_running web 1)
read -r CLIENT_PID _ < <(wait_running client 1)
read -r _ SCALED_ADDR < <(wait_running scaled 1)
read -r _ MESH_ADDR < <(wait_running meshweb 1)
wait_running meshscaled 1 >/dev/null
VIP=$(rsh 1 service inspect web | jq -r '.[0].Endpoint.VirtualIPs[0].Addr | split("/")[0]')
SVIP=$(rsh 1 service inspect scaled | jq -r '.[0].Endpoint.VirtualIPs[0].Addr | split("/")[0]')
log "web task $WEB_ADDR (host2), VIP $VIP; client task pid $CLIENT_PID (host1); scaled VIP $SVIP"

# Baseline servers in host2's own namespace, on the underlay (and on X).
ip netns exec "$PREFIX-h2" "$PY" "$TOOL" serve 7000 5201 &
BASE_PIDS+=($!)
# X: a bare VXLAN device between host1 and host2 (gone with the namespaces),
# its packets untracked as rswarm untracks its own (table rswarm_vxlan).
for i in 1 2; do
  bare_vxlan "$PREFIX-h$i" rswbx0 99 4800 "$(addr "$i")" "$(addr $((3 - i)))" "10.251.0.$i/24"
  ip netns exec "$PREFIX-h$i" nft "add table ip bench_x; \
    add chain ip bench_x pre { type filter hook prerouting priority raw; }; \
    add chain ip bench_x out { type filter hook output priority raw; }; \
    add rule ip bench_x pre udp dport 4800 notrack; add rule ip bench_x out udp dport 4800 notrack"
done
X=10.251.0.2

in_client() { nsenter -t "$CLIENT_PID" -n "$@"; }
in_h1() { ip netns exec "$PREFIX-h1" "$@"; }
in_out() { ip netns exec "$UL" "$@"; }
U=$(addr 2)

# Wait until every path answers (a task runs a moment before it listens).
wait_path() {
  local what=$1 host=$2; shift 2
  for _ in $(seq 1 60); do
    "$@" timeout 3 "$PY" "$TOOL" rate "$host" 7000 0.01 >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  die "$what ($host:7000) does not answer"
}
wait_path "host2 on the underlay" "$U" in_h1
wait_path "host2 through the bare VXLAN" "$X" in_h1
wait_path "the web task from the client" "$WEB_ADDR" in_client
wait_path "the web VIP from the client" "$VIP" in_client
wait_path "the scaled VIP from the client" "$SVIP" in_client
wait_path "host2 from outside" "$U" in_out
# T: the meshweb task's ingress address, routed through host2 (its host
# namespace routes the ingress subnet; the task answers through host2).
in_out ip route add "$MESH_ADDR/32" via "$U"
wait_path "the meshweb task from outside" "$MESH_ADDR" in_out
for h in 1 2 3; do
  for _ in $(seq 1 60); do
    in_out timeout 3 "$PY" "$TOOL" rate "$(addr $h)" 7200 0.01 >/dev/null 2>&1 && break
    sleep 0.3
  done
done
for _ in $(seq 1 100); do in_out iperf3 -c "$(addr 3)" -p 5202 -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
for _ in $(seq 1 100); do in_client iperf3 -c "$WEB_ADDR" -p 5201 -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
for _ in $(seq 1 100); do in_h1 iperf3 -c "$U" -p 5201 -t 1 >/dev/null 2>&1 && break; sleep 0.2; done

# Gbit/s of one iperf3 stream (receiver side).
tput() { "$@" -p 5201 -t "$SECS" -J | jq -r '.end.sum_received.bits_per_second / 1e7 | round / 100'; }
# The same through the mesh's published iperf3 port.
tput2() { "$@" -p 5202 -t "$SECS" -J | jq -r '.end.sum_received.bits_per_second / 1e7 | round / 100'; }

declare -a TU TX TO TV RU RX RO RV DW DWP DT DTP BAD TD TT TM2 TM3 RD RT RM2 RM3
for r in $(seq 1 "$RUNS"); do
  TD+=("$(tput in_out iperf3 -c "$U")")
  TT+=("$(tput in_out iperf3 -c "$MESH_ADDR")")
  TM2+=("$(tput2 in_out iperf3 -c "$(addr 2)")")
  TM3+=("$(tput2 in_out iperf3 -c "$(addr 3)")")
  RD+=("$(in_out "$PY" "$TOOL" rate "$U" 7000 "$SECS")")
  RT+=("$(in_out "$PY" "$TOOL" rate "$MESH_ADDR" 7000 "$SECS")")
  RM2+=("$(in_out "$PY" "$TOOL" rate "$(addr 2)" 7200 "$SECS")")
  RM3+=("$(in_out "$PY" "$TOOL" rate "$(addr 3)" 7200 "$SECS")")
  log "round $r: mesh Gbit/s D ${TD[-1]} T ${TT[-1]} M2 ${TM2[-1]} M3 ${TM3[-1]}; conn/s D ${RD[-1]} T ${RT[-1]} M2 ${RM2[-1]} M3 ${RM3[-1]}"
  TU+=("$(tput in_h1 iperf3 -c "$U")")
  TX+=("$(tput in_h1 iperf3 -c "$X")")
  TO+=("$(tput in_client iperf3 -c "$WEB_ADDR")")
  TV+=("$(tput in_client iperf3 -c "$VIP")")
  RU+=("$(in_h1 "$PY" "$TOOL" rate "$U" 7000 "$SECS")")
  RX+=("$(in_h1 "$PY" "$TOOL" rate "$X" 7000 "$SECS")")
  RO+=("$(in_client "$PY" "$TOOL" rate "$WEB_ADDR" 7000 "$SECS")")
  RV+=("$(in_client "$PY" "$TOOL" rate "$VIP" 7000 "$SECS")")
  read -r m p b < <(in_client "$PY" "$TOOL" dns web "$DNS_QUERIES"); DW+=("$m"); DWP+=("$p"); BAD+=("$b")
  read -r m p b < <(in_client "$PY" "$TOOL" dns tasks.web "$DNS_QUERIES"); DT+=("$m"); DTP+=("$p"); BAD+=("$b")
  log "round $r: Gbit/s U ${TU[-1]} X ${TX[-1]} O ${TO[-1]} V ${TV[-1]}; conn/s U ${RU[-1]} X ${RX[-1]} O ${RO[-1]} V ${RV[-1]}; dns web ${DW[-1]} us (p99 ${DWP[-1]}), tasks.web ${DT[-1]} us (p99 ${DTP[-1]})"
done

# Scale-up rounds: service $1 goes N -> N+1 (N = 1, 2, ...) and a poller
# run by $2 (a namespace wrapper) at $3:$4 waits until a task it has not
# seen yet answers; the seconds from `service scale` to that answer go to
# the array named $5; $6 names the tasks already known.
scale_rounds() {
  local svc=$1 runner=$2 host=$3 port=$4 known=$6 r n t0 t1 new
  local -n times=$5
  for r in $(seq 1 "$SCALE_ROUNDS"); do
    n=$((r + 1))
    t0=$EPOCHREALTIME
    rsh 1 service scale -d "$svc=$n" >/dev/null
    read -r t1 new < <("$runner" "$PY" "$TOOL" poll "$host" "$port" "$known" 60)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    known=$known,$new
    log "scale round $r: $svc=$n, new task $new answered on $host:$port after ${times[-1]} s"
    wait_running "$svc" "$n" >/dev/null
  done
}

# `scaled` through its VIP from the client task; `meshscaled` through
# host1's published port from outside the swarm.
declare -a SC MSC
scale_rounds scaled in_client "$SVIP" 7000 SC "$SCALED_ADDR"
scale_rounds meshscaled in_out "$(addr 1)" 7300 MSC "$(in_out "$PY" "$TOOL" seen "$(addr 1)" 7300 10)"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f %%", 100 * b / a }'; }
mTU=$(median "${TU[@]}"); mTX=$(median "${TX[@]}"); mRX=$(median "${RX[@]}"); mTO=$(median "${TO[@]}"); mTV=$(median "${TV[@]}")
mRU=$(median "${RU[@]}"); mRO=$(median "${RO[@]}"); mRV=$(median "${RV[@]}")
bad=0; for b in "${BAD[@]}"; do bad=$((bad + b)); done
cat <<OUT

overlay_e2e: $NHOSTS hosts, RUNS=$RUNS SECS=$SECS DNS_QUERIES=$DNS_QUERIES SCALE_ROUNDS=$SCALE_ROUNDS

| path | TCP throughput, Gbit/s | vs U | vs O | connections/s | vs U | vs O |
|---|---|---|---|---|---|---|
| U underlay host1 -> host2 (baseline) | $mTU (${TU[*]}) | 100 % | | $mRU (${RU[*]}) | 100 % | |
| X bare kernel VXLAN host1 -> host2 (ceiling) | $mTX (${TX[*]}) | $(pct "$mTU" "$mTX") | | $mRX (${RX[*]}) | $(pct "$mRU" "$mRX") | |
| O client task -> web task, across hosts | $mTO (${TO[*]}) | $(pct "$mTU" "$mTO") | 100 % | $mRO (${RO[*]}) | $(pct "$mRU" "$mRO") | 100 % |
| V client task -> web VIP (task on host2) | $mTV (${TV[*]}) | $(pct "$mTU" "$mTV") | $(pct "$mTO" "$mTV") | $mRV (${RV[*]}) | $(pct "$mRU" "$mRV") | $(pct "$mRO" "$mRV") |

| DNS at 127.0.0.11 (client task) | median, us | p99, us |
|---|---|---|
| web (VIP) | $(median "${DW[@]}") (${DW[*]}) | $(median "${DWP[@]}") (${DWP[*]}) |
| tasks.web | $(median "${DT[@]}") (${DT[*]}) | $(median "${DTP[@]}") (${DTP[*]}) |
(bad answers: $bad of $((2 * RUNS * DNS_QUERIES)))

Median of the per-round ratios (the paths of one round share the machine's load):
  throughput   O/U $(round_ratios TO TU)  V/U $(round_ratios TV TU)  V/O $(round_ratios TV TO)  X/U $(round_ratios TX TU)  O/X $(round_ratios TO TX)
  connections  O/U $(round_ratios RO RU)  V/U $(round_ratios RV RU)  V/O $(round_ratios RV RO)  X/U $(round_ratios RX RU)  O/X $(round_ratios RO RX)

service scale -d scaled=N+1 -> new task answers on the VIP: $(stats "${SC[@]}") s (${SC[*]})

Routing mesh, from outside the swarm (198.18.0.254):

| path | TCP throughput, Gbit/s | vs D | vs T | connections/s | vs D | vs T |
|---|---|---|---|---|---|---|
| D outside -> host2's own namespace | $(median "${TD[@]}") (${TD[*]}) | 100 % | | $(median "${RD[@]}") (${RD[*]}) | 100 % | |
| T outside -> the task's address via host2 (baseline) | $(median "${TT[@]}") (${TT[*]}) | $(pct "$(median "${TD[@]}")" "$(median "${TT[@]}")") | 100 % | $(median "${RT[@]}") (${RT[*]}) | $(pct "$(median "${RD[@]}")" "$(median "${RT[@]}")") | 100 % |
| M2 outside -> host2:7200 (task on host2) | $(median "${TM2[@]}") (${TM2[*]}) | $(pct "$(median "${TD[@]}")" "$(median "${TM2[@]}")") | $(pct "$(median "${TT[@]}")" "$(median "${TM2[@]}")") | $(median "${RM2[@]}") (${RM2[*]}) | $(pct "$(median "${RD[@]}")" "$(median "${RM2[@]}")") | $(pct "$(median "${RT[@]}")" "$(median "${RM2[@]}")") |
| M3 outside -> host3:7200 (no task on host3) | $(median "${TM3[@]}") (${TM3[*]}) | $(pct "$(median "${TD[@]}")" "$(median "${TM3[@]}")") | $(pct "$(median "${TT[@]}")" "$(median "${TM3[@]}")") | $(median "${RM3[@]}") (${RM3[*]}) | $(pct "$(median "${RD[@]}")" "$(median "${RM3[@]}")") | $(pct "$(median "${RT[@]}")" "$(median "${RM3[@]}")") |

Median of the per-round ratios:
  throughput   M2/T $(round_ratios TM2 TT)  M3/T $(round_ratios TM3 TT)  M2/D $(round_ratios TM2 TD)  M3/D $(round_ratios TM3 TD)  T/D $(round_ratios TT TD)
  connections  M2/T $(round_ratios RM2 RT)  M3/T $(round_ratios RM3 RT)  M2/D $(round_ratios RM2 RD)  M3/D $(round_ratios RM3 RD)  T/D $(round_ratios RT RD)

service scale -d meshscaled=N+1 -> new task answers on host1's published port: $(stats "${MSC[@]}") s (${MSC[*]})
OUT
