// Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune";
// AGP): while training, every `frequency` steps from `start_step` t0 to
// `end_step` t0 + n * dt the covered weights are pruned by magnitude to
//
//   s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (n * dt))^3,
//
// layer-wise or with one global threshold (prune/magnitude.h's exact
// selection: round(s_t * n) weights). Masks are monotone: a pruned weight
// stays pruned (it sorts below every unpruned one), and only unpruned weights
// are ranked by |w|. Between pruning steps the masks are enforced as by
// MaskedOptimizer (gradients masked, weights re-masked); the masks are part
// of the optimizer state ("mask/<parameter name>"), so a resume continues the
// schedule exactly.
//
//   AgpOptimizer optimizer(std::move(sgd), params,
//                          {.final_sparsity = 0.9, .start_step = 0, .end_step = 3000, .frequency = 100});
//   Trainer trainer(options, model, optimizer, schedule, data);
#ifndef PSG_PRUNE_AGP_H_
#define PSG_PRUNE_AGP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "prune/magnitude.h"
#include "prune/mask.h"
#include "prune/masked_optimizer.h"

namespace psg::prune {

struct AgpOptions {
  double initial_sparsity = 0.0;  // s_i, at start_step
  double final_sparsity = 0.5;    // s_f, from end_step on
  int64_t start_step = 0;         // t0: optimizer steps taken before the first pruning
  int64_t end_step = 0;           // t0 + n * dt: the last pruning
  int64_t frequency = 100;        // dt, in optimizer steps
  Scope scope = Scope::kLayer;
  bool prune_first_last = false;
};

// Throws std::invalid_argument unless 0 <= s_i <= s_f < 1, 0 <= t0 <= end,
// dt >= 1 and dt divides end - t0.
void CheckAgpOptions(const AgpOptions& options);

// Whether the schedule prunes before optimizer step `step` (0-based: the
// number of steps taken so far): t0 <= step <= end and dt divides step - t0.
bool IsAgpPruningStep(const AgpOptions& options, int64_t step);

// s_t of the closed form: s_i up to t0, s_f from end on (also when end == t0).
double AgpSparsity(const AgpOptions& options, int64_t step);

// Any optimizer with AGP's masks: Step prunes at the scheduled steps, then
// masks the gradients, runs the inner step and re-masks the weights.
class AgpOptimizer : public engine::Optimizer {
 public:
  // `params`: the model's whole list (coverage as in MagnitudeOptions).
  // Throws std::invalid_argument for bad options.
  AgpOptimizer(std::unique_ptr<engine::Optimizer> inner, const engine::ParameterList& params,
               const AgpOptions& options);

  void Step(float lr) override;
  // The inner optimizer's state, then the masks ("mask/<parameter name>").
  std::vector<std::pair<std::string, engine::Tensor>> State() override;
  int64_t steps() const override { return masked_.steps(); }
  void set_steps(int64_t steps) override { masked_.set_steps(steps); }

  // Prunes by magnitude to `sparsity` (never unpruning a weight: a sparsity
  // below the masks' keeps them), zeroes the
  // pruned weights and their optimizer state. Step calls it on schedule.
  void PruneTo(double sparsity);

  engine::Optimizer& inner() { return masked_.inner(); }
  const MaskSet& masks() const { return masked_.masks(); }
  const AgpOptions& options() const { return options_; }

 private:
  AgpOptions options_;
  MaskedOptimizer masked_;  // the inner optimizer with the masks, all ones at first
  int64_t total_ = 0;       // covered weights
};

}  // namespace psg::prune

#endif  // PSG_PRUNE_AGP_H_
