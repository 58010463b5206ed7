#!/usr/bin/env bash
# Checks the CI gate itself: N fresh `run ci` of this commit compared with the committed
# baseline under the CI thresholds must all pass (exit 0), and the last of them with one
# strategy's lookup made 1.3x slower (ring's op_cost_ns_* columns scaled, as a slower lookup
# would move them) must fail (exit 1). Release build; about a minute per run.
#   scripts/gate-check.sh [N=10] [BIN=target/release/stratbench]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
bin=${2:-target/release/stratbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
baseline=results/baselines/ci
thresholds=results/baselines/ci-thresholds.toml
passed=0
for i in $(seq 1 "$runs"); do
  "$bin" run ci --out "$work/run-$i" >/dev/null 2>&1 || { echo "run $i failed"; continue; }
  if "$bin" compare "$baseline" "$work/run-$i" --thresholds "$thresholds" >"$work/compare-$i.txt" 2>&1; then
    passed=$((passed + 1)); echo "run $i: exit 0"
  else
    echo "run $i: exit $? —"; grep -iE "regress" "$work/compare-$i.txt" | head -8
  fi
done
echo "unchanged code: $passed of $runs comparisons passed"
python3 - "$work/run-$runs/summary.csv" "$work/slower.csv" <<'PY'
import csv, sys
with open(sys.argv[1]) as f:
    rows = list(csv.DictReader(f))
for row in rows:
    if row["strategy"] == "ring":
        for column in ("op_cost_ns_mean", "op_cost_ns_p50", "op_cost_ns_p99", "op_cost_ns_max"):
            if row[column]:
                row[column] = f"{float(row[column]) * 1.3:.3f}"
with open(sys.argv[2], "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=rows[0].keys())
    writer.writeheader()
    writer.writerows(rows)
PY
set +e
"$bin" compare "$baseline" "$work/slower.csv" --thresholds "$thresholds" >"$work/slower.txt" 2>&1
code=$?
set -e
echo "ring 1.3x slower: exit $code"; grep -E "regressed" "$work/slower.txt" | head -5
[ "$passed" = "$runs" ] && [ "$code" = 1 ]
