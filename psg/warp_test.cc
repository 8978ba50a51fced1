#include "psg/testing/warp.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/testing/throws.h"

namespace psg::psgd {
namespace {

// The identities a warp must satisfy at w: f(g(w)) = w, f'(y)^2 = s(f(y)),
// and f' equal to a central finite difference of f. The difference is exact
// to O(h^2) where f is smooth and to O(h |f''|) = O(h lambda) at its kinks.
template <class Warp>
void ExpectWarpIdentities(const Warp& warp, double w, double lambda) {
  const double y = warp.Warp(w);
  EXPECT_NEAR(warp.Unwarp(y), w, 1e-12) << "w " << w;
  const double slope = warp.UnwarpDerivative(y);
  EXPECT_NEAR(slope * slope, warp.Scale(warp.Unwarp(y)), 1e-12 * std::max(1.0, slope * slope))
      << "w " << w;
  const double h = 1e-7;
  const double finite_difference = (warp.Unwarp(y + h) - warp.Unwarp(y - h)) / (2 * h);
  EXPECT_NEAR(slope, finite_difference, 1e-6 * std::max(1.0, slope) + lambda * h) << "w " << w;
}

TEST(PointWarpTest, InverseAndSlopeIdentities) {
  for (double lambda : {1.0, 150.0}) {
    for (double eps : {1e-3, 0.1}) {
      const PointWarp warp(0.3, eps, lambda);
      for (double w = -1.0; w <= 1.6; w += 0.0137) ExpectWarpIdentities(warp, w, lambda);
      ExpectWarpIdentities(warp, 0.3, lambda);
    }
  }
}

TEST(PointWarpTest, ClosedFormsByHand) {
  // eps = 0.01, w0 = 1: g(1.15) = 2 (sqrt(0.16) - 0.1) = 0.6; lambda = 4 halves y.
  const PointWarp warp(1.0, 0.01, 4.0);
  EXPECT_NEAR(warp.Warp(1.15), 0.3, 1e-12);
  EXPECT_NEAR(warp.Warp(0.85), -0.3, 1e-12);
  EXPECT_NEAR(warp.Scale(1.15), 4 * 0.16, 1e-12);
  EXPECT_NEAR(warp.UnwarpDerivative(0.3), 2 * (0.3 + 0.1), 1e-12);  // sqrt(4) (|2 y| / 2 + 0.1)
}

TEST(GridWarpTest, InverseAndSlopeIdentities) {
  for (const GridPoint grid :
       {GridPoint{0.1f, -7, 7}, GridPoint{0.25f, -1, 2}, GridPoint{1, 0, 0}}) {
    for (double lambda : {1.0, 150.0}) {
      const GridWarp warp(grid, 1e-3, lambda);
      for (double w = -1.3; w <= 1.3; w += 0.00731) ExpectWarpIdentities(warp, w, lambda);
      for (double level = grid.min_level; level <= grid.max_level; ++level) {
        ExpectWarpIdentities(warp, level * grid.step, lambda);
      }
    }
  }
}

TEST(GridWarpTest, ContinuousAndIncreasingAcrossCellBoundaries) {
  const GridPoint grid{0.1f, -7, 7};
  const GridWarp warp(grid, 1e-3, 1.0);
  const double h = 1e-9;
  for (int k = -7; k < 7; ++k) {
    const double boundary = (k + 0.5) * double{grid.step};
    EXPECT_NEAR(warp.Warp(boundary - h), warp.Warp(boundary + h), 1e-6) << "boundary " << boundary;
    EXPECT_LT(warp.Warp(boundary - h), warp.Warp(boundary + h));
    const double y = warp.Warp(boundary);
    EXPECT_NEAR(warp.Unwarp(y - h), warp.Unwarp(y + h), 1e-8);
    EXPECT_NEAR(warp.UnwarpDerivative(y - h), warp.UnwarpDerivative(y + h), 1e-8);
  }
  // Outside the outermost level the warp keeps growing around it.
  EXPECT_LT(warp.Warp(0.75), warp.Warp(2.0));
  EXPECT_NEAR(warp.Unwarp(warp.Warp(2.0)), 2.0, 1e-12);
}

// PSGD in w against plain GD in y = g(w) mapped back with f, on a coupled 2-D
// quadratic; the gap after the same time horizon (2 / eta steps) is first
// order in eta, so ten times smaller eta gives a ten times smaller gap.
double PsgdVersusWarpedGdGap(const GridWarp& warp, double eta) {
  using Vec = std::array<double, 2>;
  auto grad = [](const Vec& w) {
    return Vec{2.0 * w[0] + 0.5 * w[1] - 0.3, 0.5 * w[0] + 1.0 * w[1] + 0.2};
  };
  Vec w = {0.42, -0.33};
  Vec y = {warp.Warp(w[0]), warp.Warp(w[1])};
  double gap = 0;
  const int steps = static_cast<int>(std::lround(2 / eta));
  for (int t = 0; t < steps; ++t) {
    const Vec gw = grad(w);
    for (int i = 0; i < 2; ++i) w[i] -= eta * warp.Scale(w[i]) * gw[i];
    const Vec gy = grad({warp.Unwarp(y[0]), warp.Unwarp(y[1])});
    for (int i = 0; i < 2; ++i) y[i] -= eta * gy[i] * warp.UnwarpDerivative(y[i]);
    for (int i = 0; i < 2; ++i) gap = std::max(gap, std::fabs(w[i] - warp.Unwarp(y[i])));
  }
  return gap;
}

TEST(GridWarpTest, PsgdIsGradientDescentInWarpedSpaceToFirstOrder) {
  for (double lambda : {1.0, 4.0}) {
    const GridWarp warp(GridPoint{0.1f, -7, 7}, 1e-3, lambda);
    const double coarse = PsgdVersusWarpedGdGap(warp, 1e-2);
    const double fine = PsgdVersusWarpedGdGap(warp, 1e-3);
    EXPECT_LT(coarse, 1e-4) << "lambda " << lambda;
    EXPECT_GT(fine, 0) << "lambda " << lambda;
    EXPECT_NEAR(coarse / fine, 10.0, 1.5)
        << "lambda " << lambda << ": gaps " << coarse << " and " << fine;
  }
}

TEST(WarpTest, RejectsBadArguments) {
  EXPECT_THAT([] { PointWarp(0, 1e-3, 0); }, ThrowsInvalidArgument("lambda must be > 0"));
  EXPECT_THAT([] { PointWarp(0, 1e-3, -1); }, ThrowsInvalidArgument("lambda must be > 0"));
  EXPECT_THAT([] { PointWarp(0, -1e-3, 1); }, ThrowsInvalidArgument("eps must be >= 0"));
  EXPECT_THAT(
      [] {
        GridWarp(GridPoint{0.1f, -7, 7}, -1, 1);
      },
      ThrowsInvalidArgument("eps must be >= 0"));
  EXPECT_THAT(
      [] {
        GridWarp(GridPoint{0, -7, 7}, 1e-3, 1);
      },
      ThrowsInvalidArgument("need step > 0"));
}

}  // namespace
}  // namespace psg::psgd
