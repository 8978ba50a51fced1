#!/usr/bin/env bash
# Runs a bench binary ($1) with the remaining arguments and checks that its
# output contains $2; the output goes to the test log for inspection. With
# PSG_SMOKE_CPU_FLAG set, a CPU whose /proc/cpuinfo lacks that flag skips.
set -euo pipefail
binary="$1"
expect="$2"
shift 2
flag="${PSG_SMOKE_CPU_FLAG:-}"
if [[ -n "$flag" ]] && ! grep -qw -- "$flag" /proc/cpuinfo; then
  echo "SKIPPED: this CPU has no $flag, which this run needs"
  exit 0
fi
output="$("$binary" "$@" 2>&1)"
echo "$output"
if [[ "$output" != *"$expect"* ]]; then
  echo "FAIL: output does not contain '$expect'" >&2
  exit 1
fi
