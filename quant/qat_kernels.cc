#include "quant/qat_kernels.h"

#include <cmath>

namespace psg::quant {
namespace {

// sum_i term(i) for i < n, with kLanes independent float accumulators: a
// single running sum is a loop-carried dependence that GCC vectorizes only
// under -ffast-math; the lanes become packed adds. `term` may also store (the
// input gradient), which vectorizes along with it.
template <class Term>
double LaneSum(int64_t n, Term term) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += term(i + j);
  }
  double sum = 0;
  for (; i < n; ++i) sum += term(i);
  for (float a : acc) sum += a;
  return sum;
}

}  // namespace

void FakeQuantize(const compression::GridPoint& grid, const float* x, float* y, int64_t n) {
  const compression::GridPoint q = grid;  // a local copy: no aliasing with y
  for (int64_t i = 0; i < n; ++i) y[i] = q(x[i]);
}

double ClipBackward(float clip, bool top_inside, const float* x, const float* dy, float* dx,
                    int64_t n) {
  if (top_inside) {
    return LaneSum(n, [=](int64_t i) {
      const float g = dy[i];
      dx[i] = x[i] >= 0.0f && x[i] <= clip ? g : 0.0f;
      return x[i] > clip ? g : 0.0f;
    });
  }
  return LaneSum(n, [=](int64_t i) {
    const float g = dy[i];
    dx[i] = x[i] >= 0.0f && x[i] < clip ? g : 0.0f;
    return x[i] >= clip ? g : 0.0f;
  });
}

double LsqBackward(const compression::GridPoint& grid, const float* x, const float* dy, float* dx,
                   int64_t n) {
  const float s = grid.step, qn = -grid.min_level, qp = grid.max_level;
  return LaneSum(n, [=](int64_t i) {
    const float v = x[i] / s;
    const float g = dy[i];
    const bool below = v <= -qn, above = v >= qp;
    dx[i] = below || above ? 0.0f : g;
    const float d = below ? -qn : above ? qp : compression::RoundHalfEven(v) - v;
    return g * d;
  });
}

float LsqInitialStep(const float* x, int64_t n, int64_t numel, float qp) {
  const double sum_abs = LaneSum(n, [=](int64_t i) { return std::fabs(x[i]); });
  return static_cast<float>(2.0 * sum_abs / numel / std::sqrt(double{qp}));
}

float LsqGradScale(int64_t count, float qp) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(count) * qp));
}

}  // namespace psg::quant
