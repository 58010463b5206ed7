#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run): formatting, import cycles, lints, every test.
# Installs with apt-get, when missing, the servers the networked tests start (redis-server,
# zookeeper, etcd, nginx) and chromium (to
# render the HTML report); the tests start and stop every server themselves, on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/system-packages.sh
install_missing_system_packages

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== import cycles between modules"
python3 scripts/module-cycles.py
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --all-features --locked
