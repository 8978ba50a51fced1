// A point quantizer Q(w) = step * round(clip(w / step, min_level, max_level)):
// the value type the inference graph (engine/graph.h) carries on a node whose
// output an activation quantizer rounds. It is here, not with the rest of the
// quantization grid (compression/quant_grid.h: how a grid is made from a range,
// the range reductions, the evaluation protocol's error), because the graph
// that every layer exports holds it and engine/ knows nothing above itself.
//
//   GridPoint q{/*step=*/0.1f, /*min_level=*/-7, /*max_level=*/7};
//   float nearest = q(w);  // step * round(clip(w / step))
#ifndef PSG_ENGINE_GRID_POINT_H_
#define PSG_ENGINE_GRID_POINT_H_

#include <algorithm>

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

}  // namespace psg::engine

#endif  // PSG_ENGINE_GRID_POINT_H_
