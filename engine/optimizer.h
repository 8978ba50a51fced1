// Optimizers over the engine's trainable parameters, with a hook where a
// gradient transform (PSG scaling, pruning masks) plugs in.
//
//   Sgd sgd(TrainableOnly(params), {.momentum = 0.9f, .weight_decay = 5e-4f});
//   sgd.AddHook(&mask);              // not owned
//   sgd.Step(schedule.At(step));     // after Backward has filled the grads
#ifndef PSG_ENGINE_OPTIMIZER_H_
#define PSG_ENGINE_OPTIMIZER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "engine/parameter.h"
#include "engine/sgd_kernel.h"

namespace psg::engine {

// Called for every trainable parameter on every step.
class OptimizerHook {
 public:
  virtual ~OptimizerHook() = default;
  // Before the update: may rewrite the loss gradient in place (weight decay
  // is added after this, as PSG's released code does).
  virtual void TransformGradient(const Parameter& param, absl::Span<float> grad) {
    (void)param;
    (void)grad;
  }
  // After the update: may fix up the weights and the optimizer state (e.g.
  // keep pruned weights and their momentum at zero).
  virtual void AfterUpdate(Parameter& param, absl::Span<float> state) {
    (void)param;
    (void)state;
  }
};

// What a trainer needs of any optimizer: a step, and named state tensors that
// checkpoints save and restore ("<parameter name>/momentum", ...).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void Step(float lr) = 0;
  virtual std::vector<std::pair<std::string, Tensor>> State() = 0;
  virtual int64_t steps() const = 0;
  virtual void set_steps(int64_t steps) = 0;
};

struct SgdOptions {
  float momentum = 0.9f;
  float dampening = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(ParameterList params, const SgdOptions& options);

  void AddHook(OptimizerHook* hook);
  void Step(float lr) override;
  // "<parameter name>/momentum" for each parameter.
  std::vector<std::pair<std::string, Tensor>> State() override;

  const SgdOptions& options() const { return options_; }
  const ParameterList& parameters() const { return params_; }
  // Momentum buffer i belongs to parameters()[i]; checkpoints save these.
  std::vector<Tensor>& momentum_buffers() { return buffers_; }
  int64_t steps() const override { return steps_; }
  void set_steps(int64_t steps) override { steps_ = steps; }

 private:
  ParameterList params_;
  SgdOptions options_;
  std::vector<Tensor> buffers_;
  std::vector<OptimizerHook*> hooks_;
  int64_t steps_ = 0;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_OPTIMIZER_H_
