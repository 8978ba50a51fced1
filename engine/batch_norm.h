// 2-D batch normalization on oneDNN, optionally fused with the following ReLU
// (oneDNN's fuse_norm_relu: one pass forward, the ReLU mask kept in a
// workspace for backward). Training uses batch statistics and updates the
// running statistics as PyTorch does (momentum 0.1, unbiased variance);
// evaluation uses the running statistics.
//
//   BatchNorm2d bn("layer1.0.bn1", {.channels = 16, .fuse_relu = true});
//   const Tensor& y = bn.Forward(conv_out, Mode::kTrain);
#ifndef PSG_ENGINE_BATCH_NORM_H_
#define PSG_ENGINE_BATCH_NORM_H_

#include <string>

#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/reorder.h"

namespace psg::engine {

struct BatchNormOptions {
  int64_t channels = 0;
  float epsilon = 1e-5f;
  float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch
  bool fuse_relu = false;
};

class BatchNorm2d : public Layer {
 public:
  BatchNorm2d(std::string name, const BatchNormOptions& options);
  ~BatchNorm2d() override;

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  void CollectParameters(ParameterList* out) override;
  int Export(Graph* graph, int input) const override;

  const BatchNormOptions& options() const { return options_; }
  Parameter& gamma() { return gamma_; }
  Parameter& beta() { return beta_; }
  Parameter& running_mean() { return running_mean_; }
  Parameter& running_var() { return running_var_; }

 private:
  struct Plan;
  Plan& PlanFor(const Tensor& x, Mode mode);
  void UpdateRunningStatistics(const Plan& plan, int64_t count);

  BatchNormOptions options_;
  Parameter gamma_, beta_, running_mean_, running_var_;
  PlanCache<Plan> train_plans_;
  PlanCache<Plan> eval_plans_;
  Plan* current_ = nullptr;
  Tensor input_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_BATCH_NORM_H_
