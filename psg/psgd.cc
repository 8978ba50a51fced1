#include "psg/psgd.h"

#include <type_traits>

#include "engine/check.h"
#include "engine/context.h"
#include "engine/sgd_kernel.h"
#include "engine/adam_kernel.h"
#include "psg/diagnostics.h"

namespace psg::psgd {
namespace {

template <class T>
constexpr bool kUncovered = std::is_same_v<std::decay_t<T>, std::monostate>;

void CheckOptions(const PsgdOptions& o) {
  PSG_CHECK(o.scaling.lambda > 0, "PSGD: lambda_s must be > 0, got ", o.scaling.lambda);
  PSG_CHECK(o.scaling.eps >= 0, "PSGD: eps must be >= 0, got ", o.scaling.eps);
  PSG_CHECK(o.momentum >= 0 && o.weight_decay >= 0,
            "PSGD: need momentum >= 0 and weight_decay >= 0, got momentum=", o.momentum,
            " weight_decay=", o.weight_decay);
  PSG_CHECK(!o.nesterov || o.momentum > 0, "PSGD: Nesterov momentum requires momentum > 0");
  PSG_CHECK(o.adam_lr_factor > 0 && o.adam_beta1 >= 0 && o.adam_beta1 < 1 && o.adam_beta2 >= 0 &&
                o.adam_beta2 < 1 && o.adam_eps > 0,
            "PSGD: Adam needs lr_factor > 0, betas in [0, 1) and eps > 0, got lr_factor=",
            o.adam_lr_factor, " betas=(", o.adam_beta1, ", ", o.adam_beta2, ") eps=", o.adam_eps);
}

}  // namespace

Psgd::Psgd(engine::ParameterList params, const PsgdOptions& options)
    : params_(std::move(params)), options_(options) {
  CheckOptions(options_);
  coverage_ = compression::ResolveCoverage(params_, options_.policy);
  const bool adam = options_.method == PsgdMethod::kAdam;
  for (size_t i = 0; i < params_.size(); ++i) {
    const engine::Parameter& p = *params_[i];
    PSG_CHECK(p.trainable(), "PSGD: parameter '", p.name, "' is not trainable");
    if (!coverage_[i].covered) {
      targets_.emplace_back(std::monostate{});
    } else if (options_.target == TargetKind::kZero) {
      targets_.emplace_back(ZeroTarget{});
    } else {
      targets_.emplace_back(GridTarget(options_.grid, coverage_[i].bits, p.value.dims()));
    }
    first_moments_.push_back(engine::Tensor::Plain(p.value.dims()));
    second_moments_.push_back(adam ? engine::Tensor::Plain(p.value.dims()) : engine::Tensor());
  }
}

void Psgd::Step(float lr) {
  PSG_CHECK(lr >= 0, "PSGD: learning rate must be >= 0, got ", lr);
  engine::Stream().wait();  // gradients come from primitives on the stream
  const PsgdOptions& o = options_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const absl::Span<float> w = params_[i]->value.flat();
    float* g = params_[i]->grad.flat().data();
    float* m = first_moments_[i].raw();
    float* v = o.method == PsgdMethod::kAdam ? second_moments_[i].raw() : nullptr;
    float weight_decay = o.weight_decay;
    if (o.scale_weight_decay && coverage_[i].covered) {
      for (size_t j = 0; j < w.size(); ++j) g[j] += weight_decay * w[j];
      weight_decay = 0.0f;
    }
    auto update = [&](int64_t begin, int64_t size, auto scale) {
      if (o.method == PsgdMethod::kSgd) {
        const engine::SgdHyper hyper{lr, o.momentum, 0.0f, weight_decay, o.nesterov};
        engine::SgdUpdate(hyper, steps_ == 0, w.data() + begin, g + begin, m + begin, size, scale);
      } else {
        const engine::AdamHyper hyper{lr * o.adam_lr_factor * o.scaling.lambda, o.adam_beta1, o.adam_beta2,
                              o.adam_eps, weight_decay};
        engine::AdamUpdate(hyper, steps_ + 1, w.data() + begin, g + begin, m + begin, v + begin, size,
                   scale);
      }
    };
    std::visit(
        [&](auto& target) {
          if constexpr (kUncovered<decltype(target)>) {
            update(0, w.size(), engine::UnitScale());
          } else {
            ScaledUpdate(target, o.scaling, w, update);
          }
        },
        targets_[i]);
  }
  ++steps_;
}

std::vector<std::pair<std::string, engine::Tensor>> Psgd::State() {
  std::vector<std::pair<std::string, engine::Tensor>> state;
  const bool adam = options_.method == PsgdMethod::kAdam;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i]->name;
    state.emplace_back(name + (adam ? "/adam_m" : "/momentum"), first_moments_[i]);
    if (adam) state.emplace_back(name + "/adam_v", second_moments_[i]);
    auto* grid = std::get_if<GridTarget>(&targets_[i]);
    if (grid != nullptr && options_.grid.estimate == RangeEstimate::kMovingAverage) {
      const absl::Span<float> range = grid->range_state();
      state.emplace_back(name + "/grid_range",
                         engine::Tensor::View(range.data(), {static_cast<int64_t>(range.size())}));
    }
  }
  return state;
}

std::vector<TensorDiagnostics> Psgd::Diagnostics() const {
  std::vector<TensorDiagnostics> diagnostics;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!coverage_[i].covered) continue;
    const absl::Span<const float> w = params_[i]->value.flat();
    const double mean_distance = std::visit(
        [&](const auto& target) -> double {
          if constexpr (kUncovered<decltype(target)>) {
            return 0;
          } else {
            return MeanDistance(target, w);
          }
        },
        targets_[i]);
    diagnostics.push_back({params_[i]->name, coverage_[i].bits, mean_distance,
                           compression::QuantizationMse(w, coverage_[i].bits)});
  }
  return diagnostics;
}

}  // namespace psg::psgd
