// Elementwise a + b (optionally followed by ReLU, fused as a oneDNN post-op):
// the join of a residual block. `b` is converted to `a`'s layout if they
// differ. The same class sums the two gradients that meet where a block's
// input fans out to its main path and its shortcut.
//
//   Add join("layer1.0.add", /*relu=*/true);
//   const Tensor& out = join.Forward(main_path, shortcut, Mode::kTrain);
//   const Tensor& d = join.Backward(dout);   // gradient for both inputs
//
//   Add sum("layer1.0.grad_sum", /*relu=*/false);
//   const Tensor& dx = sum.Forward(dx_main, dx_shortcut, Mode::kEval);
#ifndef PSG_ENGINE_ADD_H_
#define PSG_ENGINE_ADD_H_

#include <string>

#include "engine/plan_cache.h"
#include "engine/reorder.h"
#include "engine/tensor.h"
#include "engine/layer.h"

namespace psg::engine {

class Add {
 public:
  Add(std::string name, bool relu);
  ~Add();
  Add(const Add&) = delete;
  Add& operator=(const Add&) = delete;

  const Tensor& Forward(const Tensor& a, const Tensor& b, Mode mode);
  // Gradient with respect to a (and b: they are the same).
  const Tensor& Backward(const Tensor& dy);
  // Appends the node a + b (relu fused as in Forward) reading nodes `a` and
  // `b`; returns its id (engine/graph.h).
  int Export(Graph* graph, int a, int b) const;

  const std::string& name() const { return name_; }

 private:
  struct Plan;
  std::string name_;
  bool relu_;
  PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  bool trained_forward_ = false;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_ADD_H_
