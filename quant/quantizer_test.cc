#include "quant/quantizer.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::quant {
namespace {

using compression::GridPoint;
using compression::GridRange;

constexpr GridRange kRanges[] = {GridRange::kRestricted, GridRange::kFull, GridRange::kAsymmetric};
constexpr Rounding kRoundings[] = {Rounding::kHalfEven, Rounding::kHalfAway};

// Weight-like values, shifted so that asymmetric ranges are asymmetric.
std::vector<float> RandomValues(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.01f, 0.05f);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  return w;
}

int64_t SizeOf(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// The grid of [low, high] (low <= 0 <= high) from the definitions, written
// independently of compression::MakeGrid.
GridPoint ExpectedGrid(GridRange range, int bits, float low, float high) {
  const int half = 1 << (bits - 1), levels = 1 << bits;
  const float max_abs = std::max(-low, high);
  switch (range) {
    case GridRange::kRestricted:
      return {max_abs / (half - 1), -(half - 1.0f), half - 1.0f};
    case GridRange::kFull:
      return {max_abs / ((levels - 1) / 2.0f), -static_cast<float>(half), half - 1.0f};
    case GridRange::kAsymmetric: {
      const float step = (high - low) / (levels - 1);
      const float z = std::nearbyint(-low / step);
      return {step, -z, levels - 1 - z};
    }
  }
  return {};
}

// The reference quantizer: the level nearest to t = x / step, found by
// searching every level of the grid (so clipping is implied); an exact tie
// goes to the even level or to the one farther from zero.
float BruteForceLevel(const GridPoint& g, float x, Rounding rounding) {
  const double t = x / g.step;
  double best = g.min_level;
  for (double k = g.min_level; k <= g.max_level; ++k) {
    const double d = std::fabs(t - k), best_d = std::fabs(t - best);
    const bool tie_wins = rounding == Rounding::kHalfEven ? std::fmod(std::fabs(k), 2.0) == 0.0
                                                          : std::fabs(k) > std::fabs(best);
    if (d < best_d || (d == best_d && tie_wins)) best = k;
  }
  return static_cast<float>(best);
}

struct Shape {
  std::vector<int64_t> dims;
  bool per_channel;
};

// Tails: row sizes that are not multiples of any vector width.
const Shape kShapes[] = {
    {{1}, false},    {{7}, false},          {{17}, false},      {{33}, false},
    {{1003}, false}, {{5}, true},           {{4, 7}, true},     {{3, 17}, true},
    {{2, 33}, true}, {{3, 1, 3, 37}, true}, {{1000 + 3}, true},
};

// Checks one quantizer against the brute force on `w`, plus the properties
// every quantizer has.
void CheckAgainstBruteForce(const TensorQuantizer& q, const std::vector<float>& w,
                            const std::vector<float>& low, const std::vector<float>& high) {
  const QuantizerSpec& spec = q.spec();
  const int64_t n = w.size(), row_size = n / q.rows();
  std::vector<float> out(n), twice(n);
  q.FakeQuantize(w, absl::MakeSpan(out));
  q.FakeQuantize(out, absl::MakeSpan(twice));
  std::vector<uint8_t> unsigned_codes(n);
  q.ToUnsignedCodes(w, absl::MakeSpan(unsigned_codes));
  std::vector<int8_t> codes(n);
  const bool fits_int8 = spec.range != GridRange::kAsymmetric || spec.bits < 8;
  if (fits_int8) q.ToCodes(w, absl::MakeSpan(codes));
  for (int64_t r = 0; r < q.rows(); ++r) {
    const GridPoint& g = q.grid(r);
    const GridPoint want =
        ExpectedGrid(spec.range, spec.bits, std::min(low[r], 0.0f), std::max(high[r], 0.0f));
    ASSERT_FLOAT_EQ(g.step, want.step) << r;
    ASSERT_EQ(g.min_level, want.min_level) << r;
    ASSERT_EQ(g.max_level, want.max_level) << r;
    for (int64_t i = r * row_size; i < (r + 1) * row_size; ++i) {
      const float level = BruteForceLevel(g, w[i], spec.rounding);
      ASSERT_EQ(out[i], g.step * level) << "row " << r << " x " << w[i];
      ASSERT_EQ(twice[i], out[i]) << "idempotent, x " << w[i];
      if (spec.rounding == Rounding::kHalfEven) {
        ASSERT_EQ(out[i], g(w[i]));
      }
      if (w[i] >= g.min_level * g.step && w[i] <= g.max_level * g.step) {
        // Half a step, up to the rounding of w / step (a few ulp of w).
        ASSERT_LE(std::fabs(w[i] - out[i]), g.step / 2 + 1e-6f * std::fabs(w[i])) << w[i];
      }
      ASSERT_EQ(unsigned_codes[i], level - g.min_level) << w[i];
      if (fits_int8) {
        ASSERT_EQ(codes[i] * g.step, out[i]) << w[i];
      }
    }
  }
}

TEST(TensorQuantizerTest, MatchesBruteForceNearestLevel) {
  unsigned seed = 0;
  for (const Shape& shape : kShapes) {
    const std::vector<float> w = RandomValues(SizeOf(shape.dims), ++seed);
    for (int bits = 2; bits <= 8; ++bits) {
      for (GridRange range : kRanges) {
        for (Rounding rounding : kRoundings) {
          SCOPED_TRACE(::testing::Message()
                       << "dims[0] " << shape.dims[0] << " n " << w.size() << " per_channel "
                       << shape.per_channel << " bits " << bits << " range "
                       << static_cast<int>(range) << " rounding " << static_cast<int>(rounding));
          const QuantizerSpec spec{bits, range, shape.per_channel, rounding};
          // The exact range of each row, and 0.6 of it: the latter clips.
          const RowRanges exact = ExactRanges(spec, shape.dims, w);
          CheckAgainstBruteForce(TensorQuantizer::FromExactRange(spec, shape.dims, w), w, exact.low,
                                 exact.high);
          RowRanges narrow = exact;
          for (float& x : narrow.low) x *= 0.6f;
          for (float& x : narrow.high) x *= 0.6f;
          CheckAgainstBruteForce(
              TensorQuantizer::FromRanges(spec, shape.dims, narrow.low, narrow.high), w, narrow.low,
              narrow.high);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(TensorQuantizerTest, ExactRangeIsPerRow) {
  const std::vector<int64_t> dims = {2, 3};
  const std::vector<float> w = {-0.5f, 0.25f, 0.125f, 2.0f, -1.0f, 3.0f};
  const RowRanges sym = ExactRanges({.per_channel = true}, dims, w);
  EXPECT_THAT(sym.low, ::testing::ElementsAre(-0.5f, -3.0f));
  EXPECT_THAT(sym.high, ::testing::ElementsAre(0.5f, 3.0f));
  const RowRanges asym =
      ExactRanges({.range = GridRange::kAsymmetric, .per_channel = true}, dims, w);
  EXPECT_THAT(asym.low, ::testing::ElementsAre(-0.5f, -1.0f));
  EXPECT_THAT(asym.high, ::testing::ElementsAre(0.25f, 3.0f));
  const RowRanges tensor = ExactRanges({}, dims, w);
  EXPECT_THAT(tensor.high, ::testing::ElementsAre(3.0f));
}

// Step 1/16 exactly (4 bits, restricted, max 7/16): (k + 1/2) / 16 are exact
// ties between levels k and k + 1.
TEST(TensorQuantizerTest, TiesGoToEvenOrAwayFromZero) {
  const std::vector<int64_t> dims = {14};
  std::vector<float> ties;
  for (int k = -7; k < 7; ++k) ties.push_back((k + 0.5f) / 16);
  for (Rounding rounding : kRoundings) {
    const TensorQuantizer q =
        TensorQuantizer::FromRanges({.bits = 4, .rounding = rounding}, dims, {-0.4375f}, {0.4375f});
    ASSERT_EQ(q.grid(0).step, 0.0625f);
    std::vector<int8_t> codes(ties.size());
    q.ToCodes(ties, absl::MakeSpan(codes));
    for (size_t i = 0; i < ties.size(); ++i) {
      const float t = ties[i] * 16;
      const float want = rounding == Rounding::kHalfEven ? std::nearbyint(t) : std::round(t);
      EXPECT_EQ(codes[i], want) << ties[i];
    }
  }
}

TEST(TensorQuantizerTest, RoundHalfAwayMatchesStdRound) {
  std::vector<float> x = {0.0f,        -0.0f,        0.5f,   -0.5f,   1.5f,   -1.5f, 2.5f,  -2.5f,
                          0.49999997f, -0.49999997f, 127.5f, -128.5f, 254.5f, 3.25f, -7.75f};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-300.0f, 300.0f);
  for (int i = 0; i < 10000; ++i) x.push_back(uniform(rng));
  for (float v : x) EXPECT_EQ(RoundHalfAway(v), std::round(v)) << v;
}

TEST(TensorQuantizerTest, ClipsToTheEndLevels) {
  const std::vector<int64_t> dims = {4};
  const std::vector<float> w = {-100.0f, -1.01f, 1.01f, 1e30f};
  const TensorQuantizer q = TensorQuantizer::FromRanges({.bits = 3}, dims, {-1.0f}, {1.0f});
  std::vector<float> out(4);
  q.FakeQuantize(w, absl::MakeSpan(out));
  EXPECT_THAT(out, ::testing::ElementsAre(-1.0f, -1.0f, 1.0f, 1.0f));
  const TensorQuantizer asym = TensorQuantizer::FromRanges(
      {.bits = 2, .range = GridRange::kAsymmetric}, dims, {-1.0f}, {2.0f});
  std::vector<uint8_t> codes(4);
  asym.ToUnsignedCodes(w, absl::MakeSpan(codes));
  EXPECT_THAT(codes, ::testing::ElementsAre(0, 0, 2, 3));  // step 1, zero point 1
}

TEST(TensorQuantizerTest, InPlaceEqualsOutOfPlace) {
  const std::vector<int64_t> dims = {3, 333};
  std::vector<float> w = RandomValues(999, 7);
  for (Rounding rounding : kRoundings) {
    const QuantizerSpec spec{.bits = 5, .per_channel = true, .rounding = rounding};
    const TensorQuantizer q = TensorQuantizer::FromExactRange(spec, dims, w);
    std::vector<float> out(w.size()), in_place = w;
    q.FakeQuantize(w, absl::MakeSpan(out));
    q.FakeQuantize(in_place, absl::MakeSpan(in_place));
    EXPECT_EQ(in_place, out);
  }
}

TEST(TensorQuantizerTest, LayoutOfRows) {
  EXPECT_EQ(TensorQuantizer::FromExactRange({.per_channel = true}, {std::vector<int64_t>{6}},
                                            std::vector<float>(6, 1.0f))
                .rows(),
            1);  // a 1-D tensor has one grid
  const TensorQuantizer q = TensorQuantizer::FromExactRange(
      {.per_channel = true}, {std::vector<int64_t>{4, 3, 2}}, std::vector<float>(24, 1.0f));
  EXPECT_EQ(q.rows(), 4);
  EXPECT_EQ(q.size(), 24);
}

TEST(TensorQuantizerTest, ZeroRangeGivesTheZeroGrid) {
  const std::vector<int64_t> dims = {3};
  for (GridRange range : kRanges) {
    for (float tiny : {0.0f, std::numeric_limits<float>::denorm_min()}) {
      const TensorQuantizer q = TensorQuantizer::FromRanges({.range = range}, dims, {0.0f}, {tiny});
      std::vector<float> out(3);
      q.FakeQuantize(std::vector<float>{0.0f, 1.0f, -1.0f}, absl::MakeSpan(out));
      EXPECT_THAT(out, ::testing::ElementsAre(0.0f, 0.0f, 0.0f)) << tiny;
    }
  }
}

TEST(TensorQuantizerTest, RejectsMalformedRequests) {
  const std::vector<int64_t> dims = {2, 2};
  const std::vector<float> w = {1, 2, 3, 4}, one = {1.0f}, minus_one = {-1.0f};
  for (int bits : {0, 1, 9}) {
    EXPECT_THAT([&] { TensorQuantizer::FromExactRange({.bits = bits}, dims, w); },
                ThrowsInvalidArgument("bit-width must be in [2, 8], got " + std::to_string(bits)));
  }
  EXPECT_THAT(
      [&] {
        TensorQuantizer::FromExactRange({}, {std::vector<int64_t>{2, 0}}, {});
      },
      ThrowsInvalidArgument("empty tensor"));
  EXPECT_THAT([&] { TensorQuantizer::FromExactRange({}, {}, {}); },
              ThrowsInvalidArgument("at least one dimension"));
  EXPECT_THAT([&] { TensorQuantizer::FromExactRange({}, dims, one); },
              ThrowsInvalidArgument("expected 4 values, got 1"));
  EXPECT_THAT([&] { TensorQuantizer::FromRanges({}, dims, one, minus_one); },
              ThrowsInvalidArgument("row 0 has low > high: [1, -1]"));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT([&] { TensorQuantizer::FromRanges({}, dims, minus_one, {nan}); },
              ThrowsInvalidArgument("range of row 0 is not finite"));
  EXPECT_THAT([&] { TensorQuantizer::FromRanges({.per_channel = true}, dims, minus_one, one); },
              ThrowsInvalidArgument("expected 2 ranges (rows), got 1 lows and 1 highs"));
  const TensorQuantizer q = TensorQuantizer::FromExactRange({}, dims, w);
  std::vector<float> out(3);
  EXPECT_THAT([&] { q.FakeQuantize(w, absl::MakeSpan(out)); },
              ThrowsInvalidArgument("expected 4 values in and out, got 4 and 3"));
  std::vector<int8_t> codes(4);
  EXPECT_THAT([&] { q.ToCodes(one, absl::MakeSpan(codes)); },
              ThrowsInvalidArgument("ToCodes: expected 4 values and codes, got 1 and 4"));
  EXPECT_THAT([&] { q.grid(1); }, ThrowsInvalidArgument("row 1 out of [0, 1)"));
  const TensorQuantizer asym8 =
      TensorQuantizer::FromExactRange({.bits = 8, .range = GridRange::kAsymmetric}, dims, w);
  EXPECT_THAT([&] { asym8.ToCodes(w, absl::MakeSpan(codes)); },
              ThrowsInvalidArgument("span [0, 255], beyond int8; use ToUnsignedCodes"));
}

}  // namespace
}  // namespace psg::quant
