// The loop of the vector peak kernels: kChains independent accumulators, each
// advanced by `step` once per round, enough of them to cover the unit's
// latency times its ports so that the pipelines never wait. Included by each
// ISA's target, so it compiles with that target's flags.
//
//   __m512 acc[kChains] = ...;
//   RunChains(iterations, acc, [&](__m512 a) { return _mm512_fmadd_ps(a, x, y); });
//   volatile float sink = SumLanes(acc);
#ifndef PSG_BENCH_PEAK_CHAINS_H_
#define PSG_BENCH_PEAK_CHAINS_H_

#include <cstdint>

namespace psg::bench {

constexpr int kChains = 24;

template <typename Vector, typename Step>
void RunChains(int64_t iterations, Vector (&acc)[kChains], Step step) {
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kChains; ++i) acc[i] = step(acc[i]);
  }
}

// Every accumulator's lanes summed: a result that depends on all chains, which
// keeps the compiler from dropping any (the value itself does not matter).
template <typename Vector>
float SumLanes(const Vector (&acc)[kChains]) {
  float sum = 0;
  for (int i = 0; i < kChains; ++i) {
    for (int lane = 0; lane < static_cast<int>(sizeof(Vector) / sizeof(float)); ++lane) {
      sum += acc[i][lane];
    }
  }
  return sum;
}

}  // namespace psg::bench

#endif  // PSG_BENCH_PEAK_CHAINS_H_
