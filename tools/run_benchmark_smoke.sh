#!/usr/bin/env bash
# Runs a benchmark binary with one short repetition of every case; its exit
# status is the test's. Output goes to the test log for inspection.
set -euo pipefail
"$1" --benchmark_min_time=0 --benchmark_repetitions=1 "${@:2}"
