#!/usr/bin/env bash
# Self-calibration: stratbench beside the tools people already trust, on the same machine in
# one go, with the ratios printed, so that a reader can see whether the harness itself is the
# bottleneck.
#
# What it covers (and what it cannot yet):
#   1. driver   stratbench's closed loop against the no-op target (1 worker, every operation
#               timed and recorded) against a bare loop that only reads the clock twice per
#               iteration, and against the same closed loop measured by criterion without
#               the rest of the harness (`cargo bench -p stratbench --bench driver`).
#               Always runs: needs only Rust.
#   2. redis    redis-benchmark (SET/GET, 1 and 50 clients) against a redis-server started
#               here on 127.0.0.1; then stratbench's GET/SET over one shard (networked
#               hashing) beside redis-benchmark at the same client counts on another server of
#               its own, with the ratios (scripts/bench-redis-getset.sh, one round each).
#   3. http     the networked balancing family's HTTP worker against `engine:direct` (a
#               `stratbench serve backend` answering at once): its open loop beside oha
#               (`-q RATE --latency-correction`, the same connections) at 1,000 and 10,000
#               req/s, p50 and p99 ratios; its closed loop, and goose's, beside wrk at the
#               same connection count, req/s ratios.
#               The two open loops start the clock at different moments. stratbench's latency
#               runs from the intended start (k6, YCSB, wrk2): late wake-ups and stalls of the
#               driver itself count. oha 1.16 (src/client.rs,
#               work_until_with_qps_latency_correction) sleeps on tokio's 1 ms timer until each
#               request is due, then sends `Instant::now()` to the workers as the start: its
#               correction counts the wait for a free connection, not the lateness of its own
#               timer. So the script prints both ratios: stratbench's latency / oha's (the
#               issue's target, stricter on stratbench), and stratbench's service time
#               (actual start to end) / oha's (the same definition, with 50 connections idle
#               enough that no request waits for one).
# A part whose tools are not installed is skipped with a message (scripts/setup.sh does not
# install them; `apt-get install redis-server redis-tools wrk jq` and `cargo install oha` do).
#
# Usage: scripts/peers.sh [SECONDS] [PARTS]   (length of each measurement, default 5; PARTS a
#        comma-separated subset of driver,redis,http, default all)
#        HTTP_CONNECTIONS (default 50) sets the connections of the http part, HTTP_ROUNDS
#        (default 3) how many times each tool runs there, alternating, medians reported.
# Release builds only; on a shared machine, read the ratios of one run, not absolute figures.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-5}"
PARTS="${2:-driver,redis,http}"
HTTP_CONNECTIONS="${HTTP_CONNECTIONS:-50}"
HTTP_ROUNDS="${HTTP_ROUNDS:-3}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

cargo build --release --locked --quiet --all-features
BIN="${CARGO_TARGET_DIR:-target}/release/stratbench"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
line() { printf '  %-58s %s\n' "$1" "$2"; }

# A port on 127.0.0.1 that nothing listens on (bash's /dev/tcp: a refused connect = free).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "peers.sh: no free port found" >&2
  exit 1
}

# Waits until 127.0.0.1:$1 accepts connections (at most 5 s).
wait_port() {
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "peers.sh: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# The `column` of the only ok row of a summary.csv.
summary_value() {
  awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } { print $c; exit }' "$1"
}

has_net_strategy() { "$BIN" list | grep -Eiq "$1.*\(.*net"; }

part() { [[ ",$PARTS," == *",$1,"* ]]; }

if part driver; then
echo "== driver: stratbench's closed loop against a bare clock loop (${SECONDS_EACH}s each)"
"$BIN" run --family noop --concurrency 1 --duration "${SECONDS_EACH}s" --warmup 1s \
  --out "$WORK/noop" --format csv >/dev/null 2>&1
noop_ops=$(summary_value "$WORK/noop/summary.csv" throughput_ops_s)
cargo bench --quiet -p stratbench --bench driver -- --warm-up-time 1 --measurement-time "$SECONDS_EACH" \
  --noplot >"$WORK/bench.txt" 2>&1
