#include "train/gradient_l1.h"

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

GradientL1::GradientL1(const engine::ParameterList& params, const GradientL1Options& options)
    : options_(options),
      trainable_(engine::TrainableOnly(params)),
      covered_(CoveredWeights(params)),
      values_(params) {
  if (!(options.lambda >= 0.0f)) {
    throw std::invalid_argument("gradient L1: lambda must be >= 0, got " +
                                std::to_string(options.lambda));
  }
  if (!(options.step > 0.0f)) {
    throw std::invalid_argument("gradient L1: step must be > 0, got " +
                                std::to_string(options.step));
  }
  if (covered_.empty()) {
    throw std::invalid_argument("gradient L1: no convolution or fully connected weights");
  }
  for (const engine::Parameter* p : trainable_) gradients_.emplace_back(p->grad.flat().size());
}

void GradientL1::Apply(const std::function<void()>& recompute) {
  for (size_t i = 0; i < trainable_.size(); ++i) {
    const absl::Span<const float> g = trainable_[i]->grad.flat();
    std::copy(g.begin(), g.end(), gradients_[i].begin());
  }
  values_.Capture();
  const float step = options_.step;
  double l1 = 0;
  for (engine::Parameter* p : covered_) {
    const absl::Span<float> w = p->value.flat();
    const absl::Span<const float> g = p->grad.flat();
    for (size_t k = 0; k < w.size(); ++k) {
      l1 += std::abs(g[k]);
      w[k] += g[k] > 0.0f ? step : g[k] < 0.0f ? -step : 0.0f;
    }
  }
  last_gradient_l1_ = l1;
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
