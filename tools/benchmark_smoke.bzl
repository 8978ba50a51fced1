"""benchmark_smoke_test: runs a Google Benchmark binary once per case."""

def benchmark_smoke_test(name, benchmark, size = "medium", data = []):
    """Runs `benchmark` with a tiny --benchmark_min_time so it cannot rot.

    Benchmark 1.7.1 takes a plain number of seconds; 0 runs one iteration of
    every registered case. The test fails if the binary fails. `data`: extra
    runfiles the benchmark reads.
    """
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tools:run_benchmark_smoke.sh"],
        args = ["$(location %s)" % benchmark],
        data = [benchmark] + data,
        tags = ["benchmark_smoke"],
    )

def binary_smoke_test(name, binary, args, expect, size = "medium", cpu_flag = ""):
    """Runs a bench binary once with small `args`; passes if it exits 0 and
    its output contains `expect` (a line only a complete run prints). With
    `cpu_flag` (a /proc/cpuinfo flag, e.g. avx512_bf16) a CPU without it
    skips the run, saying so in the log."""
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tools:run_binary_smoke.sh"],
        args = ["$(location %s)" % binary, "'%s'" % expect] + args,
        data = [binary],
        env = {"PSG_SMOKE_CPU_FLAG": cpu_flag} if cpu_flag else {},
        tags = ["benchmark_smoke"],
    )
