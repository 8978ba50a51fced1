#include "prune/mask.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "engine/check.h"
#include "engine/context.h"

namespace psg::prune {
namespace {

// x = 0 where m == 0; a select, so -x, NaN and inf become exactly +0 too.
void MaskInPlace(absl::Span<float> x, absl::Span<const float> m) {
  float* __restrict xp = x.data();
  const float* __restrict mp = m.data();
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) xp[i] = mp[i] != 0.0f ? xp[i] : 0.0f;
}

}  // namespace

absl::Span<float> MaskSet::Add(engine::Parameter* param) {
  PSG_CHECK(param != nullptr, "MaskSet::Add: null parameter");
  for (const engine::Parameter* p : params_) {
    PSG_CHECK(p->name != param->name, "MaskSet::Add: '", param->name, "' is masked twice");
  }
  engine::Tensor mask = engine::Tensor::Plain(param->value.dims());
  absl::Span<float> m = mask.flat();
  std::fill(m.begin(), m.end(), 1.0f);
  params_.push_back(param);
  masks_.push_back(std::move(mask));
  return m;
}

void MaskSet::Apply() const {
  engine::Stream().wait();
  for (size_t i = 0; i < params_.size(); ++i) MaskInPlace(params_[i]->value.flat(), masks_[i].flat());
}

void MaskSet::MaskGradients() const {
  engine::Stream().wait();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i]->trainable()) MaskInPlace(params_[i]->grad.flat(), masks_[i].flat());
  }
}

void MaskSet::ZeroMaskedOptimizerState(engine::Optimizer& optimizer) const {
  const std::vector<std::pair<std::string, engine::Tensor>> state = optimizer.State();
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string prefix = params_[i]->name + "/";
    for (const auto& [name, tensor] : state) {
      if (absl::StartsWith(name, prefix) && tensor.numel() == masks_[i].numel()) {
        MaskInPlace(tensor.flat(), masks_[i].flat());
      }
    }
  }
}

std::vector<std::pair<std::string, engine::Tensor>> MaskSet::State() const {
  std::vector<std::pair<std::string, engine::Tensor>> state;
  state.reserve(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) state.emplace_back("mask/" + params_[i]->name, masks_[i]);
  return state;
}

std::vector<LayerSparsity> MaskSet::Report() const {
  std::vector<LayerSparsity> report;
  report.reserve(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const absl::Span<const float> m = masks_[i].flat();
    const int64_t pruned = std::count(m.begin(), m.end(), 0.0f);
    const int64_t size = static_cast<int64_t>(m.size());
    report.push_back({params_[i]->name, size, pruned, size ? double(pruned) / size : 0.0});
  }
  return report;
}

LayerSparsity Total(const std::vector<LayerSparsity>& layers) {
  LayerSparsity total{"total", 0, 0, 0};
  for (const LayerSparsity& l : layers) {
    total.size += l.size;
    total.pruned += l.pruned;
  }
  total.sparsity = total.size ? double(total.pruned) / total.size : 0.0;
  return total;
}

}  // namespace psg::prune
