#include "train/gradient_norm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace psg::train {

using engine::ParamKind;

namespace {

engine::ParameterList CoveredWeights(const engine::ParameterList& params) {
  engine::ParameterList covered;
  for (engine::Parameter* p : params) {
    if (p->trainable() && (p->kind == ParamKind::kConvWeight || p->kind == ParamKind::kFcWeight)) {
      covered.push_back(p);
    }
  }
  return covered;
}

}  // namespace

GradientNormRegularizer::GradientNormRegularizer(const engine::ParameterList& params,
                                                 const GradientNormOptions& options)
    : options_(options),
      trainable_(engine::TrainableOnly(params)),
      covered_(CoveredWeights(params)),
      values_(params) {
  if (!(options.lambda >= 0.0f)) {
    throw std::invalid_argument("gradient norm regularizer: lambda must be >= 0, got " +
                                std::to_string(options.lambda));
  }
  if (!(options.step > 0.0f)) {
    throw std::invalid_argument("gradient norm regularizer: step must be > 0, got " +
                                std::to_string(options.step));
  }
  if (covered_.empty()) {
    throw std::invalid_argument("gradient norm regularizer: no convolution or fully connected weights");
  }
  for (const engine::Parameter* p : trainable_) gradients_.emplace_back(p->grad.flat().size());
}

void GradientNormRegularizer::Apply(const std::function<void()>& recompute) {
  for (size_t i = 0; i < trainable_.size(); ++i) {
    const absl::Span<const float> g = trainable_[i]->grad.flat();
    std::copy(g.begin(), g.end(), gradients_[i].begin());
  }
  values_.Capture();
  double l1 = 0, sum_squares = 0;
  int64_t n = 0;
  for (const engine::Parameter* p : covered_) {
    for (float g : p->grad.flat()) {
      l1 += std::abs(g);
      sum_squares += static_cast<double>(g) * g;
    }
    n += p->grad.numel();
  }
  const bool l2 = options_.norm == GradientNorm::kL2;
  last_gradient_norm_ = l2 ? std::sqrt(sum_squares) : l1;
  if (l2 && sum_squares == 0) return;  // v undefined; the regularizer's gradient is 0
  // w += step * v, v = sign(g) (L1), or h * v with h = step * sqrt(n) and
  // v = g / ||g||, i.e. w += (step * sqrt(n) / ||g||) * g (L2).
  const float step = l2 ? static_cast<float>(options_.step * std::sqrt(static_cast<double>(n))) : options_.step;
  const float along_g = l2 ? static_cast<float>(step / std::sqrt(sum_squares)) : 0.0f;
  for (engine::Parameter* p : covered_) {
    const absl::Span<float> w = p->value.flat();
    const absl::Span<const float> g = p->grad.flat();
    for (size_t k = 0; k < w.size(); ++k) {
      w[k] += l2 ? along_g * g[k] : g[k] > 0.0f ? step : g[k] < 0.0f ? -step : 0.0f;
    }
  }
  recompute();
  values_.Restore();
  const float scale = options_.lambda / step;
  for (size_t i = 0; i < trainable_.size(); ++i) {
    const absl::Span<float> g = trainable_[i]->grad.flat();
    const std::vector<float>& g0 = gradients_[i];
    for (size_t k = 0; k < g.size(); ++k) g[k] = g0[k] + scale * (g[k] - g0[k]);
  }
}

}  // namespace psg::train
