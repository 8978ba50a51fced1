#!/usr/bin/env bash
# Runs tools/torch_bridge_test.py with Debian's python3, which has python3-torch
# (tools/setup.sh installs it); the python3 first on PATH may be another one.
set -euo pipefail
exec /usr/bin/python3 "$TEST_SRCDIR/$TEST_WORKSPACE/tools/torch_bridge_test.py" "$@"
