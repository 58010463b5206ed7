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
#   3. http     wrk (1 and 50 connections) against an nginx started here on 127.0.0.1 that
#               answers 200 itself; stratbench's side runs when its build lists a networked
#               balancing strategy (issue 3). Until then the peer's figures are printed alone.
# A part whose tools are not installed is skipped with a message (scripts/setup.sh does not
# install them; `apt-get install redis-server redis-tools nginx wrk` does).
#
# Usage: scripts/peers.sh [SECONDS]   (length of each measurement, default 5)
# Release builds only; on a shared machine, read the ratios of one run, not absolute figures.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-5}"
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

cargo build --release --locked --quiet
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

echo "== http: wrk against stratbench through the same nginx"
if command -v nginx >/dev/null && command -v wrk >/dev/null; then
  port=$(free_port)
  mkdir -p "$WORK/nginx/logs"
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/client;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
EOF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' &
  PIDS+=($!)
  wait_port "$port"
  for connections in 1 50; do
    rate=$(wrk -t1 -c"$connections" -d"${SECONDS_EACH}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ { print $2 }')
    line "wrk $connections connection(s), nginx answering itself" "$rate requests/s"
  done
  if has_net_strategy balancing; then
    echo "  stratbench lists a networked balancing strategy: run it against http://127.0.0.1:$port/" \
      "with the same connection counts and compare with the lines above"
  else
    echo "  stratbench side skipped: this build has no networked HTTP strategy yet (balancing, issue 3)"
  fi
else
  echo "  skipped: nginx or wrk is not installed"
fi
