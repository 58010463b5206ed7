#!/usr/bin/env bash
# Regenerates vendor/etcd-client/src/rpc/generated/*.rs (committed, so that building stratbench
# needs no protoc) after an etcd-client update: builds the crates.io etcd-client of the same
# version once with its own build script (needs protoc: apt-get install protobuf-compiler) and
# copies the files it generates.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' vendor/etcd-client/Cargo.toml | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo new --quiet --lib "$work/regen"
(cd "$work/regen" && cargo add --quiet "etcd-client@=$version" && CARGO_TARGET_DIR="$work/target" cargo build --quiet)
out=$(dirname "$(ls "$work"/target/debug/build/etcd-client-*/out/etcdserverpb.rs | head -1)")
for f in authpb etcdserverpb mvccpb v3electionpb v3lockpb; do
  cp "$out/$f.rs" vendor/etcd-client/src/rpc/generated/
done
echo "regenerated vendor/etcd-client/src/rpc/generated from etcd-client $version"
