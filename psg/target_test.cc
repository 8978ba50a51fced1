#include "psg/target.h"

#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/testing/throws.h"

namespace psg::psgd {
namespace {

std::vector<float> RandomWeights(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  return w;
}

// The grid of one row from its definition, in double: all levels and the
// nearest one by exhaustive search.
struct BruteForceGrid {
  std::vector<double> levels;

  BruteForceGrid(GridRange range, int bits, const float* w, int64_t n) {
    double low = 0, high = 0;
    for (int64_t i = 0; i < n; ++i) {
      low = std::min(low, double{w[i]});
      high = std::max(high, double{w[i]});
    }
    const int64_t steps = (int64_t{1} << bits) - 1;
    double step = 0;
    int64_t first = 0, last = 0;
    switch (range) {
      case GridRange::kRestricted:
        last = (steps - 1) / 2;
        first = -last;
        step = std::max(-low, high) / last;
        break;
      case GridRange::kFull:
        first = -(steps + 1) / 2;
        last = (steps - 1) / 2;
        step = std::max(-low, high) / (steps / 2.0);
        break;
      case GridRange::kAsymmetric:
        step = (high - low) / steps;
        first = -static_cast<int64_t>(std::nearbyint(-low / step));
        last = first + steps;
        break;
    }
    for (int64_t k = first; k <= last; ++k) levels.push_back(k * step);
  }

