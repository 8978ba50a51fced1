// The fused PSG update against the plain SGD update it extends and against a
// memcpy, over tensors of 1K..16M elements. Bytes are memory traffic, read plus
// written: SGD reads w, g, buf and writes w, buf (20 B per element); PSG also
// reads w once more in its range reduction (24 B); memcpy copies w, g and buf
// (24 B). At sizes beyond the caches all three should run at the machine's
// streaming bandwidth.
//
//   bazel run //psg:psgd_benchmark -- --benchmark_min_time=0.2
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/testing/weight_like.h"
#include "engine/sgd_kernel.h"
#include "psg/scaled_update.h"
#include "psg/target.h"

namespace psg::psgd {
namespace {

struct Buffers {
  explicit Buffers(int64_t n) : w(WeightLike(n, 1)), g(WeightLike(n, 2)), buf(WeightLike(n, 3)) {}
  std::vector<float> w, g, buf;
};

// Momentum 0.9, weight decay: the steady-state (not first) step.
constexpr engine::SgdHyper kHyper{1e-6f, 0.9f, 0.0f, 1e-4f, false};

void Report(benchmark::State& state, int64_t bytes_per_element) {
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * bytes_per_element);
}

void BM_PsgUpdate(benchmark::State& state) {
  const int64_t n = state.range(0);
  Buffers b(n);
  const int64_t dims[] = {n};
  GridTarget target({}, 4, dims);  // released: 4-bit restricted, per tensor, moving average
  for (auto _ : state) {
    ScaledUpdate(target, {.lambda = 150.0f}, b.w, [&](int64_t begin, int64_t size, auto scale) {
      engine::SgdUpdate(kHyper, false, b.w.data() + begin, b.g.data() + begin, b.buf.data() + begin,
                        size, scale);
    });
    benchmark::ClobberMemory();
  }
  Report(state, 24);
}

void BM_SgdUpdate(benchmark::State& state) {
  const int64_t n = state.range(0);
  Buffers b(n);
  for (auto _ : state) {
    engine::SgdUpdate(kHyper, false, b.w.data(), b.g.data(), b.buf.data(), n, engine::UnitScale());
    benchmark::ClobberMemory();
  }
  Report(state, 20);
}

void BM_Memcpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> from(3 * n, 1.0f), to(3 * n);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), to.size() * sizeof(float));
    benchmark::ClobberMemory();
  }
  Report(state, 24);
}

BENCHMARK(BM_PsgUpdate)->RangeMultiplier(4)->Range(1 << 10, 1 << 24)->UseRealTime();
BENCHMARK(BM_SgdUpdate)->RangeMultiplier(4)->Range(1 << 10, 1 << 24)->UseRealTime();
BENCHMARK(BM_Memcpy)->RangeMultiplier(4)->Range(1 << 10, 1 << 24)->UseRealTime();

}  // namespace
}  // namespace psg::psgd
