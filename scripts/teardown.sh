#!/usr/bin/env bash
# Stops the tests' private Docker engine started by scripts/setup.sh (by
# the PID in its own pid file, after checking the process is that engine)
# and removes its gateway bridge. Its data root (with the test image) stays
# for the next run. The machine's own Docker engine is never touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/test-engine.env
. "$here/test-engine.env"
pid=$(cat "$RSWARM_ENGINE_PIDFILE" 2>/dev/null || true)
if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--pidfile $RSWARM_ENGINE_PIDFILE"; then
  /usr/bin/docker -H "unix://$RSWARM_ENGINE_SOCK" swarm leave --force >/dev/null 2>&1 || true
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "teardown: private engine $pid ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid"
  fi
  echo "teardown: private engine (pid $pid) stopped"
fi
rm -f "$RSWARM_ENGINE_PIDFILE"
if ip link show "$RSWARM_ENGINE_GW_BRIDGE" >/dev/null 2>&1; then
  ip link delete "$RSWARM_ENGINE_GW_BRIDGE"
fi
