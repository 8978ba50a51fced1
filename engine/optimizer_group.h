// Several optimizers stepped as one, each at the scheduled learning rate
// times its own factor: e.g. SGD on a model's weights and Adam on L0's gates.
// Its steps() are the first optimizer's; its State() is every member's, so
// one checkpoint holds them all.
//
//   OptimizerGroup group;
//   group.Add(std::move(sgd), 1.0f);
//   group.Add(std::make_unique<Adam>(gates, AdamOptions{}), 0.01f);
//   group.Step(schedule.At(step));       // SGD at lr, Adam at lr / 100
#ifndef PSG_ENGINE_OPTIMIZER_GROUP_H_
#define PSG_ENGINE_OPTIMIZER_GROUP_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/optimizer.h"

namespace psg::engine {

class OptimizerGroup : public Optimizer {
 public:
  // Throws std::invalid_argument unless lr_factor > 0 (finite).
  void Add(std::unique_ptr<Optimizer> optimizer, float lr_factor);

  void Step(float lr) override;
  std::vector<std::pair<std::string, Tensor>> State() override;
  int64_t steps() const override;
  void set_steps(int64_t steps) override;

  Optimizer& member(size_t i) { return *members_.at(i).first; }

 private:
  std::vector<std::pair<std::unique_ptr<Optimizer>, float>> members_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_OPTIMIZER_GROUP_H_