# criterion: "driver/bare_clock_loop   time:   [20.1 ns 20.3 ns 20.5 ns]"; the middle is the estimate.
bench_ns() {
  awk -v name="$1" '$0 ~ name { found = 1 } found && /time:/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^\[/) { v = substr($(i+2), 1); u = $(i+3); break }
      if (u == "ps") v /= 1000; if (u == "µs" || u == "us") v *= 1000; if (u == "ms") v *= 1e6
      print v; exit }' "$WORK/bench.txt"
}
bare_ns=$(bench_ns "driver/bare_clock_loop")
loop_ns=$(bench_ns "driver/closed_loop_noop_per_op")
bare_ops=$(awk -v ns="$bare_ns" 'BEGIN { printf "%.0f", 1e9 / ns }')
loop_ops=$(awk -v ns="$loop_ns" 'BEGIN { printf "%.0f", 1e9 / ns }')
line "bare loop, two clock reads per iteration (criterion)" "$bare_ops iterations/s ($bare_ns ns)"
line "driver closed loop alone, no-op target (criterion)" "$loop_ops ops/s ($loop_ns ns)"
line "stratbench run --family noop, 1 worker" "$noop_ops ops/s"
line "ratio stratbench run / bare loop" "$(ratio "$noop_ops" "$bare_ops")"
line "ratio stratbench run / closed loop alone" "$(ratio "$noop_ops" "$loop_ops")"
fi

if part redis; then
echo "== redis: redis-benchmark against stratbench on the same redis-server"
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
  PIDS+=($!)
  wait_port "$port"
  requests=$((SECONDS_EACH * 20000))
  for clients in 1 50; do
    redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$requests" -t set,get -q 2>/dev/null \
      | tr '\r' '\n' | grep -E '^(SET|GET): [0-9]' | while read -r op rate _; do
        line "redis-benchmark $clients client(s) $op" "$rate requests/s"
      done
  done
  if has_net_strategy jump; then
    echo "  stratbench GET/SET over one shard beside redis-benchmark (same server, same clients):"
    STRATBENCH="$BIN" ROUNDS=1 DURATION="${SECONDS_EACH}s" scripts/bench-redis-getset.sh 1 50 | sed 's/^/  /'
  else
    echo "  stratbench side skipped: this build has no networked hashing"
  fi
else
  echo "  skipped: redis-server or redis-benchmark is not installed"
fi
fi

if part http; then

