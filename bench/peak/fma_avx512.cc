// Built with -mavx512f -mfma (bench:peak_avx512).
#include <immintrin.h>

#include "bench/peak/chains.h"
#include "bench/peak/kernels.h"

namespace psg::bench {

double Fp32FmaFlops(int64_t iterations) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  RunChains(iterations, acc, [&](__m512 x) { return _mm512_fmadd_ps(x, a, b); });
  volatile float sink = SumLanes(acc);
  (void)sink;
  return 2.0 * 16 * kChains * static_cast<double>(iterations);  // 16 lanes x 2 FLOP
}

}  // namespace psg::bench
