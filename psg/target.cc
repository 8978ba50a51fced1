#include "psg/target.h"

#include <cmath>
#include <limits>

#include "engine/check.h"

namespace psg::psgd {
namespace {

// Folds w[0, n) into one value with acc = fold(acc, x), starting from init.
// A single running extreme is a loop-carried dependence that GCC vectorizes
// only under -ffast-math, and one sequential stream leaves a large tensor's
// read bound by a single hardware prefetch stream. So the row is read as
// kParts contiguous parts at once, each with kLanes independent accumulators:
// the lanes become packed max/min instructions at -O2, and four streams read
// from DRAM about 1.5x faster than one.
template <class Fold>
float Reduce(const float* w, int64_t n, float init, Fold fold) {
  constexpr int kParts = 4, kLanes = 8;
  float acc[kParts][kLanes];
  for (auto& part : acc) std::fill(std::begin(part), std::end(part), init);
  const int64_t part_size = n / (kParts * kLanes) * kLanes;
  for (int64_t i = 0; i < part_size; i += kLanes) {
#pragma GCC unroll 4  // keeps the accumulators in registers
    for (int p = 0; p < kParts; ++p) {
      for (int j = 0; j < kLanes; ++j) acc[p][j] = fold(acc[p][j], w[p * part_size + i + j]);
    }
  }
  float result = init;
  for (int64_t i = kParts * part_size; i < n; ++i) result = fold(result, w[i]);
  for (const auto& part : acc) {
    for (float a : part) result = fold(result, a);
  }
  return result;
}

// The ternaries are the form GCC maps onto maxps/minps.
float MaxAbs(const float* w, int64_t n) {
  return Reduce(w, n, 0.0f, [](float m, float x) {
    const float a = std::fabs(x);
    return m > a ? m : a;
  });
}

// min(W, 0) and max(W, 0), in two reads of the row (the asymmetric range is
// an option, not the released default).
void MinMaxWithZero(const float* w, int64_t n, float* low, float* high) {
  *low = Reduce(w, n, 0.0f, [](float m, float x) { return m < x ? m : x; });
  *high = Reduce(w, n, 0.0f, [](float m, float x) { return m > x ? m : x; });
}

}  // namespace

void CheckGridBits(int bits, const char* context) {
  PSG_CHECK(bits >= 2 && bits <= 8, context, ": grid bit-width must be in [2, 8], got ", bits);
}

GridPoint MakeGrid(GridRange range, int bits, float low, float high) {
  constexpr GridPoint kOnlyZero{1.0f, 0.0f, 0.0f};
  if (high - low == 0.0f) return kOnlyZero;
  const float half = static_cast<float>(1 << (bits - 1));
  const float steps = static_cast<float>((1 << bits) - 1);
  switch (range) {
    case GridRange::kRestricted:
      return {high / (half - 1.0f), -(half - 1.0f), half - 1.0f};
    case GridRange::kFull:
      return {high / (steps / 2.0f), -half, half - 1.0f};
    case GridRange::kAsymmetric: {
      const float step = (high - low) / steps;
      const float zero_point = std::clamp(std::nearbyint(-low / step), 0.0f, steps);
      return {step, -zero_point, steps - zero_point};
    }
  }
  return kOnlyZero;
}

GridTarget::GridTarget(const GridOptions& options, int bits, absl::Span<const int64_t> dims)
    : options_(options), bits_(bits) {
  CheckGridBits(bits, "GridTarget");
  PSG_CHECK(options.ema_momentum > 0.0f && options.ema_momentum <= 1.0f,
            "GridTarget: moving-average momentum must be in (0, 1], got ", options.ema_momentum);
  PSG_CHECK(!dims.empty(), "GridTarget: a tensor needs at least one dimension");
  numel_ = 1;
  for (int64_t d : dims) numel_ *= d;
  PSG_CHECK(numel_ > 0, "GridTarget: empty tensor");
  rows_ = options.per_channel && dims.size() > 1 ? dims[0] : 1;
  const int values_per_row = options.range == GridRange::kAsymmetric ? 2 : 1;
  range_state_.assign(rows_ * values_per_row, std::numeric_limits<float>::quiet_NaN());
  grids_.resize(rows_);
}

void GridTarget::Observe(absl::Span<const float> w) {
  PSG_CHECK(static_cast<int64_t>(w.size()) == numel_, "GridTarget: expected ", numel_,
            " weights, got ", w.size());
  const int64_t row_size = w.size() / rows_;
  const bool exact = options_.estimate == RangeEstimate::kExact;
  const float m = options_.ema_momentum;
  auto fold = [&](float observed, float& state) {
    // r + m (observed - r) rather than (1 - m) r + m observed: a constant
    // range then stays exactly constant, and so do weights on its grid.
    state = exact || std::isnan(state) ? observed : state + m * (observed - state);
  };
  for (int64_t r = 0; r < rows_; ++r) {
    const float* row = w.data() + r * row_size;
    if (options_.range == GridRange::kAsymmetric) {
      float low, high;
      MinMaxWithZero(row, row_size, &low, &high);
      fold(low, range_state_[2 * r]);
      fold(high, range_state_[2 * r + 1]);
      grids_[r] = MakeGrid(options_.range, bits_, range_state_[2 * r], range_state_[2 * r + 1]);
    } else {
      fold(MaxAbs(row, row_size), range_state_[r]);
      grids_[r] = MakeGrid(options_.range, bits_, -range_state_[r], range_state_[r]);
    }
  }
}

}  // namespace psg::psgd
