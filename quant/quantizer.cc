#include "quant/quantizer.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"

namespace psg::quant {
namespace {

using compression::GridPoint;
using compression::GridRange;

// The integer level of w: GridPoint::operator()'s round(clip(w / step, min,
// max)), the same operations, with the rounding chosen. step * Level<kHalfEven>
// is bit for bit grid(w) (-ffp-contract=off keeps the product unfused).
// Always inlined: a call in the loop would keep it from vectorizing.
template <Rounding kRounding>
[[gnu::always_inline]] inline float Level(const GridPoint& g, float w) {
  const float clipped = std::min(std::max(w / g.step, g.min_level), g.max_level);
  if constexpr (kRounding == Rounding::kHalfEven) {
    return compression::RoundHalfEven(clipped);
  } else {
    return RoundHalfAway(clipped);
  }
}

// y[i] = convert(grid of i's row, level of x[i]) over the whole tensor; one
// branch-free loop per row, which GCC vectorizes behind a run-time overlap
// check that x == y (in place) passes: element i is read before it is written.
template <Rounding kRounding, class T, class Convert>
void MapLevelsWith(absl::Span<const GridPoint> grids, int64_t row_size, const float* x, T* y,
                   Convert convert) {
  for (const GridPoint g : grids) {
    for (int64_t i = 0; i < row_size; ++i) y[i] = convert(g, Level<kRounding>(g, x[i]));
    x += row_size;
    y += row_size;
  }
}

template <class T, class Convert>
void MapLevels(Rounding rounding, absl::Span<const GridPoint> grids, int64_t row_size,
               const float* x, T* y, Convert convert) {
  if (rounding == Rounding::kHalfEven) {
    MapLevelsWith<Rounding::kHalfEven>(grids, row_size, x, y, convert);
  } else {
    MapLevelsWith<Rounding::kHalfAway>(grids, row_size, x, y, convert);
  }
}

bool IsSymmetric(GridRange range) { return range != GridRange::kAsymmetric; }

}  // namespace

RowLayout LayoutOf(const QuantizerSpec& spec, absl::Span<const int64_t> dims, const char* context) {
  PSG_CHECK(!dims.empty(), context, ": a tensor needs at least one dimension");
  int64_t size = 1;
  for (int64_t d : dims) {
    PSG_CHECK(d > 0, context, ": empty tensor (a dimension is ", d, ")");
    size *= d;
  }
  const int64_t rows = spec.per_channel && dims.size() > 1 ? dims[0] : 1;
  return {rows, size / rows};
}

RowRanges ExactRanges(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                      absl::Span<const float> w) {
  const RowLayout layout = LayoutOf(spec, dims, "ExactRanges");
  PSG_CHECK(static_cast<int64_t>(w.size()) == layout.size(), "ExactRanges: expected ",
            layout.size(), " values, got ", w.size());
  RowRanges ranges{std::vector<float>(layout.rows), std::vector<float>(layout.rows)};
  for (int64_t r = 0; r < layout.rows; ++r) {
    const auto row = w.subspan(r * layout.row_size, layout.row_size);
    if (IsSymmetric(spec.range)) {
      ranges.high[r] = compression::MaxAbs(row);
      ranges.low[r] = -ranges.high[r];
    } else {
      compression::MinMaxWithZero(row, &ranges.low[r], &ranges.high[r]);
    }
  }
  return ranges;
}

TensorQuantizer TensorQuantizer::FromRanges(const QuantizerSpec& spec,
                                            absl::Span<const int64_t> dims,
                                            absl::Span<const float> low,
                                            absl::Span<const float> high) {
  compression::CheckGridBits(spec.bits, "TensorQuantizer");
  const RowLayout layout = LayoutOf(spec, dims, "TensorQuantizer");
  PSG_CHECK(static_cast<int64_t>(low.size()) == layout.rows &&
                static_cast<int64_t>(high.size()) == layout.rows,
            "TensorQuantizer: expected ", layout.rows, " ranges (rows), got ", low.size(),
            " lows and ", high.size(), " highs");
  std::vector<GridPoint> grids(layout.rows);
  for (int64_t r = 0; r < layout.rows; ++r) {
    PSG_CHECK(std::isfinite(low[r]) && std::isfinite(high[r]), "TensorQuantizer: range of row ", r,
              " is not finite: [", low[r], ", ", high[r], "]");
    PSG_CHECK(low[r] <= high[r], "TensorQuantizer: range of row ", r, " has low > high: [", low[r],
              ", ", high[r], "]");
    float lo = std::min(low[r], 0.0f), hi = std::max(high[r], 0.0f);
    if (IsSymmetric(spec.range)) {
      hi = std::max(-lo, hi);
      lo = -hi;
    }
    grids[r] = compression::MakeGrid(spec.range, spec.bits, lo, hi);
    // A subnormal range whose step rounds to 0 would turn w / step into NaN.
    if (!(grids[r].step > 0.0f)) grids[r] = compression::MakeGrid(spec.range, spec.bits, 0.0f, 0.0f);
  }
  return TensorQuantizer(spec, layout, std::move(grids));
}

TensorQuantizer TensorQuantizer::FromExactRange(const QuantizerSpec& spec,
                                                absl::Span<const int64_t> dims,
                                                absl::Span<const float> w) {
  compression::CheckGridBits(spec.bits, "TensorQuantizer");
  const RowRanges ranges = ExactRanges(spec, dims, w);
  return FromRanges(spec, dims, ranges.low, ranges.high);
}

void TensorQuantizer::FakeQuantize(absl::Span<const float> in, absl::Span<float> out) const {
  PSG_CHECK(static_cast<int64_t>(in.size()) == size() && out.size() == in.size(),
            "FakeQuantize: expected ", size(), " values in and out, got ", in.size(), " and ",
            out.size());
  MapLevels(spec_.rounding, grids_, layout_.row_size, in.data(), out.data(),
            [](const GridPoint& g, float level) { return g.step * level; });
}

void TensorQuantizer::ToCodes(absl::Span<const float> in, absl::Span<int8_t> codes) const {
  PSG_CHECK(static_cast<int64_t>(in.size()) == size() && codes.size() == in.size(),
            "ToCodes: expected ", size(), " values and codes, got ", in.size(), " and ",
            codes.size());
  for (int64_t r = 0; r < rows(); ++r) {
    PSG_CHECK(grids_[r].min_level >= -128.0f && grids_[r].max_level <= 127.0f,
              "ToCodes: the levels of row ", r, " span [", grids_[r].min_level, ", ",
              grids_[r].max_level, "], beyond int8; use ToUnsignedCodes");
  }
  MapLevels(spec_.rounding, grids_, layout_.row_size, in.data(), codes.data(),
            [](const GridPoint&, float level) {
              return static_cast<int8_t>(static_cast<int32_t>(level));
            });
}

void TensorQuantizer::ToUnsignedCodes(absl::Span<const float> in, absl::Span<uint8_t> codes) const {
  PSG_CHECK(static_cast<int64_t>(in.size()) == size() && codes.size() == in.size(),
            "ToUnsignedCodes: expected ", size(), " values and codes, got ", in.size(), " and ",
            codes.size());
  // level - min_level is exact: both are small integers.
  MapLevels(spec_.rounding, grids_, layout_.row_size, in.data(), codes.data(),
            [](const GridPoint& g, float level) {
              return static_cast<uint8_t>(static_cast<int32_t>(level - g.min_level));
            });
}

const compression::GridPoint& TensorQuantizer::grid(int64_t row) const {
  PSG_CHECK(row >= 0 && row < rows(), "TensorQuantizer: row ", row, " out of [0, ", rows(), ")");
  return grids_[row];
}

}  // namespace psg::quant