  double Nearest(double w) const {
    double best = levels[0];
    for (double level : levels) {
      if (std::fabs(w - level) < std::fabs(w - best)) best = level;
    }
    return best;
  }
  bool IsLevel(double x, double tolerance) const {
    for (double level : levels) {
      if (std::fabs(x - level) <= tolerance) return true;
    }
    return false;
  }
};

struct GridCase {
  GridRange range;
  bool per_channel;
};

class GridTargetTest : public ::testing::TestWithParam<GridCase> {};

TEST_P(GridTargetTest, EqualsBruteForceNearestLevel) {
  const GridCase c = GetParam();
  const int64_t rows = 5, row_size = 37;
  for (int bits = 2; bits <= 8; ++bits) {
    std::vector<float> w = RandomWeights(rows * row_size, bits);
    w[3] = 0.0f;  // a weight exactly on the level 0
    const int64_t dims[] = {rows, row_size};
    GridTarget target(
        {.range = c.range, .per_channel = c.per_channel, .estimate = RangeEstimate::kExact}, bits,
        dims);
    target.Observe(w);
    ASSERT_EQ(target.rows(), c.per_channel ? rows : 1);
    const int64_t grid_size = w.size() / target.rows();
    for (int64_t r = 0; r < target.rows(); ++r) {
      const BruteForceGrid brute(c.range, bits, w.data() + r * grid_size, grid_size);
      const GridPoint nearest = target.PointForRow(r);
      const double tolerance = 1e-6 * brute.levels.back();
      for (int64_t i = r * grid_size; i < (r + 1) * grid_size; ++i) {
        const double q = nearest(w[i]);
        // At least as close as the best level (either one on a tie), and a level.
        EXPECT_LE(std::fabs(w[i] - q), std::fabs(w[i] - brute.Nearest(w[i])) + tolerance)
            << "bits " << bits << " row " << r << " w " << w[i];
        EXPECT_TRUE(brute.IsLevel(q, tolerance)) << "bits " << bits << " q " << q;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllRanges, GridTargetTest,
                         ::testing::Values(GridCase{GridRange::kRestricted, false},
                                           GridCase{GridRange::kRestricted, true},
                                           GridCase{GridRange::kFull, false},
                                           GridCase{GridRange::kFull, true},
                                           GridCase{GridRange::kAsymmetric, false},
                                           GridCase{GridRange::kAsymmetric, true}));

TEST(GridTargetTest, RestrictedFourBitGridByHand) {
  const std::vector<float> w = {0.7f, -0.35f, 0.26f, -0.04f, 0.05f, 2.0f};
  const int64_t dims[] = {6};
  GridTarget target({.estimate = RangeEstimate::kExact}, 4, dims);
  target.Observe(w);
  const GridPoint q = target.PointForRow(0);
  EXPECT_FLOAT_EQ(q.step, 2.0f / 7);
  EXPECT_EQ(q.min_level, -7.0f);
  EXPECT_EQ(q.max_level, 7.0f);
  EXPECT_FLOAT_EQ(q(0.7f), 2 * 2.0f / 7);     // 2.45 steps
  EXPECT_FLOAT_EQ(q(-0.35f), -1 * 2.0f / 7);  // -1.225 steps
  EXPECT_EQ(q(0.05f), 0.0f);
  EXPECT_FLOAT_EQ(q(2.0f), 2.0f);
  EXPECT_FLOAT_EQ(q(5.0f), 2.0f);  // clipped to the outermost level
}

TEST(GridTargetTest, MovingAverageRangeFollowsHandComputedSequence) {
  // Two rows; each observation sets row 0's max-abs to a and row 1's to b.
  const int64_t dims[] = {2, 3};
  GridTarget per_channel({.per_channel = true}, 4, dims);
  const float a[] = {1.0f, 2.0f, 0.5f}, b[] = {0.2f, 0.2f, 1.2f};
  // r <- r + 0.1 (observed - r), starting from the first observation.
  const float expected_a[] = {1.0f, 1.1f, 1.04f}, expected_b[] = {0.2f, 0.2f, 0.3f};
  for (int t = 0; t < 3; ++t) {
    const std::vector<float> w = {0.1f, -a[t], 0.0f, b[t], 0.0f, -0.1f};
    per_channel.Observe(w);
    EXPECT_NEAR(per_channel.range_state()[0], expected_a[t], 1e-6f) << "step " << t;
    EXPECT_NEAR(per_channel.range_state()[1], expected_b[t], 1e-6f) << "step " << t;
    EXPECT_NEAR(per_channel.PointForRow(0).step, expected_a[t] / 7, 1e-6f);
  }
  // Row 1's averaged range, 0.3, lags its weight 1.2: the weight is pulled to
  // the outermost level.
  EXPECT_NEAR(per_channel.PointForRow(1)(1.2f), 0.3f, 1e-6f);

  const int64_t vector_dims[] = {4};
  GridTarget asymmetric({.range = GridRange::kAsymmetric}, 2, vector_dims);
  asymmetric.Observe(std::vector<float>{-1.0f, 0.5f, 2.0f, 0.0f});
  asymmetric.Observe(std::vector<float>{-3.0f, 0.5f, 0.5f, 0.0f});
  EXPECT_NEAR(asymmetric.range_state()[0], -1.2f, 1e-6f);
  EXPECT_NEAR(asymmetric.range_state()[1], 1.85f, 1e-6f);
}

TEST(GridTargetTest, RestoredRangeStateIsTheMovingAverage) {
  const int64_t dims[] = {2};
  GridTarget target({}, 4, dims);
  target.range_state()[0] = 1.0f;  // as a checkpoint restores it
  target.Observe(std::vector<float>{2.0f, 0.0f});
  EXPECT_NEAR(target.range_state()[0], 1.1f, 1e-6f);
}

TEST(GridTargetTest, PerChannelLeavesVectorsWhole) {
  const int64_t dims[] = {16};
  EXPECT_EQ(GridTarget({.per_channel = true}, 4, dims).rows(), 1);
}

TEST(GridTargetTest, ZeroRangeTargetsZero) {
  const int64_t dims[] = {3};
  for (GridRange range : {GridRange::kRestricted, GridRange::kFull, GridRange::kAsymmetric}) {
    GridTarget target({.range = range}, 4, dims);
    target.Observe(std::vector<float>{0.0f, 0.0f, 0.0f});
    EXPECT_EQ(target.PointForRow(0)(0.0f), 0.0f);
    EXPECT_EQ(target.PointForRow(0)(0.3f), 0.0f);
    EXPECT_EQ(target.PointForRow(0)(-5.0f), 0.0f);
  }
}

TEST(RoundHalfEvenTest, MatchesNearbyint) {
  EXPECT_EQ(RoundHalfEven(0.5f), 0.0f);
  EXPECT_EQ(RoundHalfEven(1.5f), 2.0f);
  EXPECT_EQ(RoundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(RoundHalfEven(-2.5f), -2.0f);
  EXPECT_EQ(RoundHalfEven(-0.7f), -1.0f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-300.0f, 300.0f);
  for (int i = 0; i < 10000; ++i) {
    const float x = i < 2400 ? -300.0f + 0.25f * i : uniform(rng);
    ASSERT_EQ(RoundHalfEven(x), std::nearbyint(x)) << x;
  }
}

TEST(ZeroTargetTest, PullsEveryWeightToZero) {
  ZeroTarget target;
  target.Observe(std::vector<float>{1.0f, -2.0f});
  EXPECT_EQ(target.rows(), 1);
  EXPECT_EQ(target.PointForRow(0)(0.37f), 0.0f);
}

TEST(GridTargetTest, RejectsBadOptions) {
  const int64_t dims[] = {4};
  for (int bits : {0, 1, 9, 16}) {
    EXPECT_THAT([&] { GridTarget({}, bits, dims); },
                ThrowsInvalidArgument("bit-width must be in [2, 8]"))
        << bits;
  }
  EXPECT_THAT([&] { GridTarget({.ema_momentum = 0.0f}, 4, dims); },
              ThrowsInvalidArgument("momentum must be in (0, 1]"));
  EXPECT_THAT(
      [&] {
        GridTarget target({}, 4, dims);
        target.Observe(std::vector<float>(3));
      },
      ThrowsInvalidArgument("expected 4 weights, got 3"));
}

}  // namespace
}  // namespace psg::psgd
