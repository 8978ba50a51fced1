// 2-D convolution (dilation 1) on oneDNN with optional bias and groups.
// The weight is a plain {out, in/groups, k, k} parameter; the primitive's
// preferred (blocked) layouts for activations and weights are chosen with
// format_tag::any and converted only where they differ. At Precision::kBf16
// (engine/precision.h) activations and their gradients are bf16 (an f32
// input is converted in the same reorder as its layout), each pass reads a
// bf16 copy of the f32 weight made by one reorder into a buffer kept across
// steps, and the weight gradient comes out of the primitive in f32.
//
//   Conv2d conv("layer1.0.conv1", {.in_channels = 16, .out_channels = 16,
//                                  .kernel = 3, .stride = 1, .padding = 1});
//   const Tensor& y = conv.Forward(x, Mode::kTrain);
//   const Tensor& dx = conv.Backward(dy);   // fills conv.weight().grad
#ifndef PSG_ENGINE_CONV2D_H_
#define PSG_ENGINE_CONV2D_H_

#include <memory>
#include <optional>
#include <string>

#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/precision.h"
#include "engine/reorder.h"

namespace psg::engine {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t groups = 1;
  bool bias = false;
  // False for a network's first layer: Backward then skips the data gradient
  // and returns an empty tensor.
  bool input_grad = true;
  // False for a frozen layer: Backward leaves the parameter gradients alone.
  bool weight_grad = true;
  // Forces plain NCHW activations instead of the primitive's choice (tests).
  bool plain_layout = false;
  Precision precision = Precision::kFp32;
};

class Conv2d : public Layer {
 public:
  Conv2d(std::string name, const Conv2dOptions& options);
  ~Conv2d() override;

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  void CollectParameters(ParameterList* out) override;
  int Export(Graph* graph, int input) const override;

  const Conv2dOptions& options() const { return options_; }
  Parameter& weight() { return weight_; }
  Parameter* bias() { return bias_ ? &*bias_ : nullptr; }
  // Output spatial size for an input size.
  int64_t OutputSize(int64_t input_size) const;

 private:
  struct Plan;
  Plan& PlanFor(const Tensor& x);

  Conv2dOptions options_;
  Parameter weight_;
  std::optional<Parameter> bias_;
  Tensor weight_view_;       // weight_.value as the primitive's logical dims
  Tensor weight_grad_view_;  // weight_.grad likewise
  PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  Tensor input_;
  Tensor empty_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_CONV2D_H_
