#!/usr/bin/env bash
# Shared by the scripts that put stratbench beside redis-benchmark on one redis-server
# (bench-redis-lock.sh, bench-redis-getset.sh); sourced, not run. `redis_bench_setup` checks
# the tools and the release binary, starts a redis-server on 127.0.0.1 at a free port
# (persistence off, data in a temporary directory), sets `port` and `work`, and stops the
# server and removes the directory on every exit path. `median` prints the median of its
# arguments (the upper one of an even count). Environment, with defaults: ROUNDS (3),
# DURATION (5s, each stratbench run), STRATBENCH (the release binary).

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
STRATBENCH=${STRATBENCH:-${CARGO_TARGET_DIR:-target}/release/stratbench}

redis_bench_setup() {
  local program
  for program in redis-server redis-cli redis-benchmark python3; do
    command -v "$program" >/dev/null || { echo "needs $program (apt-get install redis-server redis-tools python3)" >&2; exit 2; }
  done
  [ -x "$STRATBENCH" ] || { echo "build the release binary first (cargo build --release): $STRATBENCH" >&2; exit 2; }
  work=$(mktemp -d)
  server_pid=
  trap redis_bench_cleanup EXIT INT TERM
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
  server_pid=$!
  for _ in $(seq 1 200); do
    redis-cli -p "$port" PING 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "redis-server did not answer on 127.0.0.1:$port (see $work/redis.log)" >&2
  exit 1
}

redis_bench_cleanup() {
  if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "${work:?}"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
