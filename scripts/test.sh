#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run): formatting, lints, every test.
# Needs only a Rust toolchain; later families add the servers their tests start here.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
