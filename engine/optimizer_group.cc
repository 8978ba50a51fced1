#include "engine/optimizer_group.h"

#include <cmath>

#include "engine/check.h"

namespace psg::engine {

void OptimizerGroup::Add(std::unique_ptr<Optimizer> optimizer, float lr_factor) {
  PSG_CHECK(std::isfinite(lr_factor) && lr_factor > 0, "OptimizerGroup: lr_factor must be > 0, got ", lr_factor);
  if (!members_.empty()) optimizer->set_steps(steps());
  members_.emplace_back(std::move(optimizer), lr_factor);
}

void OptimizerGroup::Step(float lr) {
  for (auto& [optimizer, factor] : members_) optimizer->Step(lr * factor);
}

std::vector<std::pair<std::string, Tensor>> OptimizerGroup::State() {
  std::vector<std::pair<std::string, Tensor>> state;
  for (auto& [optimizer, factor] : members_) {
    for (auto& entry : optimizer->State()) state.push_back(std::move(entry));
  }
  return state;
}

int64_t OptimizerGroup::steps() const { return members_.empty() ? 0 : members_.front().first->steps(); }

void OptimizerGroup::set_steps(int64_t steps) {
  for (auto& [optimizer, factor] : members_) optimizer->set_steps(steps);
}

}  // namespace psg::engine
