#include "prune/masked_optimizer.h"

#include "engine/check.h"

namespace psg::prune {

MaskedOptimizer::MaskedOptimizer(std::unique_ptr<engine::Optimizer> inner, MaskSet masks)
    : inner_(std::move(inner)), masks_(std::move(masks)) {
  PSG_CHECK(inner_ != nullptr, "MaskedOptimizer: null optimizer");
}

void MaskedOptimizer::Step(float lr) {
  masks_.MaskGradients();
  inner_->Step(lr);
  masks_.Apply();
}

std::vector<std::pair<std::string, engine::Tensor>> MaskedOptimizer::State() {
  std::vector<std::pair<std::string, engine::Tensor>> state = inner_->State();
  for (auto& entry : masks_.State()) state.push_back(std::move(entry));
  return state;
}

}  // namespace psg::prune
