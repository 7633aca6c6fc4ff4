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
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local p n
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in ul h1 h2; do ip netns del "$P-$n" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/rate.py" <<'PYEOF'
import socket, struct, sys, time
if sys.argv[1] == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 7000)); s.listen(1024)
    while True:
        c, _ = s.accept(); c.sendall(b"x\n"); c.close()
host, secs = sys.argv[2], float(sys.argv[3]); n = 0; t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    c = socket.create_connection((host, 7000), timeout=2)
    while c.recv(64):
        pass
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close(); n += 1
print("%.0f" % (n / (time.monotonic() - t0)))
PYEOF

for n in ul h1 h2; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
ip -n "$P-ul" link add ulbr type bridge
ip -n "$P-ul" link set ulbr up
for i in 1 2; do
  ip link add ul0 netns "$P-h$i" type veth peer name "h$i" netns "$P-ul"
  ip -n "$P-ul" link set "h$i" master ulbr up
  ip -n "$P-h$i" addr add "198.19.0.$i/24" dev ul0
  ip -n "$P-h$i" link set ul0 up
  ip -n "$P-h$i" link add vx0 type vxlan id 4096 dstport 4789 \
    local "198.19.0.$i" remote "198.19.0.$((3 - i))"
  ip -n "$P-h$i" link set vx0 mtu 1450 up
  ip -n "$P-h$i" addr add "10.99.0.$i/24" dev vx0
done
ip netns exec "$P-h2" iperf3 -s -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$P-h2" "$PY" "$WORK/rate.py" serve &
PIDS+=($!)
in_h1() { ip netns exec "$P-h1" "$@"; }
for _ in $(seq 1 50); do in_h1 "$PY" "$WORK/rate.py" c 10.99.0.2 0.01 >/dev/null 2>&1 && break; sleep 0.1; done

tput() { in_h1 iperf3 -c "$1" -p 5201 -t "$SECS" -J | jq -r '.end.sum_received.bits_per_second / 1e7 | round / 100'; }
declare -a TU TX RU RX
for r in $(seq 1 "$RUNS"); do
  TU+=("$(tput 198.19.0.2)")
  TX+=("$(tput 10.99.0.2)")
  RU+=("$(in_h1 "$PY" "$WORK/rate.py" c 198.19.0.2 "$SECS")")
  RX+=("$(in_h1 "$PY" "$WORK/rate.py" c 10.99.0.2 "$SECS")")
  log "round $r: Gbit/s U ${TU[-1]} X ${TX[-1]}; conn/s U ${RU[-1]} X ${RX[-1]}"
done
ratios() {
  local -n a=$1 b=$2
  local i out=()
  for i in "${!a[@]}"; do out+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.1f", 100 * x / y }')"); done
  printf '%.0f %%' "$(median "${out[@]}")"
}
cat <<OUT

vxlan_ceiling: RUNS=$RUNS SECS=$SECS

| path | TCP Gbit/s | connections/s |
|---|---|---|
| U underlay host1 -> host2 (baseline) | $(median "${TU[@]}") (${TU[*]}) | $(median "${RU[@]}") (${RU[*]}) |
| X bare kernel VXLAN host1 -> host2 | $(median "${TX[@]}") (${TX[*]}) | $(median "${RX[@]}") (${RX[*]}) |

Median of the per-round ratios X/U: throughput $(ratios TX TU), connections $(ratios RX RU)
OUT
