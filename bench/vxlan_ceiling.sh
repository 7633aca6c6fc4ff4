#!/usr/bin/env bash
# vxlan_ceiling.sh
#
# What the kernel's VXLAN itself costs on this machine, without rswarm:
# two namespace "hosts" on an underlay bridge (in a namespace of its own,
# as in bench/overlay_e2e.sh), and between them a bare VXLAN device (VNI
# 4096, UDP 4789, MTU 1450) with an address on each side: no overlay
# bridge, no task veth, no nftables. Measured in one run, interleaved:
#
#   U  host1 -> host2 on the underlay: baseline
#   X  host1 -> host2 through the bare VXLAN device
#
# TCP throughput of one iperf3 stream and sequential short connections per
# second (connect, read the answer to EOF, close with a reset). X/U is the
# ceiling any VXLAN overlay can reach here, against which bench/overlay_e2e.sh's
# O/U (rswarm's overlay, task to task) reads.
#
# Env: RUNS (default 5) rounds; SECS (default 3) seconds per measurement.
# Needs root, `ip`, `iperf3`, `jq`, /usr/bin/python3. Leaves nothing behind:
# an EXIT trap stops its servers by PID and deletes the namespaces
# `rswx-<pid>-*`.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "vxlan_ceiling.sh: needs root"
command -v iperf3 >/dev/null || die "iperf3 missing (bash scripts/setup.sh installs it)"
PY=/usr/bin/python3
RUNS=${RUNS:-5}
SECS=${SECS:-3}
P=rswx-$$
PIDS=()
cleanup() {
  local p n
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in ul h1 h2; do ip netns del "$P-$n" 2>/dev/null || true; done
}
trap cleanup EXIT

TOOL=$BENCH_ROOT/bench/net_tool.py

for n in ul h1 h2; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
ip -n "$P-ul" link add ulbr type bridge
ip -n "$P-ul" link set ulbr up
for i in 1 2; do
  ip link add ul0 netns "$P-h$i" type veth peer name "h$i" netns "$P-ul"
  ip -n "$P-ul" link set "h$i" master ulbr up
  ip -n "$P-h$i" addr add "198.19.0.$i/24" dev ul0
  ip -n "$P-h$i" link set ul0 up
  bare_vxlan "$P-h$i" vx0 4096 4789 "198.19.0.$i" "198.19.0.$((3 - i))" "10.99.0.$i/24"
done
ip netns exec "$P-h2" "$PY" "$TOOL" serve 7000 5201 &
PIDS+=($!)
in_h1() { ip netns exec "$P-h1" "$@"; }
for _ in $(seq 1 50); do in_h1 "$PY" "$TOOL" rate 10.99.0.2 7000 0.01 >/dev/null 2>&1 && break; sleep 0.1; done

tput() { in_h1 iperf3 -c "$1" -p 5201 -t "$SECS" -J | jq -r '.end.sum_received.bits_per_second / 1e7 | round / 100'; }
declare -a TU TX RU RX
for r in $(seq 1 "$RUNS"); do
  TU+=("$(tput 198.19.0.2)")
  TX+=("$(tput 10.99.0.2)")
  RU+=("$(in_h1 "$PY" "$TOOL" rate 198.19.0.2 7000 "$SECS")")
  RX+=("$(in_h1 "$PY" "$TOOL" rate 10.99.0.2 7000 "$SECS")")
  log "round $r: Gbit/s U ${TU[-1]} X ${TX[-1]}; conn/s U ${RU[-1]} X ${RX[-1]}"
done
cat <<OUT

vxlan_ceiling: RUNS=$RUNS SECS=$SECS

| path | TCP Gbit/s | connections/s |
|---|---|---|
| U underlay host1 -> host2 (baseline) | $(median "${TU[@]}") (${TU[*]}) | $(median "${RU[@]}") (${RU[*]}) |
| X bare kernel VXLAN host1 -> host2 | $(median "${TX[@]}") (${TX[*]}) | $(median "${RX[@]}") (${RX[*]}) |

Median of the per-round ratios X/U: throughput $(round_ratios TX TU), connections $(round_ratios RX RU)
OUT
