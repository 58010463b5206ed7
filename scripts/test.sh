#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run): formatting, lints, every test.
# Needs a Rust toolchain; installs, when missing, the system packages that tests use
# (Chromium, to render the HTML report). Tests start the servers they need themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  echo "== installing chromium (the report test renders report.html in it)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
