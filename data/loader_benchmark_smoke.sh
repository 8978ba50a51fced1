#!/usr/bin/env bash
# Runs the loader benchmark once, briefly, so that it cannot silently rot.
# No timing is checked. $1: the benchmark binary.
set -euo pipefail
"$1" --benchmark_min_time=0.01
