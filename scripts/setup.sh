#!/usr/bin/env bash
# Builds the release binary (target/release/stratbench). The default in-process suite needs
# nothing beyond a Rust toolchain; the networked strategies need redis-server, zookeeper,
# etcd and nginx (the balancing family's comparison rows): they are
# installed with apt-get when missing (pass --no-packages to skip that).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
  echo "setup.sh: cargo not found; install Rust from https://rustup.rs first" >&2
  exit 2
fi
if [ "${1:-}" != "--no-packages" ]; then
  . scripts/system-packages.sh
  install_missing_system_packages
fi
# Every strategy, etcd included, is in the default build: nothing beyond Rust is needed.
cargo build --release --locked
echo "built target/release/stratbench; run it with: target/release/stratbench run"
