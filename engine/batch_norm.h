// 2-D batch normalization on oneDNN, optionally fused with the following ReLU
// (oneDNN's fuse_norm_relu: one pass forward, the ReLU mask kept in a
// workspace for backward). Training uses batch statistics and updates the
// running statistics as PyTorch does (momentum 0.1, unbiased variance);
// evaluation uses the running statistics.
//
//   BatchNorm2d bn("layer1.0.bn1", {.channels = 16, .fuse_relu = true});
//   const Tensor& y = bn.Forward(conv_out, Mode::kTrain);
//
// Synchronized batch statistics for data-parallel training: with
// options.cross_replica, training normalizes with the mean and variance of the
// global batch (every replica's part of it) and backward adds the terms the
// other replicas' samples contribute through those statistics, so N replicas
// of batch B compute what one process computes on batch N x B (the global
// gradient times N: each replica's loss is a mean over its own B samples).
#ifndef PSG_ENGINE_BATCH_NORM_H_
#define PSG_ENGINE_BATCH_NORM_H_

#include <string>
#include <vector>

#include "engine/cross_replica.h"
#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/reorder.h"

namespace psg::engine {

struct BatchNormOptions {
  int64_t channels = 0;
  float epsilon = 1e-5f;
  float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch
  bool fuse_relu = false;
  // Sums over data-parallel replicas for synchronized batch statistics (not
  // owned; null: each replica normalizes with its own batch's statistics).
  CrossReplicaSum* cross_replica = nullptr;
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
  struct SyncPlan;
  Plan& PlanFor(const Tensor& x, Mode mode);
  void UpdateRunningStatistics(const Plan& plan, int64_t count);
  // Synchronized statistics: the global batch's mean and variance into the
  // plan's batch_mean / batch_var; returns the global count of values per channel.
  int64_t GlobalStatistics(Plan& plan, const Tensor& x);
  // Synchronized backward: adds the global statistics' terms to diff_src.
  void AddGlobalStatisticsGradient(Plan& plan);

  BatchNormOptions options_;
  Parameter gamma_, beta_, running_mean_, running_var_;
  PlanCache<Plan> train_plans_;
  PlanCache<Plan> eval_plans_;
  Plan* current_ = nullptr;
  Tensor input_;
  std::vector<double> sums_;  // cross-replica sums, reused
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_BATCH_NORM_H_