echo "== http: stratbench's HTTP worker beside oha (open loop) and wrk (closed loop), ${HTTP_CONNECTIONS} connections"
# The target is `stratbench serve backend --latency 0ms` in both cases: the peers load one
# started here, stratbench (`engine:direct`) one it starts itself, with the same arguments.
OHA="${OHA:-$HOME/.cargo/bin/oha}"
if command -v wrk >/dev/null && [ -x "$OHA" ]; then
  port=$(free_port)
  "$BIN" serve backend --listen "127.0.0.1:$port" --latency 0ms >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port"
  url="http://127.0.0.1:$port/k/1"
  # stratbench against engine:direct with ARGS; prints the summary.csv path.
  direct_run() {
    local name="$1"
    shift
    "$BIN" run --family balancing --mode net --strategy engine:direct --nodes 1 --param 'latency="0ms"' \
      --duration "${SECONDS_EACH}s" --warmup 1s --out "$WORK/$name" --format csv "$@" >/dev/null 2>&1
    echo "$WORK/$name/summary.csv"
  }
  us() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1e6 }'; }
  median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  echo "  open loop, latency from the intended start (oha: -q RATE --latency-correction);"
  echo "  $HTTP_ROUNDS rounds, oha and stratbench alternating; medians, and the ratio of the medians:"
  for rate in 1000 10000; do
    oha_p50s="" oha_p99s="" sb_p50s="" sb_p99s="" svc_p50s="" svc_p99s="" lags="" statuses=""
    for round in $(seq 1 "$HTTP_ROUNDS"); do
      "$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$HTTP_CONNECTIONS" -q "$rate" \
        --latency-correction "$url" >"$WORK/oha-$rate.json"
      oha_p50s+=" $(us "$(jq '.latencyPercentiles.p50' "$WORK/oha-$rate.json")")"
      oha_p99s+=" $(us "$(jq '.latencyPercentiles.p99' "$WORK/oha-$rate.json")")"
      csv=$(direct_run "open-$rate-$round" --rate "$rate" --concurrency "$HTTP_CONNECTIONS")
      sb_p50s+=" $(summary_value "$csv" latency_us_p50)"
      sb_p99s+=" $(summary_value "$csv" latency_us_p99)"
      svc_p50s+=" $(summary_value "$csv" service_us_p50)"
      svc_p99s+=" $(summary_value "$csv" service_us_p99)"
      lags+=" $(summary_value "$csv" schedule_lag_us_p99)"
      statuses+=" $(summary_value "$csv" status)"
    done
    oha_p50=$(echo "$oha_p50s" | median) oha_p99=$(echo "$oha_p99s" | median)
    sb_p50=$(echo "$sb_p50s" | median) sb_p99=$(echo "$sb_p99s" | median)
    svc_p50=$(echo "$svc_p50s" | median) svc_p99=$(echo "$svc_p99s" | median)
    line "oha        $rate req/s: p50 / p99 (us), each round" "$oha_p50s /$oha_p99s"
    line "stratbench $rate req/s: p50 / p99 (us), each round" "$sb_p50s /$sb_p99s"
    line "stratbench $rate req/s: schedule lag p99 (us), status" "$lags,$statuses"
    line "median p50 / p99 (us): oha, stratbench" "$oha_p50 / $oha_p99, $sb_p50 / $sb_p99"
    line "ratio stratbench / oha at $rate req/s: p50, p99 (target <= 1.2)" \
      "$(ratio "$sb_p50" "$oha_p50"), $(ratio "$sb_p99" "$oha_p99")"
    line "stratbench service time (oha's start), each round" "$svc_p50s /$svc_p99s"
    line "ratio stratbench service / oha at $rate req/s: p50, p99" \
      "$(ratio "$svc_p50" "$oha_p50"), $(ratio "$svc_p99" "$oha_p99")"
  done
  echo "  closed loop, requests/s ($HTTP_ROUNDS rounds, wrk and stratbench alternating; medians):"
  wrk_all="" sb_all=""
  for round in $(seq 1 "$HTTP_ROUNDS"); do
    wrk_all+=" $(wrk -t2 -c"$HTTP_CONNECTIONS" -d"${SECONDS_EACH}s" "$url" | awk '/Requests\/sec/ { print $2 }')"
    sb_all+=" $(summary_value "$(direct_run "closed-$round" --concurrency "$HTTP_CONNECTIONS")" throughput_ops_s)"
  done
  goose_rps=$(summary_value "$(direct_run goose --concurrency "$HTTP_CONNECTIONS" --param 'load_engine="goose"')" \
    throughput_ops_s)
  wrk_rps=$(echo "$wrk_all" | median) sb_rps=$(echo "$sb_all" | median)
  line "wrk -t2 -c$HTTP_CONNECTIONS, each round" "$wrk_all req/s"
  line "stratbench driver worker, $HTTP_CONNECTIONS workers, each round" "$sb_all req/s"
  line "median: wrk, stratbench driver; goose, $HTTP_CONNECTIONS users (one round)" "$wrk_rps, $sb_rps; $goose_rps req/s"
  line "ratio driver / wrk (target >= 0.8), goose / wrk" "$(ratio "$sb_rps" "$wrk_rps"), $(ratio "$goose_rps" "$wrk_rps")"
else
  echo "  skipped: wrk or oha is not installed (apt-get install wrk; cargo install oha)"
fi
fi
