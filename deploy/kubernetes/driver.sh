#!/bin/sh
# The command of every driver pod of the Indexed Job (driver-job.yaml), and of the test that
# runs N drivers locally the same way (harness/tests/kubernetes.rs).
#   RESULTS=/results START_AT=EPOCH JOB_COMPLETION_INDEX=i driver.sh RUN_ARGS...
# runs `stratbench run RUN_ARGS` as driver `driver-i`, starting its first run at START_AT
# (seconds since the UNIX epoch, the same for every pod), into RESULTS/driver-i.
set -eu
index="${JOB_COMPLETION_INDEX:?set by an Indexed Job: this pod's index}"
start_at="${START_AT:?the common start time, seconds since the UNIX epoch}"
results="${RESULTS:?the shared results directory}"
exec stratbench run "$@" --driver-id "driver-$index" --start-at "$start_at" --out "$results/driver-$index"
