#!/usr/bin/env bash
# docker_run_baseline.sh [N=100]
#
# Context for create_to_running.sh: how long the local Docker engine needs to
# start N plain containers (`docker run -d rswarm-test/busybox:latest sleep
# 1000`, PARALLEL at a time, default 10) without Swarm, and to remove them
# (`docker rm -f`). Docker Swarm's create-to-running time minus this is roughly
# what Swarm's orchestration adds on top of the container runtime.
#
# Env: RUNS (default 3), PARALLEL (default 10).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-100}
RUNS=${RUNS:-3}
PARALLEL=${PARALLEL:-10}
LABEL="rswarm-bench-run=$$"

cleanup() {
  local rc=$?
  set +e
  dk ps -aq --filter "label=$LABEL" | xargs -r "$DOCKER_BIN" -H "$DOCKER_HOST_SOCK" rm -f >/dev/null 2>&1
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dk version >/dev/null 2>&1 || die "no Docker engine at $DOCKER_HOST_SOCK (run: bash scripts/setup.sh)"
dk image inspect "$DOCKER_IMAGE" >/dev/null 2>&1 || die "image $DOCKER_IMAGE missing (run: bash scripts/setup.sh)"
running() { dk ps -q --filter "label=$LABEL" | wc -l; }

echo "# docker_run_baseline.sh N=$N RUNS=$RUNS PARALLEL=$PARALLEL; engine $(dk version --format '{{.Server.Version}}'); $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
up=() down=()
for run in $(seq 1 "$RUNS"); do
  t0=$(now)
  seq 1 "$N" | xargs -P "$PARALLEL" -I{} "$DOCKER_BIN" -H "$DOCKER_HOST_SOCK" run -d --label "$LABEL" "$DOCKER_IMAGE" sleep 1000 >/dev/null
  while [ "$(running)" -lt "$N" ]; do sleep "$POLL"; done
  tu=$(elapsed "$t0" "$(now)")
  t0=$(now)
  dk ps -aq --filter "label=$LABEL" | xargs -r -n 10 -P "$PARALLEL" "$DOCKER_BIN" -H "$DOCKER_HOST_SOCK" rm -f >/dev/null
  while [ "$(dk ps -aq --filter "label=$LABEL" | wc -l)" -gt 0 ]; do sleep "$POLL"; done
  td=$(elapsed "$t0" "$(now)")
  up+=("$tu"); down+=("$td")
  echo "run $run: plain docker run of $N containers: all running ${tu} s; docker rm -f of all ${td} s"
done
echo "plain docker run $N containers (no Swarm): $(stats "${up[@]}"); docker rm -f: $(stats "${down[@]}")"
