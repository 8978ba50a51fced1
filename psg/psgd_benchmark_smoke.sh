#!/bin/bash
# Runs psgd_benchmark ($1) once with a tiny time budget so it cannot rot.
set -euo pipefail
"$1" --benchmark_min_time=0.01
