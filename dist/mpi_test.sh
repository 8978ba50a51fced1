#!/usr/bin/env bash
# Runs a test binary on 2 MPI ranks: mpi_test.sh <binary> [args...].
# mpirun by its real path: Open MPI takes its installation prefix from the
# path it is started by (the test PATH's /bin/mpirun would give "/").
set -euo pipefail
mpirun="$(readlink -f "$(command -v mpirun)")" || {
  echo "mpirun not found: run tools/setup.sh (Debian openmpi-bin)" >&2
  exit 1
}
exec "$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2 "$@"
