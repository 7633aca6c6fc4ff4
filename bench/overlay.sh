#!/usr/bin/env bash
# overlay.sh
#
# The node data plane (crates/network, issue 9) on two namespace "hosts" of
# a netlab underlay, with the real LinuxDataPlane on each, measured in one
# run: throughput of one TCP stream and sequential connection rate over the
# underlay directly (the baseline), over the overlay across hosts (VXLAN),
# on one host, and through a VIP (nftables DNAT, backend on the other host),
# each as a ratio to the baseline; DNS answer latency through 127.0.0.11
# inside a task (swarm name, forwarded name).
#
# Env: RUNS (default 3) rounds, every path once per round; SECONDS (default
#      3) per measurement; DNS_QUERIES (default 2000) per round.
# Needs root, `ip`, `nsenter`, `nft`. Leaves nothing behind (namespaces
# `rsw-bench-*`, mounts under /run/rswarm-test/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "overlay.sh: needs root" >&2; exit 1; }
exec cargo bench -q -p rswarm-network --bench overlay
