#!/usr/bin/env bash
# GET and SET throughput over one Redis shard: stratbench's networked hashing (one node, no
# pipelining, each operation timed alone) against redis-benchmark with the same number of
# clients, on the same redis-server, in the same run.
#
# Both sides use 100,000 keys drawn uniformly and 100-byte values, and every GET hits:
# stratbench loads its own keys before each run (under a run namespace, removed afterwards);
# redis-benchmark's keys (`key:000000000000` to `key:000000099999`, its `-r 100000`) are loaded
# once here with a mass insertion. Rounds alternate the two tools and the medians are compared.
#
# Usage: scripts/bench-redis-getset.sh [CLIENTS ...]   (default: 1 50)
# Environment: ROUNDS (3), DURATION (5s, each stratbench run), STRATBENCH (binary path).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=("${@:-1 50}")
read -r -a CLIENTS <<< "${CLIENTS[*]}"
KEYS=100000
VALUE_BYTES=100
. scripts/redis-bench-lib.sh
redis_bench_setup
python3 - "$KEYS" "$VALUE_BYTES" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import sys
keys, size = int(sys.argv[1]), int(sys.argv[2])
value = "x" * size
out = sys.stdout
for i in range(keys):
    key = "key:%012d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, size, value))
PY

# Requests per second redis-benchmark reports for one command (get or set).
bench_rps() {
  local clients=$1 command=$2 requests=$(( $1 == 1 ? 100000 : 400000 ))
  redis-benchmark -p "$port" -c "$clients" -n "$requests" -r "$KEYS" -d "$VALUE_BYTES" -t "$command" -q \
    | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1
}

# Operations per second stratbench measures: one shard, reads only (get) or writes only (set).
stratbench_ops() {
  local clients=$1 command=$2 mix out="$work/run-$1-$2-$3"
  mix=$([ "$command" = get ] && echo read=1 || echo update=1)
  "$STRATBENCH" run --family hashing --mode net --strategy jump --nodes 1 --keys "$KEYS" --dist uniform \
    --mix "$mix" --concurrency "$clients" --redis "redis://127.0.0.1:$port/" --duration "$DURATION" \
    --warmup 1s --out "$out" > /dev/null 2>&1
  python3 -c 'import csv,sys; r=next(csv.DictReader(open(sys.argv[1]))); print(r["throughput_ops_s"], r["errors"], r["status"])' "$out/summary.csv"
}

printf '| clients | command | stratbench ops/s (rounds) | redis-benchmark req/s (rounds) | ratio |\n'
printf '|---|---|---|---|---|\n'
for clients in "${CLIENTS[@]}"; do
  for command in get set; do
    ours=() theirs=()
    for round in $(seq 1 "$ROUNDS"); do
      read -r ops errors status < <(stratbench_ops "$clients" "$command" "$round")
      [ "$status" = ok ] && [ "$errors" = 0 ] || { echo "stratbench run failed: $status, $errors errors" >&2; exit 1; }
      ours+=("$ops")
      theirs+=("$(bench_rps "$clients" "$command")")
    done
    m_ours=$(median "${ours[@]}")
    m_theirs=$(median "${theirs[@]}")
    python3 - "$clients" "$command" "$m_ours" "$m_theirs" "${ours[*]}" "${theirs[*]}" <<'PY'
import sys
clients, command, ours, theirs, our_rounds, their_rounds = sys.argv[1:7]
ours, theirs = float(ours), float(theirs)
fmt = lambda rounds: ", ".join(f"{float(r):.0f}" for r in rounds.split())
print(f"| {clients} | {command.upper()} | {ours:.0f} ({fmt(our_rounds)}) | {theirs:.0f} ({fmt(their_rounds)}) | {ours / theirs:.2f} |")
PY
  done
done
