#!/usr/bin/env bash
# Installs what rswarm's tests and benchmarks need on a fresh Debian machine
# (Debian's docker.io: the docker 20.10 CLI and dockerd, the reference Docker
# Swarm; busybox-static; nftables, iproute2, util-linux for the network
# data plane) and starts a private Docker engine for the tests,
# with a small local image (no registry needed). Idempotent. Needs root.
#
# The private engine never touches the machine's own Docker engine: its own
# socket, data root, exec root, pid file and containerd namespace; no default
# bridge (--bridge none), no iptables rules, no ip_forward change; swarm's
# gateway bridge gets its own interface name. Tests find it at
# $RSWARM_TEST_DOCKER_HOST (default unix:///run/rswarm-test-docker/docker.sock).
# scripts/teardown.sh stops it (by PID) and removes its bridge.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/test-engine.env
. "$here/test-engine.env"
image=${RSWARM_TEST_IMAGE:-rswarm-test/busybox:latest}

# nftables: the network data plane's VIP tables (crates/network and its
# tests); iproute2 and util-linux: ip/bridge/ss, nsenter/unshare for them;
# iperf3: bench/overlay_e2e.sh's throughput measurements.
if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /usr/bin/docker ] || [ ! -x /bin/busybox ] \
  || ! command -v nft >/dev/null 2>&1 || ! command -v bridge >/dev/null 2>&1 || ! command -v nsenter >/dev/null 2>&1 \
  || ! command -v iperf3 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io busybox-static nftables iproute2 util-linux iperf3 >/dev/null
fi
docker=/usr/bin/docker
dk() { "$docker" -H "unix://$RSWARM_ENGINE_SOCK" "$@"; }

engine_pid() {
  local pid
  pid=$(cat "$RSWARM_ENGINE_PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--pidfile $RSWARM_ENGINE_PIDFILE" && echo "$pid"
}

if ! dk version >/dev/null 2>&1; then
  if ! engine_pid >/dev/null; then
    mkdir -p "$RSWARM_ENGINE_EXEC_ROOT" "$RSWARM_ENGINE_DATA_ROOT"
    rm -f "$RSWARM_ENGINE_PIDFILE"
    nohup dockerd \
      --host "unix://$RSWARM_ENGINE_SOCK" \
      --data-root "$RSWARM_ENGINE_DATA_ROOT" \
      --exec-root "$RSWARM_ENGINE_EXEC_ROOT" \
      --pidfile "$RSWARM_ENGINE_PIDFILE" \
      --containerd-namespace rswarm-test \
      --containerd-plugins-namespace rswarm-test-plugins \
      --bridge none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
      >"$RSWARM_ENGINE_LOG" 2>&1 &
  fi
  for _ in $(seq 1 60); do
    dk version >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! dk version >/dev/null 2>&1; then
    echo "setup: the private Docker engine did not start; last lines of $RSWARM_ENGINE_LOG:" >&2
    tail -n 20 "$RSWARM_ENGINE_LOG" >&2 || true
    exit 1
  fi
fi

# Swarm mode attaches tasks to docker_gwbridge; created here first so its
# interface is ours, not the machine engine's "docker_gwbridge".
gw_opt='com.docker.network.bridge.name'
if [ "$(dk network inspect docker_gwbridge --format "{{index .Options \"$gw_opt\"}}" 2>/dev/null)" != "$RSWARM_ENGINE_GW_BRIDGE" ]; then
  dk network rm docker_gwbridge >/dev/null 2>&1 || true
  dk network create --driver bridge --subnet "$RSWARM_ENGINE_GW_SUBNET" \
    --opt "$gw_opt=$RSWARM_ENGINE_GW_BRIDGE" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade=false \
    docker_gwbridge >/dev/null
fi

if ! dk image inspect "$image" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nCMD ["/bin/sh"]\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 dk build -q -t "$image" "$ctx" >/dev/null 2>&1
  rm -rf "$ctx"
fi
echo "setup: docker clients $(/usr/local/bin/docker --version 2>/dev/null | cut -d, -f1 || true) / $($docker --version | cut -d, -f1); private engine (pid $(engine_pid || echo '?')) on unix://$RSWARM_ENGINE_SOCK; image $image"
