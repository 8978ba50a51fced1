// Built with -mavx512f -mfma (bench:peak_avx512).
#include <immintrin.h>

#include "bench/peak/kernels.h"

namespace psg::bench {

double Fp32FmaFlops(int64_t iterations) {
  constexpr int kAccumulators = 24;  // > FMA latency x ports, so the ports stay busy
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  // Keeps the loop alive; the value itself does not matter.
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 16 * kAccumulators * static_cast<double>(iterations);
}

}  // namespace psg::bench
