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

namespace psg::psgd {

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

// Round to nearest, ties to even: torch.round, and std::nearbyint in the
// default rounding mode. Written so that it vectorizes without SSE4.1's
// roundps: adding 1.5 * 2^23 moves |x| < 2^22 into (2^23, 2^24), where floats
// are exactly the integers, so the addition itself rounds x (ties to even:
// 1.5 * 2^23 is even); subtracting gives that integer back exactly. Valid for
// |x| < 2^22 (grid levels are at most 255) and without -ffast-math, which would
// fold the pair away.
inline float RoundHalfEven(float x) {
  constexpr float kShift = 0x1.8p23f;
  return (x + kShift) - kShift;
}

// The grid {step * k : k integer, min_level <= k <= max_level}; 0 is always a
// level. operator() is the quantizer Q(w) = step * round(clip(w / step, min, max)):
// clipping to integer bounds first and rounding after equals rounding first.
struct GridPoint {
  float step;
  float min_level;
  float max_level;

  float operator()(float w) const {
    return step * RoundHalfEven(std::min(std::max(w / step, min_level), max_level));
  }
};

enum class GridRange {
  // Levels -qmax..qmax with qmax = 2^(b-1) - 1 and step = max|W| / qmax
  // (released code).
  kRestricted,
  // Levels -2^(b-1)..2^(b-1) - 1 with step = max|W| / ((2^b - 1) / 2), as
  // torch's symmetric MinMaxObserver: the range spans the 2^b - 1 steps.
  kFull,
  // Levels 0..2^b - 1 shifted by an integer zero point z = round(-min / step),
  // step = (max - min) / (2^b - 1), with min <= 0 <= max (torch's affine
  // observer): here min_level = -z and max_level = 2^b - 1 - z.
  kAsymmetric,
};

enum class RangeEstimate {
  // Exponential moving average of the observed range, initialised from the
  // first observation: r <- r + momentum * (observed - r) (released code,
  // momentum 0.1).
  kMovingAverage,
  // The range of the current weights (the evaluation protocol).
  kExact,
};

struct GridOptions {
  GridRange range = GridRange::kRestricted;
  // One grid per output channel (dims[0]) instead of one per tensor. Vectors
  // (biases) always get one grid: per element, each bias would be its own range
  // end and never move.
  bool per_channel = false;
  RangeEstimate estimate = RangeEstimate::kMovingAverage;
  float ema_momentum = 0.1f;
};

// Throws std::invalid_argument unless 2 <= bits <= 8 (1 bit leaves only the
// level 0 in the restricted range; levels beyond 8 bits are not a target of
// this toolkit).
void CheckGridBits(int bits, const char* context);

// The grid of a range with lowest value `low` <= 0 <= `high` (for symmetric
// ranges low = -high). A zero range gives the one-point grid {0}.
GridPoint MakeGrid(GridRange range, int bits, float low, float high);

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
