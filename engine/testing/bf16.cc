#include "engine/testing/bf16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "gtest/gtest.h"

namespace psg::engine::testing {

float RoundToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  if (std::isnan(x)) return x;
  // Add half an ulp of bf16 (minus one when the kept part is even): ties to even.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

std::vector<float> RoundToBf16(std::vector<float> values) {
  for (float& v : values) v = RoundToBf16(v);
  return values;
}

Tensor DistinctBf16Plain(const Dims& dims, uint32_t seed) {
  // +-(1 + m / 128) 2^e: 2 x 128 x 64 = 16384 distinct bf16 numbers.
  std::vector<float> pool;
  for (int e = -32; e < 32; ++e) {
    for (int m = 0; m < 128; ++m) {
      const float v = std::ldexp(1.0f + m / 128.0f, e);
      pool.push_back(v);
      pool.push_back(-v);
    }
  }
  std::shuffle(pool.begin(), pool.end(), std::mt19937(seed));
  const int64_t n = Product(dims);
  if (n > static_cast<int64_t>(pool.size())) {
    ADD_FAILURE() << "DistinctBf16Plain: at most " << pool.size() << " values, asked for " << n;
    return Tensor();
  }
  pool.resize(n);
  Tensor t = Tensor::Plain(dims);
  t.CopyFromPlain(pool);
  return t;
}

Tensor Abs(const Tensor& t) {
  std::vector<float> v = t.ToPlain();
  for (float& e : v) e = std::abs(e);
  Tensor out = Tensor::Plain(t.dims());
  out.CopyFromPlain(v);
  return out;
}

double Bf16SumBound(double fp32_value, double abs_sum, int64_t terms, Bf16Output output) {
  const double u = kBf16UnitRoundoff;
  const double k_eps = static_cast<double>(terms) * std::ldexp(1.0, -24);
  const double gamma = k_eps / (1.0 - k_eps);
  const double bound = (2 * u + u * u + 2 * gamma) * (1 + u) * abs_sum;
  // Denormals flushed to zero by the bf16 dot-product instructions: 1e-30.
  return bound + (output == Bf16Output::kYes ? u * std::abs(fp32_value) : 0.0) + 1e-30;
}

void ExpectWithinBf16Bound(const std::vector<float>& got, const std::vector<float>& fp32,
                           const std::vector<float>& abs_sums, int64_t terms, Bf16Output output,
                           const std::string& what) {
  ASSERT_EQ(got.size(), fp32.size()) << what;
  ASSERT_EQ(abs_sums.size(), fp32.size()) << what;
  size_t worst = 0;
  double worst_ratio = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double bound = Bf16SumBound(fp32[i], abs_sums[i], terms, output);
    double ratio = std::abs(double(got[i]) - fp32[i]) / bound;
    if (std::isnan(ratio)) ratio = INFINITY;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  EXPECT_LE(worst_ratio, 1.0) << what << ": element " << worst << " bf16 " << got[worst]
                              << " fp32 " << fp32[worst] << " bound "
                              << Bf16SumBound(fp32[worst], abs_sums[worst], terms, output);
}

}  // namespace psg::engine::testing
