// The b-bit uniform quantization grid shared by PSG (its target), the
// quantizers and the evaluation protocol: rounding, the grid of a range, the
// range reductions, and the quantization error of the evaluation protocol.
//
//   GridPoint q = MakeGrid(GridRange::kRestricted, /*bits=*/4, -MaxAbs(w), MaxAbs(w));
//   float nearest = q(w[0]);                 // step * round(clip(w / step))
//   double mse = QuantizationMse(w, /*bits=*/4);
#ifndef PSG_COMPRESSION_QUANT_GRID_H_
#define PSG_COMPRESSION_QUANT_GRID_H_

#include <cstdint>

#include "absl/types/span.h"
#include "engine/grid_point.h"
#include "flags/enum_flag.h"

namespace psg::compression {

// The point quantizer and its rounding live in engine/ (engine/grid_point.h),
// as the inference graph carries them; here they are the grid's own names.
using engine::GridPoint;
using engine::RoundHalfEven;

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
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<GridRange> kGridRangeNames[] = {{"restricted", GridRange::kRestricted},
                                                                 {"full", GridRange::kFull},
                                                                 {"asymmetric", GridRange::kAsymmetric}};
PSG_ENUM_FLAG(GridRange, kGridRangeNames)

// Throws std::invalid_argument unless 2 <= bits <= 8 (1 bit leaves only the
// level 0 in the restricted range; levels beyond 8 bits are not a target of
// this toolkit).
void CheckGridBits(int bits, const char* context);

// The grid of a range with lowest value `low` <= 0 <= `high` (for symmetric
// ranges low = -high). A zero range gives the one-point grid {0}.
GridPoint MakeGrid(GridRange range, int bits, float low, float high);

// max |w| over the span (0 for an empty span).
float MaxAbs(absl::Span<const float> w);

// min(W, 0) and max(W, 0).
void MinMaxWithZero(absl::Span<const float> w, float* low, float* high);

// ||W - Q_b(W)||^2 / n for the quantizer of the evaluation protocol: one grid
// per tensor, levels -qmax..qmax, step max|W| / qmax from the exact max-abs.
double QuantizationMse(absl::Span<const float> w, int bits);

}  // namespace psg::compression

#endif  // PSG_COMPRESSION_QUANT_GRID_H_
