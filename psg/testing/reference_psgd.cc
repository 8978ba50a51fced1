#include "psg/testing/reference_psgd.h"

#include <algorithm>
#include <cmath>

namespace psg::psgd {

ReferencePsgd::ReferencePsgd(const engine::ParameterList& params, const PsgdOptions& options)
    : options_(options) {
  const std::vector<compression::Coverage> coverage = compression::ResolveCoverage(params, options.policy);
  for (size_t i = 0; i < params.size(); ++i) {
    const engine::Parameter& p = *params[i];
    const absl::Span<const float> values = p.value.flat();
    Tensor t;
    t.w.assign(values.begin(), values.end());
    t.m.assign(values.size(), 0.0f);
    t.v.assign(values.size(), 0.0f);
    const engine::Dims dims = p.value.dims();
    t.rows = options.grid.per_channel && dims.size() > 1 ? dims[0] : 1;
    t.coverage = coverage[i];
    tensors_.push_back(std::move(t));
  }
}

std::vector<float> ReferencePsgd::Targets(Tensor& t) const {
  const int64_t n = t.w.size(), row_size = n / t.rows;
  std::vector<float> target(n, 0.0f);
  if (options_.target == TargetKind::kZero) return target;

  const GridOptions& grid = options_.grid;
  const bool asymmetric = grid.range == GridRange::kAsymmetric;
  const bool first_observation = t.range.empty();
  if (first_observation) t.range.resize(t.rows * (asymmetric ? 2 : 1));
  const float levels = std::pow(2.0f, t.coverage.bits);  // 2^b
  for (int64_t r = 0; r < t.rows; ++r) {
    const float* w = t.w.data() + r * row_size;
    // Observed range: min(W, 0) and max(W, 0) of the row.
    float low = 0.0f, high = 0.0f;
    for (int64_t j = 0; j < row_size; ++j) {
      low = std::min(low, w[j]);
      high = std::max(high, w[j]);
    }
    std::vector<float> observed = {std::max(-low, high)};
    if (asymmetric) observed = {low, high};
    float* state = t.range.data() + r * observed.size();
    for (size_t k = 0; k < observed.size(); ++k) {
      if (first_observation || grid.estimate == RangeEstimate::kExact) {
        state[k] = observed[k];
      } else {
        state[k] = state[k] + grid.ema_momentum * (observed[k] - state[k]);
      }
    }
    low = asymmetric ? state[0] : -state[0];
    high = asymmetric ? state[1] : state[0];
    if (high - low == 0.0f) continue;  // a zero range: every target is 0

    // The grid: step * k for integer k in [min_level, max_level].
    float step = 0.0f, min_level = 0.0f, max_level = 0.0f;
    switch (grid.range) {
      case GridRange::kRestricted:
        max_level = levels / 2 - 1;
        min_level = -max_level;
        step = high / max_level;
        break;
      case GridRange::kFull:
        min_level = -levels / 2;
        max_level = levels / 2 - 1;
        step = high / ((levels - 1) / 2);
        break;
      case GridRange::kAsymmetric: {
        step = (high - low) / (levels - 1);
        const float zero_point = std::clamp(std::nearbyint(-low / step), 0.0f, levels - 1);
        min_level = -zero_point;
        max_level = levels - 1 - zero_point;
        break;
      }
    }
    for (int64_t j = 0; j < row_size; ++j) {
      target[r * row_size + j] =
          step * std::nearbyint(std::clamp(w[j] / step, min_level, max_level));
    }
  }
  return target;
}

void ReferencePsgd::Step(float lr, const std::vector<std::vector<float>>& grads) {
  const PsgdOptions& o = options_;
  const float wd = o.weight_decay;
  // Adam: released learning rate, torch's bias corrections (in double).
  const float adam_lr = lr * o.adam_lr_factor * o.scaling.lambda;
  const double t = static_cast<double>(steps_ + 1);
  const float step_size = static_cast<float>(adam_lr / (1.0 - std::pow(double{o.adam_beta1}, t)));
  const float bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double{o.adam_beta2}, t)));

  for (size_t i = 0; i < tensors_.size(); ++i) {
    Tensor& tensor = tensors_[i];
    const bool covered = tensor.coverage.covered;
    const std::vector<float> target = covered ? Targets(tensor) : std::vector<float>();
    for (size_t j = 0; j < tensor.w.size(); ++j) {
      const float w = tensor.w[j], g = grads[i][j];
      float d = g + wd * w;
      if (covered) {
        const float s = o.scaling.lambda * (std::fabs(w - target[j]) + o.scaling.eps);
        d = o.scale_weight_decay ? s * (g + wd * w) : s * g + wd * w;
      }
      float& m = tensor.m[j];
      float& v = tensor.v[j];
      if (o.method == PsgdMethod::kSgd) {
        if (o.momentum != 0.0f) {
          m = steps_ == 0 ? d : o.momentum * m + d;
          d = o.nesterov ? d + o.momentum * m : m;
        }
        tensor.w[j] = w - lr * d;
      } else {
        m = o.adam_beta1 * m + (1.0f - o.adam_beta1) * d;
        v = o.adam_beta2 * v + (1.0f - o.adam_beta2) * d * d;
        const float denominator = std::sqrt(v) / bias2_sqrt + o.adam_eps;
        tensor.w[j] = w - step_size * (m / denominator);
      }
    }
  }
  ++steps_;
}

std::vector<std::vector<float>> GradientsOf(const engine::ParameterList& params) {
  std::vector<std::vector<float>> grads;
  for (const engine::Parameter* p : params) {
    const absl::Span<const float> g = p->grad.flat();
    grads.emplace_back(g.begin(), g.end());
  }
  return grads;
}

}  // namespace psg::psgd
