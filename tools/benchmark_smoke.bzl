"""benchmark_smoke_test: runs a Google Benchmark binary once per case."""

def benchmark_smoke_test(name, benchmark, size = "medium"):
    """Runs `benchmark` with a tiny --benchmark_min_time so it cannot rot.

    Benchmark 1.7.1 takes a plain number of seconds; 0 runs one iteration of
    every registered case. The test fails if the binary fails.
    """
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tools:run_benchmark_smoke.sh"],
        args = ["$(location %s)" % benchmark],
        data = [benchmark],
        tags = ["benchmark_smoke"],
    )
