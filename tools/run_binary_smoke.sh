#!/usr/bin/env bash
# Runs a bench binary ($1) with the remaining arguments and checks that its
# output contains $2; the output goes to the test log for inspection.
set -euo pipefail
binary="$1"
expect="$2"
shift 2
output="$("$binary" "$@" 2>&1)"
echo "$output"
if [[ "$output" != *"$expect"* ]]; then
  echo "FAIL: output does not contain '$expect'" >&2
  exit 1
fi
