// The warped space of PSG (psg-method.md section 3), in closed form: PSGD with
// scaling s in the weight space w is, to first order in the learning rate,
// plain gradient descent in the space y = g(w) = integral s(u)^(-1/2) du,
// mapped back by f = g^-1, since f'(y)^2 = s(f(y)). Used to check that claim
// numerically and to reason about step sizes; double precision throughout.
//
//   GridWarp warp(GridPoint{0.1f, -7, 7}, /*eps=*/1e-3, /*lambda=*/1);
//   double y = warp.Warp(w);
//   y -= eta * dLdw(warp.Unwarp(y)) * warp.UnwarpDerivative(y);  // GD in y
//   w = warp.Unwarp(y);
#ifndef PSG_PSG_TESTING_WARP_H_
#define PSG_PSG_TESTING_WARP_H_

#include <cstdint>

#include "psg/target.h"

namespace psg::psgd {

// One target w0 with s(w) = lambda * (|w - w0| + eps), y = 0 at w0:
//   g(w)  = 2 sign(w - w0) (sqrt(|w - w0| + eps) - sqrt(eps)) / sqrt(lambda)
//   f(y)  = w0 + sign(u) ((|u|/2 + sqrt(eps))^2 - eps),  u = sqrt(lambda) y
//   f'(y) = sqrt(lambda) (|u|/2 + sqrt(eps))
// (lambda scales s, so y shrinks by sqrt(lambda)). eps >= 0; with eps = 0 the
// maps are still inverse bijections but f'(0) = 0: a weight on w0 never moves.
class PointWarp {
 public:
  // Throws std::invalid_argument unless lambda > 0 and eps >= 0.
  PointWarp(double target, double eps, double lambda);

  double Scale(double w) const;             // s(w)
  double Warp(double w) const;              // y = g(w)
  double Unwarp(double y) const;            // w = f(y)
  double UnwarpDerivative(double y) const;  // f'(y)

 private:
  double target_, eps_, lambda_, sqrt_eps_, sqrt_lambda_;
};

// A grid of levels step * k, min_level <= k <= max_level (0 is a level), with
// the sawtooth s(w) = lambda * (|w - Q(w)| + eps), Q the grid's quantizer.
// Each weight is warped around its nearest level k(w) = clip(round(w / step))
// by the one-target warp g_0 of that level, offset so the pieces join:
//   g(w)  = 2 H k(w) + g_0(w - step k(w)),    H = g_0(step / 2)
//   f(y)  = step k + f_0(y - 2 H k),          k = clip(round(y / 2H))
//   f'(y) = f_0'(y - 2 H k)
// H is the warped half-width of a cell, so level k sits at y = 2 H k and a cell
// boundary w = step (k + 1/2) at y = 2 H k + H from both sides. This is exactly
// g(w) = integral_0^w s^(-1/2): s is continuous (a boundary is step/2 from both
// neighbours), so g, f and f' are continuous everywhere and g is strictly
// increasing; which neighbour round() picks on a boundary does not matter.
// Only f'' jumps: at the levels (the kink of |.|) and at cell boundaries.
// Beyond the outermost levels the nearest level stays the outermost one, so
// the outer cells extend to infinity.
class GridWarp {
 public:
  // Throws std::invalid_argument unless lambda > 0 and eps >= 0.
  GridWarp(const GridPoint& grid, double eps, double lambda);

  double Scale(double w) const;
  double Warp(double w) const;
  double Unwarp(double y) const;
  double UnwarpDerivative(double y) const;

 private:
  int64_t NearestLevel(double w) const;
  int64_t LevelOfWarped(double y) const;

  double step_, min_level_, max_level_;
  PointWarp local_;   // the warp around level 0; level k is the same shifted
  double half_cell_;  // H
};

}  // namespace psg::psgd

#endif  // PSG_PSG_TESTING_WARP_H_
