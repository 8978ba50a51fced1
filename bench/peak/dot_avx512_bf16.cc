// Built with -mavx512f -mavx512bf16 (bench:peak_avx512_bf16).
#include <immintrin.h>

#include "bench/peak/chains.h"
#include "bench/peak/kernels.h"

namespace psg::bench {

double Bf16DotFlops(int64_t iterations) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_setzero_ps();
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  RunChains(iterations, acc, [&](__m512 x) { return _mm512_dpbf16_ps(x, a, b); });
  volatile float sink = SumLanes(acc);
  (void)sink;
  return 2.0 * 32 * kChains * static_cast<double>(iterations);  // 16 lanes x 2 products x 2 FLOP
}

}  // namespace psg::bench
