#!/usr/bin/env bash
# secure_tunnel.sh
#
# Throughput of the encrypted-overlay tunnel (crates/network
# linux::secure: boringtun sessions over a TUN and UDP 4790) against the
# plain veth it runs on, in the same run: two network namespaces joined
# by a veth, one iperf3 TCP stream (STREAMS) per path per round.
# Needs root and iperf3 (scripts/setup.sh). The example removes its
# namespaces at exit, also on failure.
#
# Env: RUNS (3), SECONDS (5), STREAMS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v iperf3 >/dev/null || { echo "secure_tunnel.sh: needs iperf3" >&2; exit 1; }
cargo build --release -q -p rswarm-network --example secure_tunnel_bench
exec target/release/examples/secure_tunnel_bench
