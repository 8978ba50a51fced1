// The machine's arithmetic peak, measured: fp32 FMA (AVX-512), bf16 dot
// products (AVX512-BF16) and AMX-BF16 tile multiplies, each on --threads
// threads at once, so that a training run's GFLOP/s can be read as a share of
// what its precision's units can do (bench/compare_pytorch.py --peak_bin).
// Units the CPU or OS lacks are reported as absent, not emulated.
//
//   bazel run -c opt //bench:peak_flops -- --threads=2 --output=/tmp/peak.json
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "bench/peak/cpu_features.h"
#include "bench/peak/kernels.h"
#include "bench/throughput_setup.h"
#include "flags/ranges.h"

ABSL_FLAG(int, threads, 0, "threads, one loop each (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(double, seconds, 0.05, "seconds per timed repetition");
PSG_FLAG_RANGE(seconds, psg::flags::GreaterThan(0));
ABSL_FLAG(int, repetitions, 40,
          "timed repetitions per unit; the fastest is reported (the host may take a core away)");
PSG_FLAG_RANGE(repetitions, psg::flags::AtLeast(1));
ABSL_FLAG(std::string, output, "", "JSON result file (optional)");

namespace psg::bench {
namespace {

struct Unit {
  const char* name;   // JSON "unit"
  const char* what;
  bool available;
  double (*flops)(int64_t iterations);
};

// GFLOP/s of `run` on `threads` threads at once, best of `repetitions`.
double Measure(double (*run)(int64_t), int threads, double seconds, int repetitions) {
  // Iterations for about `seconds` on one thread, from a short trial.
  int64_t iterations = 1 << 12;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    run(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > 0.02) {
      iterations = static_cast<int64_t>(iterations * seconds / s) + 1;
      break;
    }
    iterations *= 4;
  }
  double best = 0;
  for (int r = 0; r < repetitions; ++r) {
    double flops = 0;
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += run(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, flops / s / 1e9);
  }
  return best;
}

int Main() {
  const int threads = SetThreads(absl::GetFlag(FLAGS_threads));
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int repetitions = absl::GetFlag(FLAGS_repetitions);
  const bool amx = HasAmxBf16() && RequestAmx();
  const Unit units[] = {
      {"fp32", "AVX-512 FMA (vfmadd231ps)", HasAvx512(), Fp32FmaFlops},
      {"bf16", "AVX512-BF16 dot product (vdpbf16ps)", HasAvx512Bf16(), Bf16DotFlops},
      {"amx_bf16", "AMX-BF16 tile multiply (tdpbf16ps)", amx, AmxBf16Flops},
  };
  io::Json results = io::Json::array();
  std::printf("| unit | instruction | GFLOP/s (%d threads) | per thread |\n|---|---|---|---|\n",
              threads);
  for (const Unit& u : units) {
    if (!u.available) {
      std::printf("| %s | %s | not on this CPU | |\n", u.name, u.what);
      continue;
    }
    const double gflops = Measure(u.flops, threads, seconds, repetitions);
    std::printf("| %s | %s | %.0f | %.0f |\n", u.name, u.what, gflops, gflops / threads);
    results.push_back({{"unit", u.name}, {"gflops", gflops}, {"threads", threads}});
  }
  std::printf("(best of %d repetitions of %.2f s, every thread running the loop)\n", repetitions,
              seconds);
  WriteResultJson(absl::GetFlag(FLAGS_output), "peak_flops", {{"results", results}});
  return 0;
}

}  // namespace
}  // namespace psg::bench

int main(int argc, char** argv) {
  return psg::bench::BenchmarkMain(argc, argv, "Peak GFLOP/s of the cores' fp32 and bf16 units.",
                                   psg::bench::Main);
}
