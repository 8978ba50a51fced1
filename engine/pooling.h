// Max and average 2-D pooling on oneDNN, and global average pooling (the
// kernel covers the whole input). Max pooling keeps its argmax workspace from
// the training forward for backward.
//
//   Pool2d pool("maxpool", {.kind = PoolKind::kMax, .kernel = 3, .stride = 2, .padding = 1});
//   Pool2d gap("avgpool", {.kind = PoolKind::kGlobalAverage});
#ifndef PSG_ENGINE_POOLING_H_
#define PSG_ENGINE_POOLING_H_

#include <string>

#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/pool_options.h"
#include "engine/reorder.h"

namespace psg::engine {

class Pool2d : public Layer {
 public:
  Pool2d(std::string name, const PoolOptions& options);
  ~Pool2d() override;

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  int Export(Graph* graph, int input) const override;

 private:
  struct Plan;
  PoolOptions options_;
  PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  bool trained_forward_ = false;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_POOLING_H_
