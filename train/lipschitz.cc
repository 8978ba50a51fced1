#include "train/lipschitz.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace psg::train {

using engine::ParamKind;

namespace {

struct MatrixShape {
  int64_t rows = 0, cols = 0;  // out x fan_in
};

MatrixShape ShapeOf(const engine::Parameter& p) {
  const engine::Dims d = p.value.dims();
  return {d[0], p.value.numel() / d[0]};
}

}  // namespace

LipschitzRegularizer::LipschitzRegularizer(const engine::ParameterList& params,
                                           const LipschitzOptions& options)
    : options_(options) {
  if (!(options.beta >= 0.0f)) {
    throw std::invalid_argument("Lipschitz regularization: beta must be >= 0, got " +
                                std::to_string(options.beta));
  }
  size_t largest = 0;
  for (engine::Parameter* p : params) {
    if (p->trainable() && (p->kind == ParamKind::kConvWeight || p->kind == ParamKind::kFcWeight)) {
      covered_.push_back(p);
      const MatrixShape s = ShapeOf(*p);
      const int64_t side = std::min(s.rows, s.cols);
      largest = std::max(largest, static_cast<size_t>(side * side));
    }
  }
  if (covered_.empty()) {
    throw std::invalid_argument("Lipschitz regularization: no convolution or fully connected weights");
  }
  gram_.resize(largest);
}

void LipschitzRegularizer::Apply() {
  double penalty = 0;
  for (engine::Parameter* p : covered_) {
    const MatrixShape s = ShapeOf(*p);
    const float* w = p->value.flat().data();
    float* g = p->grad.flat().data();
    // Rows orthonormal when out <= fan_in, else columns: with W' = W or W^T,
    // M = W' W'^T - I (side x side) and the gradient 2 beta M W' (in W's layout).
    const bool rows = s.rows <= s.cols;
    const int64_t side = rows ? s.rows : s.cols, length = rows ? s.cols : s.rows;
    // Element (i, k) of W' is w[rows ? i * cols + k : k * cols + i].
    const auto at = [&](int64_t i, int64_t k) { return rows ? i * s.cols + k : k * s.cols + i; };
    for (int64_t i = 0; i < side; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < length; ++k) dot += static_cast<double>(w[at(i, k)]) * w[at(j, k)];
        const double m = dot - (i == j ? 1.0 : 0.0);
        gram_[i * side + j] = gram_[j * side + i] = m;
        penalty += (i == j ? 1.0 : 2.0) * m * m;
      }
    }
    const double scale = 2.0 * options_.beta;
    for (int64_t i = 0; i < side; ++i) {
      for (int64_t k = 0; k < length; ++k) {
        double sum = 0;
        for (int64_t j = 0; j < side; ++j) sum += gram_[i * side + j] * w[at(j, k)];
        g[at(i, k)] += static_cast<float>(scale * sum);
      }
    }
  }
  last_penalty_ = 0.5 * options_.beta * penalty;
}

}  // namespace psg::train
