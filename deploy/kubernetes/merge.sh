#!/bin/sh
# The command of the merge Job (merge-job.yaml): once every driver pod has finished, adds up
# their run directories into RESULTS/merged with `stratbench merge`.
#   RESULTS=/results DRIVERS=N merge.sh
# Refuses (exit 1, naming them) when a driver's directory has no summary: a merge of fewer
# drivers than ran would understate the load without saying so.
set -eu
results="${RESULTS:?the shared results directory}"
drivers="${DRIVERS:?how many drivers ran}"
missing=""
dirs=""
i=0
while [ "$i" -lt "$drivers" ]; do
    if [ -f "$results/driver-$i/summary.csv" ]; then
        dirs="$dirs $results/driver-$i"
    else
        missing="$missing driver-$i"
    fi
    i=$((i + 1))
done
if [ -n "$missing" ]; then
    echo "merge.sh: no summary.csv from:$missing (in $results); not merging" >&2
    exit 1
fi
# shellcheck disable=SC2086 # one argument per directory
exec stratbench merge $dirs --out "$results/merged"
