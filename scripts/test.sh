#!/usr/bin/env bash
# The whole test suite: formatting, lints, every unit, component and
# end-to-end test (real daemons, real processes, both docker CLIs), then the
# Python Docker SDK suite (tests/sdk) against the binary cargo just built.
# Both suites run; the script fails if either fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the tests' private Docker engine (started by setup.sh) is stopped by PID
trap 'bash scripts/teardown.sh' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee /tmp/rswarm-test.log || status=1
# the SDK suite drives target/debug/rswarm (built by cargo test above)
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/sdk/requirements.txt
python3 -m pytest -q tests/sdk || status=1
exit "$status"
