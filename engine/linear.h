// Fully connected layer y = x W^T + b on oneDNN's inner product. A 4-D input
// (e.g. the 1x1 output of global pooling) is flattened in NCHW order, as
// torch.flatten does; the input gradient comes back in the input's dims.
// At Precision::kBf16 the input, its gradient and a per-pass copy of the
// weight are bf16 while the output (the logits an f32 loss reads) and the
// parameter gradients stay f32.
//
//   Linear fc("fc", {.in_features = 64, .out_features = 10});
//   const Tensor& logits = fc.Forward(pooled, Mode::kTrain);  // {N, 10}, plain
#ifndef PSG_ENGINE_LINEAR_H_
#define PSG_ENGINE_LINEAR_H_

#include <optional>
#include <string>

#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/precision.h"
#include "engine/reorder.h"

namespace psg::engine {

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  Precision precision = Precision::kFp32;
};

class Linear : public Layer {
 public:
  Linear(std::string name, const LinearOptions& options);
  ~Linear() override;

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  void CollectParameters(ParameterList* out) override;
  int Export(Graph* graph, int input) const override;

  Parameter& weight() { return weight_; }
  Parameter* bias() { return bias_ ? &*bias_ : nullptr; }

 private:
  struct Plan;
  LinearOptions options_;
  Parameter weight_;
  std::optional<Parameter> bias_;
  PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  bool trained_forward_ = false;
  Tensor empty_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_LINEAR_H_
