#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run): formatting, lints, every test.
# Installs the servers the networked tests start (redis-server, zookeeper, etcd) and protoc
# (needed to build etcd-client) with apt-get when they are missing; the tests start and stop
# every server themselves, on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/system-packages.sh
install_missing_system_packages

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
