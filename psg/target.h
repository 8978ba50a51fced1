// Targets: the point each weight is pulled to by PSG. A target is a small
// class satisfying the `Target` concept below: once per step it observes the
// tensor (the reduction pass: ranges, moving averages), then it hands out one
// plain `Point` functor per row, float -> nearest target point, which the fused
// update loops inline. The concept is checked at compile time, so the hot path
// has no virtual calls and vectorizes; a new target (say a power-of-two grid)
// is one new class with a Point functor.
//
//   GridTarget target({.range = GridRange::kRestricted}, /*bits=*/4, param.value.dims());
//   target.Observe(w);                          // before each step
//   ForEachRow(target, w.size(), [&](int64_t begin, int64_t size, GridPoint nearest) {
//     for (int64_t i = begin; i < begin + size; ++i) Use(w[i] - nearest(w[i]));
//   });
#ifndef PSG_PSG_TARGET_H_
#define PSG_PSG_TARGET_H_

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "compression/quant_grid.h"
#include "compression/released_defaults.h"
#include "flags/enum_flag.h"

namespace psg::psgd {

using compression::CheckGridBits;
using compression::GridPoint;
using compression::GridRange;
using compression::MakeGrid;
using compression::RoundHalfEven;

// A target splits a tensor of n elements into rows() equal contiguous rows
// (output channels, or one row for the whole tensor); PointForRow(r) is valid
// after Observe and maps a weight of row r to its nearest target point.
template <class T>
concept Target = requires(T target, const T& observed, absl::Span<const float> w, int64_t row) {
  typename T::Point;
  target.Observe(w);
  { observed.rows() } -> std::convertible_to<int64_t>;
  { observed.PointForRow(row) } -> std::same_as<typename T::Point>;
  { observed.PointForRow(row)(1.0f) } -> std::same_as<float>;
};

// Calls visit(begin, size, point) for each row of an n-element tensor.
template <Target T, class Visit>
void ForEachRow(const T& target, int64_t n, Visit visit) {
  const int64_t rows = target.rows(), row_size = n / rows;
  for (int64_t r = 0; r < rows; ++r) visit(r * row_size, row_size, target.PointForRow(r));
}

// ---------------------------------------------------------------- pruning

struct ZeroPoint {
  float operator()(float) const { return 0.0f; }
};

// Pruning: every weight is pulled to 0, so the scale is |w| (+ eps).
class ZeroTarget {
 public:
  using Point = ZeroPoint;
  void Observe(absl::Span<const float>) {}
  int64_t rows() const { return 1; }
  ZeroPoint PointForRow(int64_t) const { return {}; }
};

// ---------------------------------------------------------------- b-bit grid

enum class RangeEstimate {
  // Exponential moving average of the observed range, initialised from the
  // first observation: r <- r + momentum * (observed - r) (released code,
  // momentum 0.1).
  kMovingAverage,
  // The range of the current weights (the evaluation protocol).
  kExact,
};
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<RangeEstimate> kRangeEstimateNames[] = {
    {"ema", RangeEstimate::kMovingAverage}, {"exact", RangeEstimate::kExact}};
PSG_ENUM_FLAG(RangeEstimate, kRangeEstimateNames)

struct GridOptions {
  GridRange range = GridRange::kRestricted;
  // One grid per output channel (dims[0]) instead of one per tensor. Vectors
  // (biases) always get one grid: per element, each bias would be its own range
  // end and never move.
  bool per_channel = false;
  RangeEstimate estimate = RangeEstimate::kMovingAverage;
  float ema_momentum = static_cast<float>(compression::kReleasedRangeMomentum);
};

// The b-bit quantizer grid of a tensor, per tensor or per output channel.
class GridTarget {
 public:
  using Point = GridPoint;

  GridTarget(const GridOptions& options, int bits, absl::Span<const int64_t> dims);

  // The reduction pass: the range of each row, folded into the moving average.
  void Observe(absl::Span<const float> w);
  int64_t rows() const { return rows_; }
  GridPoint PointForRow(int64_t row) const { return grids_[row]; }

  // Per row: {max_abs} for symmetric ranges, {min, max} for asymmetric; NaN
  // until the first observation. In moving-average mode this is the state a
  // checkpoint saves; writing it restores the average.
  absl::Span<float> range_state() { return absl::MakeSpan(range_state_); }

 private:
  GridOptions options_;
  int bits_;
  int64_t numel_;
  int64_t rows_;
  std::vector<float> range_state_;
  std::vector<GridPoint> grids_;
};

static_assert(Target<ZeroTarget>);
static_assert(Target<GridTarget>);

}  // namespace psg::psgd

#endif  // PSG_PSG_TARGET_H_
