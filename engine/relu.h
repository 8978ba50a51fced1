// ReLU on oneDNN's eltwise primitive, in the input's own layout. Prefer
// BatchNorm2d's fuse_relu or ResidualAdd's relu where a ReLU follows them.
//
//   Relu relu("relu");
//   const Tensor& y = relu.Forward(x, Mode::kTrain);
#ifndef PSG_ENGINE_RELU_H_
#define PSG_ENGINE_RELU_H_

#include <string>

#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/reorder.h"

namespace psg::engine {

class Relu : public Layer {
 public:
  explicit Relu(std::string name);
  ~Relu() override;

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  int Export(Graph* graph, int input) const override;

 private:
  struct Plan;
  PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  Tensor input_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_RELU_H_
