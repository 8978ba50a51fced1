// Built with -mavx512f -mavx512bf16 (bench:peak_avx512_bf16).
#include <immintrin.h>

#include "bench/peak/kernels.h"

namespace psg::bench {

double Bf16DotFlops(int64_t iterations) {
  constexpr int kAccumulators = 24;
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_setzero_ps();
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  // 16 lanes x 2 products x 2 FLOP.
  return 2.0 * 32 * kAccumulators * static_cast<double>(iterations);
}

}  // namespace psg::bench
