#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run): formatting, lints, every test.
# Needs a Rust toolchain; installs the servers the tests start (only when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

# The balancing family's networked tests run nginx beside our proxy.
if ! command -v nginx >/dev/null; then
  echo "== installing nginx"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
