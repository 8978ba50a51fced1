#!/usr/bin/env bash
# Runs a test binary on 2 MPI ranks: mpi_test.sh <binary> [args...].
# mpirun by its real path: Open MPI takes its installation prefix from the
# path it is started by (the test PATH's /bin/mpirun would give "/").
set -euo pipefail
mpirun="$(readlink -f "$(command -v mpirun)")" || {
  echo "mpirun not found: run tools/setup.sh (Debian openmpi-bin)" >&2
  exit 1
}
# Under the sanitizers: Open MPI's own leaks are not ours. Keeping its
# components loaded and unwinding without frame pointers (Debian builds it
# without) let LeakSanitizer name their frames.
export OMPI_MCA_mca_base_component_disable_dlclose=1
if [[ -n "${ASAN_OPTIONS:-}" ]]; then export ASAN_OPTIONS="${ASAN_OPTIONS}:fast_unwind_on_malloc=0"; fi
export LSAN_OPTIONS="suppressions=${TEST_SRCDIR:-.}/psg_toolkit/dist/lsan_openmpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# No cross-memory attach (process_vm_readv): containers without
# CAP_SYS_PTRACE refuse it, and Open MPI 4.1 then fails its large messages
# ("Read -1, expected ..., errno = 1").
exec "$mpirun" --allow-run-as-root --oversubscribe --bind-to none \
  --mca btl_vader_single_copy_mechanism none -np 2 "$@"
