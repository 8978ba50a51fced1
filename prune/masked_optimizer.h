// Training a pruned model: any optimizer (SGD, PSGD, ...) with its masks
// enforced on every step, gradients masked before the update and weights
// re-masked after it, so pruned weights stay exactly 0. The masks are part of
// the optimizer state ("mask/<parameter name>", saved by checkpoints as
// "optim/mask/<parameter name>"), so they survive a checkpoint round trip and
// a resume.
//
//   MaskSet masks = MagnitudeMasks(params, {.sparsity = 0.9});
//   masks.Apply();
//   masks.ZeroMaskedOptimizerState(*sgd);
//   MaskedOptimizer optimizer(std::move(sgd), std::move(masks));
//   Trainer trainer(options, model, optimizer, schedule, data);
#ifndef PSG_PRUNE_MASKED_OPTIMIZER_H_
#define PSG_PRUNE_MASKED_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/optimizer.h"
#include "prune/mask.h"

namespace psg::prune {

class MaskedOptimizer : public engine::Optimizer {
 public:
  MaskedOptimizer(std::unique_ptr<engine::Optimizer> inner, MaskSet masks);

  // Masks the gradients, runs the inner step, re-masks the weights.
  void Step(float lr) override;
  // The inner optimizer's state, then the masks ("mask/<parameter name>").
  std::vector<std::pair<std::string, engine::Tensor>> State() override;
  int64_t steps() const override { return inner_->steps(); }
  void set_steps(int64_t steps) override { inner_->set_steps(steps); }

  engine::Optimizer& inner() { return *inner_; }
  const MaskSet& masks() const { return masks_; }
  // The masks to rewrite (e.g. a gradual schedule pruning further).
  MaskSet& mutable_masks() { return masks_; }

 private:
  std::unique_ptr<engine::Optimizer> inner_;
  MaskSet masks_;
};

}  // namespace psg::prune

#endif  // PSG_PRUNE_MASKED_OPTIMIZER_H_
