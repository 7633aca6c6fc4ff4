#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every unit, component and
# end-to-end test (real daemons, real processes, both docker CLIs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --no-fail-fast 2>&1 | tee /tmp/rswarm-test.log
