// Adam (Kingma & Ba 2015) as torch.optim.Adam computes it (L2 weight decay
// added to the gradient, no amsgrad), one vectorized pass per tensor
// (engine/adam_kernel.h). The plain optimizer beside SGD: for an Adam-trained
// baseline, and for parameters that want a step that does not shrink with
// their gradient (L0's gates).
//
//   Adam adam(TrainableOnly(params), {.weight_decay = 0});
//   adam.Step(1e-3f);                    // after Backward has filled the grads
//   for (const auto& [name, tensor] : adam.State()) checkpoint.Save(name, tensor);
#ifndef PSG_ENGINE_ADAM_H_
#define PSG_ENGINE_ADAM_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "engine/tensor.h"

namespace psg::engine {

struct AdamOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

class Adam : public Optimizer {
 public:
  // Throws std::invalid_argument for betas outside [0, 1), eps <= 0, a
  // negative weight decay or a parameter that is not trainable.
  Adam(ParameterList params, const AdamOptions& options);

  void Step(float lr) override;
  // "<parameter name>/adam_m" and "<parameter name>/adam_v" (the names PSGD's
  // Adam uses) for each parameter.
  std::vector<std::pair<std::string, Tensor>> State() override;
  int64_t steps() const override { return steps_; }
  void set_steps(int64_t steps) override { steps_ = steps; }

 private:
  ParameterList params_;
  AdamOptions options_;
  std::vector<Tensor> first_moments_, second_moments_;
  int64_t steps_ = 0;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_ADAM_H_
