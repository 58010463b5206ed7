#!/usr/bin/env bash
# Uncontended Redis lock cycles/s: stratbench's `redis` strategy against redis-benchmark sending
# the same two commands (EVALSHA of the acquire script, EVALSHA of the release script, from
# targets/src/locks/*.lua) at the same concurrency, on the same redis-server, in the same run.
#
# redis-benchmark times each command alone; a lock cycle is one of each, so its reference rate
# is 1 / (1/acquire_rps + 1/release_rps). stratbench spreads its clients over 1,000,000 lock
# names (uniform) so that they almost never meet; redis-benchmark uses random keys
# (__rand_int__ over 10^8). Rounds alternate the two and the medians are compared.
#
# Usage: scripts/bench-redis-lock.sh [CONCURRENCY ...]   (default: 1 16 64)
# Environment: ROUNDS (3), DURATION (5s, each stratbench run), STRATBENCH (binary path).
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENCY=("${@:-1 16 64}")
read -r -a CONCURRENCY <<< "${CONCURRENCY[*]}"
. scripts/redis-bench-lib.sh
redis_bench_setup
acquire_sha=$(redis-cli -p "$port" SCRIPT LOAD "$(cat targets/src/locks/acquire.lua)")
release_sha=$(redis-cli -p "$port" SCRIPT LOAD "$(cat targets/src/locks/release.lua)")

# Requests per second reported by redis-benchmark -q for one command.
bench_rps() {
  local clients=$1 requests=$2
  shift 2
  redis-benchmark -p "$port" -c "$clients" -n "$requests" -r 100000000 -q "$@" \
    | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1
}

# Cycles per second measured by stratbench.
stratbench_cycles() {
  local clients=$1 out="$work/run-$1-$2"
  "$STRATBENCH" run --family locks --mode net --strategy redis --redis "redis://127.0.0.1:$port/" \
    --concurrency "$clients" --keys 1000000 --dist uniform --duration "$DURATION" --warmup 1s \
    --out "$out" > /dev/null 2>&1
  python3 -c 'import csv,sys; r=next(csv.DictReader(open(sys.argv[1]))); print(r["throughput_ops_s"], r["acquire_latency_us_p50"], r["latency_us_p50"], r["status"])' "$out/summary.csv"
}

printf '| clients | stratbench cycles/s | redis-benchmark acquire req/s | release req/s | reference cycles/s | ratio |\n'
printf '|---|---|---|---|---|---|\n'
for clients in "${CONCURRENCY[@]}"; do
  requests=$(( clients == 1 ? 60000 : 200000 ))
  ours=() acquire=() release=()
  for _ in $(seq 1 "$ROUNDS"); do
    read -r cycles _ _ status < <(stratbench_cycles "$clients" "${#ours[@]}")
    [ "$status" = ok ] || { echo "stratbench run failed: $status" >&2; exit 1; }
    ours+=("$cycles")
    acquire+=("$(bench_rps "$clients" "$requests" EVALSHA "$acquire_sha" 2 'lock:__rand_int__' 'fence:__rand_int__' owner 5000)")
    release+=("$(bench_rps "$clients" "$requests" EVALSHA "$release_sha" 1 'lock:__rand_int__' owner)")
  done
  m_ours=$(median "${ours[@]}")
  m_acquire=$(median "${acquire[@]}")
  m_release=$(median "${release[@]}")
  python3 - "$clients" "$m_ours" "$m_acquire" "$m_release" "${ours[*]}" <<'PY'
import sys
clients, ours, acquire, release, rounds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
reference = 1 / (1 / acquire + 1 / release)
print(f"| {clients} | {ours:.0f} (rounds: {rounds}) | {acquire:.0f} | {release:.0f} | {reference:.0f} | {ours / reference:.2f} |")
PY
done
