#include "compression/quant_grid.h"

#include <cmath>
#include <random>
#include <vector>

#include "engine/testing/throws.h"
#include "gtest/gtest.h"

namespace psg::compression {
namespace {

std::vector<float> RandomWeights(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  return w;
}

// Tails: sizes that are not multiples of the reduction's 4 x 8 lanes.
TEST(QuantGridTest, RangeReductionsMatchScalarLoop) {
  for (int64_t n : {1, 7, 31, 32, 33, 100, 1025}) {
    const std::vector<float> w = RandomWeights(n, n);
    float max_abs = 0, low = 0, high = 0;
    for (float x : w) {
      max_abs = std::max(max_abs, std::fabs(x));
      low = std::min(low, x);
      high = std::max(high, x);
    }
    EXPECT_EQ(MaxAbs(w), max_abs) << n;
    float got_low, got_high;
    MinMaxWithZero(w, &got_low, &got_high);
    EXPECT_EQ(got_low, low) << n;
    EXPECT_EQ(got_high, high) << n;
  }
}

// The evaluation protocol's error against a brute-force nearest level of
// {k * max|W| / qmax : |k| <= qmax}.
TEST(QuantGridTest, QuantizationMseMatchesBruteForceNearestLevel) {
  const std::vector<float> w = RandomWeights(999, 3);
  const float max_abs = MaxAbs(w);
  for (int bits = 2; bits <= 8; ++bits) {
    const int qmax = (1 << (bits - 1)) - 1;
    const double step = double{max_abs} / qmax;
    double sum = 0;
    for (float x : w) {
      double best = 1e30;
      for (int k = -qmax; k <= qmax; ++k) best = std::min(best, std::fabs(x - k * step));
      sum += best * best;
    }
    EXPECT_NEAR(QuantizationMse(w, bits), sum / w.size(), 1e-6 * sum / w.size()) << bits;
  }
  EXPECT_EQ(QuantizationMse({}, 4), 0.0);
}

TEST(QuantGridTest, RejectsBitWidthsOutsideTwoToEight) {
  const std::vector<float> w = {0.5f};
  EXPECT_THAT([&] { QuantizationMse(w, 1); }, ThrowsInvalidArgument("must be in [2, 8], got 1"));
  EXPECT_THAT([&] { QuantizationMse(w, 9); }, ThrowsInvalidArgument("got 9"));
}

}  // namespace
}  // namespace psg::compression
