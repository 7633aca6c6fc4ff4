#!/usr/bin/env bash
# Installs what rswarm's tests and benchmarks need on a fresh Debian machine:
# Debian's docker.io (the docker 20.10 CLI and a Docker engine, the reference
# Docker Swarm) and busybox-static; starts dockerd when nothing answers and
# builds a small local image (no registry needed). Idempotent. Needs root.
set -euo pipefail
image=${RSWARM_TEST_IMAGE:-rswarm-test/busybox:latest}
if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /usr/bin/docker ] || [ ! -x /bin/busybox ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io busybox-static >/dev/null
fi
docker=/usr/bin/docker
# A dockerd whose default bridge vanished cannot start swarm tasks: restart it.
if $docker -H unix:///var/run/docker.sock version >/dev/null 2>&1 && ! ip link show docker0 >/dev/null 2>&1; then
  pkill -x dockerd || true
  for _ in $(seq 1 40); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
fi
if ! $docker -H unix:///var/run/docker.sock version >/dev/null 2>&1; then
  nohup dockerd --host unix:///var/run/docker.sock >/var/log/rswarm-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    $docker -H unix:///var/run/docker.sock version >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
$docker -H unix:///var/run/docker.sock version >/dev/null
if ! $docker image inspect "$image" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nCMD ["/bin/sh"]\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 $docker build -q -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
echo "setup: docker clients $(/usr/local/bin/docker --version 2>/dev/null | cut -d, -f1 || true) / $($docker --version | cut -d, -f1); engine ready; image $image"
