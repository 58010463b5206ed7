#!/usr/bin/env bash
# Builds the release binary (target/release/stratbench). The default in-process suite needs
# nothing beyond a Rust toolchain; the networked balancing rows compare with nginx, installed
# here when missing (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi
if ! command -v cargo >/dev/null; then
  echo "setup.sh: cargo not found; install Rust from https://rustup.rs first" >&2
  exit 2
fi
cargo build --release --locked
echo "built target/release/stratbench; run it with: target/release/stratbench run"
