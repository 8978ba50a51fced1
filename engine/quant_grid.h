// The b-bit uniform quantization grid shared by PSG (its target), the
// quantizers and the evaluation protocol: rounding, the grid of a range, the
// range reductions, and the quantization error of the evaluation protocol.
//
//   GridPoint q = MakeGrid(GridRange::kRestricted, /*bits=*/4, -MaxAbs(w), MaxAbs(w));
//   float nearest = q(w[0]);                 // step * round(clip(w / step))
//   double mse = QuantizationMse(w, /*bits=*/4);
#ifndef PSG_ENGINE_QUANT_GRID_H_
#define PSG_ENGINE_QUANT_GRID_H_

#include <algorithm>
#include <cstdint>

#include "absl/types/span.h"

namespace psg::engine {

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

}  // namespace psg::engine

#endif  // PSG_ENGINE_QUANT_GRID_H_
