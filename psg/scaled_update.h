// PSG's scaled update of one tensor: the target's reduction pass, then one
// fused pass per row in which the loss gradient is scaled by
//   s(w) = lambda * (|w - nearest(w)| + eps)
// inside the optimizer kernel (engine::SgdUpdate, engine::AdamUpdate). The kernels are
// templates on the scale functor, so the target's Point is inlined and the
// pass reads and writes each of weight, gradient and state exactly once.
//
//   ScaledUpdate(target, {.lambda = 150.0f}, w, [&](int64_t begin, int64_t size, auto scale) {
//     engine::SgdUpdate(hyper, first_step, w.data() + begin, g + begin, buf + begin, size, scale);
//   });
#ifndef PSG_PSG_SCALED_UPDATE_H_
#define PSG_PSG_SCALED_UPDATE_H_

#include <cmath>
#include <cstdint>

#include "absl/types/span.h"
#include "psg/target.h"

namespace psg::psgd {

struct Scaling {
  float lambda = 1.0f;  // lambda_s; released: 150 for a 4-bit target
  float eps = 0.0f;     // released: 0
};

template <class Point>
struct DistanceScale {
  Point nearest;
  float lambda;
  float eps;

  float operator()(float w) const { return lambda * (std::fabs(w - nearest(w)) + eps); }
};

// Observes w, then calls update(begin, size, scale) for each row of w with that
// row's DistanceScale.
template <Target T, class RowUpdate>
void ScaledUpdate(T& target, const Scaling& scaling, absl::Span<const float> w, RowUpdate update) {
  using Point = typename T::Point;
  target.Observe(w);
  ForEachRow(target, w.size(), [&](int64_t begin, int64_t size, Point nearest) {
    update(begin, size, DistanceScale<Point>{nearest, scaling.lambda, scaling.eps});
  });
}

}  // namespace psg::psgd

#endif  // PSG_PSG_SCALED_UPDATE_H_
