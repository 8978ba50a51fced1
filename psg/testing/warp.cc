#include "psg/testing/warp.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"

namespace psg::psgd {

PointWarp::PointWarp(double target, double eps, double lambda)
    : target_(target),
      eps_(eps),
      lambda_(lambda),
      sqrt_eps_(std::sqrt(eps)),
      sqrt_lambda_(std::sqrt(lambda)) {
  PSG_CHECK(lambda > 0, "PointWarp: lambda must be > 0, got ", lambda);
  PSG_CHECK(eps >= 0, "PointWarp: eps must be >= 0, got ", eps);
}

double PointWarp::Scale(double w) const { return lambda_ * (std::fabs(w - target_) + eps_); }

double PointWarp::Warp(double w) const {
  // sqrt(a + eps) - sqrt(eps) = a / (sqrt(a + eps) + sqrt(eps)): no cancellation
  // near the target.
  const double a = std::fabs(w - target_);
  if (a == 0) return 0;
  return std::copysign(2 * a / (std::sqrt(a + eps_) + sqrt_eps_), w - target_) / sqrt_lambda_;
}

double PointWarp::Unwarp(double y) const {
  // (h + sqrt(eps))^2 - eps = h (h + 2 sqrt(eps)) with h = |u| / 2: no cancellation.
  const double h = std::fabs(sqrt_lambda_ * y) / 2;
  return target_ + std::copysign(h * (h + 2 * sqrt_eps_), y);
}

double PointWarp::UnwarpDerivative(double y) const {
  return sqrt_lambda_ * (std::fabs(sqrt_lambda_ * y) / 2 + sqrt_eps_);
}

GridWarp::GridWarp(const GridPoint& grid, double eps, double lambda)
    : step_(grid.step),
      min_level_(grid.min_level),
      max_level_(grid.max_level),
      local_(0.0, eps, lambda),
      half_cell_(local_.Warp(step_ / 2)) {
  PSG_CHECK(step_ > 0 && min_level_ <= 0 && max_level_ >= 0,
            "GridWarp: need step > 0 and min_level <= 0 <= max_level, got step=", step_,
            " levels [", min_level_, ", ", max_level_, "]");
}

int64_t GridWarp::NearestLevel(double w) const {
  return static_cast<int64_t>(std::clamp(std::nearbyint(w / step_), min_level_, max_level_));
}

int64_t GridWarp::LevelOfWarped(double y) const {
  return static_cast<int64_t>(
      std::clamp(std::nearbyint(y / (2 * half_cell_)), min_level_, max_level_));
}

double GridWarp::Scale(double w) const { return local_.Scale(w - step_ * NearestLevel(w)); }

double GridWarp::Warp(double w) const {
  const int64_t k = NearestLevel(w);
  return 2 * half_cell_ * k + local_.Warp(w - step_ * k);
}

double GridWarp::Unwarp(double y) const {
  const int64_t k = LevelOfWarped(y);
  return step_ * k + local_.Unwarp(y - 2 * half_cell_ * k);
}

double GridWarp::UnwarpDerivative(double y) const {
  return local_.UnwarpDerivative(y - 2 * half_cell_ * LevelOfWarped(y));
}

}  // namespace psg::psgd
