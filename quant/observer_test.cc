#include "quant/observer.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/quantizer.h"

namespace psg::quant {
namespace {

using compression::GridPoint;
using compression::GridRange;
using ::testing::ElementsAre;
using ::testing::FloatEq;

std::vector<float> RandomValues(int64_t n, unsigned seed, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(mean, 1.0f);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  return w;
}

TEST(MinMaxObserverTest, KeepsTheExtremesOverBatches) {
  const std::vector<int64_t> dims = {2, 2};
  MinMaxObserver asym({.range = GridRange::kAsymmetric, .per_channel = true}, dims);
  asym.Observe(std::vector<float>{0.5f, 1.0f, -2.0f, 0.25f});
  asym.Observe(std::vector<float>{-0.5f, 0.75f, -1.0f, 3.0f});
  EXPECT_THAT(asym.Range().low, ElementsAre(-0.5f, -2.0f));
  EXPECT_THAT(asym.Range().high, ElementsAre(1.0f, 3.0f));
  MinMaxObserver sym({}, dims);
  sym.Observe(std::vector<float>{0.5f, 1.0f, -2.0f, 0.25f});
  EXPECT_THAT(sym.Range().low, ElementsAre(-2.0f));
  EXPECT_THAT(sym.Range().high, ElementsAre(2.0f));
}

TEST(MovingAverageMinMaxObserverTest, FollowsTheAverageSequence) {
  const std::vector<int64_t> dims = {3};
  MovingAverageMinMaxObserver observer({.range = GridRange::kAsymmetric}, dims);
  observer.Observe(std::vector<float>{-1.0f, 0.0f, 1.0f});  // initializes: [-1, 1]
  EXPECT_THAT(observer.Range().low, ElementsAre(-1.0f));
  EXPECT_THAT(observer.Range().high, ElementsAre(1.0f));
  observer.Observe(std::vector<float>{-3.0f, 0.0f, 2.0f});  // [-1.2, 1.1]
  EXPECT_THAT(observer.Range().low, ElementsAre(FloatEq(-1.2f)));
  EXPECT_THAT(observer.Range().high, ElementsAre(FloatEq(1.1f)));
  observer.Observe(std::vector<float>{0.5f, 0.25f, 0.5f});  // [-1.08, 1.04]
  EXPECT_THAT(observer.Range().low, ElementsAre(FloatEq(-1.08f)));
  EXPECT_THAT(observer.Range().high, ElementsAre(FloatEq(1.04f)));

  MovingAverageMinMaxObserver half({.per_channel = true}, {std::vector<int64_t>{2, 1}}, 0.5f);
  half.Observe(std::vector<float>{4.0f, -1.0f});
  half.Observe(std::vector<float>{0.0f, 3.0f});
  EXPECT_THAT(half.Range().high, ElementsAre(2.0f, 2.0f));
  EXPECT_THAT(half.Range().low, ElementsAre(-2.0f, -2.0f));
}

// The reference: sort the row's values, interpolate at p / 100 * (n - 1).
float SortedPercentile(std::vector<float> values, double p) {
  std::sort(values.begin(), values.end());
  const double position = p / 100 * (values.size() - 1);
  const size_t i = static_cast<size_t>(position);
  if (i + 1 == values.size()) return values[i];
  return static_cast<float>(values[i] + (position - i) * (double{values[i + 1]} - values[i]));
}

TEST(PercentileObserverTest, MatchesSortedReference) {
  const std::vector<int64_t> dims = {3, 1001};
  std::vector<std::vector<float>> batches;
  for (unsigned seed = 1; seed <= 3; ++seed) batches.push_back(RandomValues(3003, seed, 0.3f));
  for (double p : {99.99, 99.0, 90.0, 75.3, 50.0, 100.0}) {
    for (PercentileOf of : {PercentileOf::kAbs, PercentileOf::kValue}) {
      PercentileObserver observer({.per_channel = true}, dims, p, of);
      for (const auto& batch : batches) observer.Observe(batch);
      const RowRanges got = observer.Range();
      for (int r = 0; r < 3; ++r) {
        std::vector<float> row;
        for (const auto& batch : batches) {
          row.insert(row.end(), batch.begin() + r * 1001, batch.begin() + (r + 1) * 1001);
        }
        if (of == PercentileOf::kAbs) {
          for (float& x : row) x = std::fabs(x);
          EXPECT_EQ(got.high[r], SortedPercentile(row, p)) << p << " row " << r;
          EXPECT_EQ(got.low[r], -got.high[r]);
        } else {
          EXPECT_EQ(got.high[r], SortedPercentile(row, p)) << p << " row " << r;
          EXPECT_EQ(got.low[r], SortedPercentile(row, 100 - p)) << p << " row " << r;
        }
      }
    }
  }
}

TEST(PercentileObserverTest, HandExample) {
  const std::vector<int64_t> dims = {5};
  PercentileObserver observer({}, dims, 90.0);
  observer.Observe(std::vector<float>{-3.0f, 1.0f, 5.0f, -2.0f, 4.0f});
  // |x| sorted: 1 2 3 4 5; position 0.9 * 4 = 3.6: 4 + 0.6 * (5 - 4).
  EXPECT_THAT(observer.Range().high, ElementsAre(FloatEq(4.6f)));
  PercentileObserver median({}, dims, 50.0, PercentileOf::kValue);
  median.Observe(std::vector<float>{-3.0f, 1.0f, 5.0f, -2.0f, 4.0f});
  EXPECT_THAT(median.Range().high, ElementsAre(1.0f));
  EXPECT_THAT(median.Range().low, ElementsAre(1.0f));
}

// The reference error of the clip [low, high]: each value to its nearest level
// k * step by a search over all levels (ties do not matter for the error).
double BruteForceError(const QuantizerSpec& spec, const std::vector<float>& x, float low,
                       float high) {
  const int64_t dims[] = {static_cast<int64_t>(x.size())};
  const GridPoint g = TensorQuantizer::FromRanges(spec, dims, {low}, {high}).grid(0);
  double sum = 0;
  for (float v : x) {
    double best = 1e300;
    for (float k = g.min_level; k <= g.max_level; ++k) {
      best = std::min(best, std::fabs(double{v} - double{k} * g.step));
    }
    sum += best * best;
  }
  return sum;
}

TEST(MseObserverTest, EqualsBruteForceOverItsCandidates) {
  const std::vector<int64_t> dims = {2, 500};
  std::vector<float> a = RandomValues(1000, 11, 0.2f), b = RandomValues(1000, 12, 0.2f);
  a[3] = 12.0f;  // an outlier: the best clip is well below the max
  for (GridRange range : {GridRange::kRestricted, GridRange::kFull, GridRange::kAsymmetric}) {
    for (int bits : {2, 4, 8}) {
      SCOPED_TRACE(::testing::Message() << "range " << static_cast<int>(range) << " bits " << bits);
      const QuantizerSpec spec{.bits = bits, .range = range, .per_channel = true};
      constexpr int kCandidates = 40;
      MseObserver observer(spec, dims, kCandidates);
      observer.Observe(a);
      observer.Observe(b);
      const RowRanges got = observer.Range();
      MinMaxObserver min_max(spec, dims);
      min_max.Observe(a);
      min_max.Observe(b);
      const RowRanges exact = min_max.Range();
      const QuantizerSpec row_spec{.bits = bits, .range = range};
      for (int r = 0; r < 2; ++r) {
        std::vector<float> row(a.begin() + r * 500, a.begin() + (r + 1) * 500);
        row.insert(row.end(), b.begin() + r * 500, b.begin() + (r + 1) * 500);
        double best = 1e300;
        int best_k = 0;
        for (int k = 1; k <= kCandidates; ++k) {
          const float f = static_cast<float>(k) / kCandidates;
          const double error = BruteForceError(row_spec, row, exact.low[r] * f, exact.high[r] * f);
          if (error < best) best = error, best_k = k;
        }
        const float f = static_cast<float>(best_k) / kCandidates;
        EXPECT_EQ(got.low[r], exact.low[r] * f) << r;
        EXPECT_EQ(got.high[r], exact.high[r] * f) << r;
        const double error = BruteForceError(row_spec, row, got.low[r], got.high[r]);
        EXPECT_NEAR(error, best, 1e-6 * best);
        EXPECT_LE(error, BruteForceError(row_spec, row, exact.low[r], exact.high[r]));
        if (r == 0 && bits == 4 && range != GridRange::kAsymmetric) {
          EXPECT_LT(got.high[r], 0.5f * exact.high[r]);  // clips the outlier
        }
      }
    }
  }
}

TEST(BatchNormRangeTest, SignedGammaIsTheReleasedRule) {
  // quant_utils.py save_bn_param: x_max = max(bias + n * weight), gamma as is.
  const std::vector<float> gamma = {1.0f, 0.5f, -2.0f}, beta = {0.1f, 3.0f, -1.0f};
  RowRanges relu = BatchNormRange(gamma, beta, /*unsigned_activation=*/true, /*n=*/6.0f,
                                  GammaSign::kSigned);
  EXPECT_THAT(relu.low, ElementsAre(0.0f));
  EXPECT_THAT(relu.high, ElementsAre(FloatEq(6.1f)));  // 6.1, 6, -13 (|gamma| would give 11)
}

TEST(BatchNormRangeTest, HandExample) {
  const std::vector<float> gamma = {1.0f, 0.5f, -2.0f}, beta = {0.1f, 3.0f, -1.0f};
  // beta + 6 |gamma| = 6.1, 6, 11; beta - 6 |gamma| = -5.9, 0, -13.
  RowRanges signed_range = BatchNormRange(gamma, beta, /*unsigned_activation=*/false);
  EXPECT_THAT(signed_range.low, ElementsAre(FloatEq(-13.0f)));
  EXPECT_THAT(signed_range.high, ElementsAre(FloatEq(11.0f)));
  RowRanges relu = BatchNormRange(gamma, beta, /*unsigned_activation=*/true, /*n=*/3.0f);
  EXPECT_THAT(relu.low, ElementsAre(0.0f));
  EXPECT_THAT(relu.high, ElementsAre(FloatEq(5.0f)));  // 3.1, 4.5, 5
  // Feeds an unsigned activation grid: levels 0..15 over [0, 5].
  const int64_t dims[] = {8};
  const TensorQuantizer q = TensorQuantizer::FromRanges(
      {.bits = 4, .range = GridRange::kAsymmetric}, dims, relu.low, relu.high);
  EXPECT_EQ(q.grid(0).min_level, 0.0f);
  EXPECT_EQ(q.grid(0).max_level, 15.0f);
  EXPECT_FLOAT_EQ(q.grid(0).step, 5.0f / 15);
}

TEST(ObserverTest, RejectsMalformedRequests) {
  const std::vector<int64_t> dims = {2, 2};
  const std::vector<float> three = {1, 2, 3};
  MinMaxObserver min_max({}, dims);
  EXPECT_THAT([&] { min_max.Range(); },
              ThrowsInvalidArgument("MinMaxObserver: Range() before any Observe()"));
  EXPECT_THAT([&] { min_max.Observe(three); },
              ThrowsInvalidArgument("MinMaxObserver: expected 4 values, got 3"));
  EXPECT_THAT(
      [&] {
        MinMaxObserver({}, {std::vector<int64_t>{3, 0}});
      },
      ThrowsInvalidArgument("MinMaxObserver: empty tensor"));
  EXPECT_THAT([&] { MovingAverageMinMaxObserver({}, dims, 0.0f); },
              ThrowsInvalidArgument("momentum must be in (0, 1], got 0"));
  PercentileObserver percentile({}, dims);
  EXPECT_THAT([&] { percentile.Range(); }, ThrowsInvalidArgument("PercentileObserver: Range()"));
  EXPECT_THAT([&] { percentile.Observe(three); },
              ThrowsInvalidArgument("PercentileObserver: expected 4 values, got 3"));
  for (double p : {0.0, 100.5}) {
    EXPECT_THAT([&] { PercentileObserver({}, dims, p); },
                ThrowsInvalidArgument("percentile must be in (0, 100]"));
  }
  EXPECT_THAT([&] { PercentileObserver({}, dims, 40.0, PercentileOf::kValue); },
              ThrowsInvalidArgument("must be >= 50, got 40"));
  EXPECT_THAT([&] { MseObserver({.bits = 1}, dims); },
              ThrowsInvalidArgument("MseObserver: grid bit-width must be in [2, 8], got 1"));
  EXPECT_THAT([&] { MseObserver({}, dims, 0); },
              ThrowsInvalidArgument("at least one candidate clip, got 0"));
  EXPECT_THAT([&] { BatchNormRange(three, {1.0f}, true); },
              ThrowsInvalidArgument("as many gammas as betas (at least one), got 3 and 1"));
  EXPECT_THAT([&] { BatchNormRange({}, {}, true); }, ThrowsInvalidArgument("got 0 and 0"));
  EXPECT_THAT([&] { BatchNormRange({1.0f}, {1.0f}, true, -1.0f); },
              ThrowsInvalidArgument("n must be > 0, got -1"));
}

}  // namespace
}  // namespace psg::quant
