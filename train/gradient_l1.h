// Gradient-L1 regularization (Alizadeh et al. 2020, "Gradient L1
// regularization for quantization robustness"): training on
//   L(w) + lambda * ||dL/dw_c||_1        (w_c: the covered weights)
// whose gradient dL/dw + lambda * H sign(dL/dw_c) needs a Hessian-vector
// product. That comes from one extra forward/backward pass on the same batch,
// as a forward finite difference of gradients:
//   H v ~ (g(w + step * v) - g(w)) / step,   v = sign(dL/dw_c) (0 elsewhere).
// All parameter values, batch-norm running statistics included, are restored
// bit for bit after the extra pass; buffers are allocated once.
//
//   GradientL1 reg(params, {.lambda = 0.05f});          // all of the model's parameters
//   ... forward, loss, backward ...
//   reg.Apply([&] { loss.Forward(net.Forward(x, kTrain), labels); net.Backward(loss.Backward()); });
//   optimizer.Step(lr);                                   // on the regularized gradients
#ifndef PSG_TRAIN_GRADIENT_L1_H_
#define PSG_TRAIN_GRADIENT_L1_H_

#include <functional>
#include <vector>

#include "engine/parameter.h"
#include "engine/parameter_snapshot.h"

namespace psg::train {

struct GradientL1Options {
  float lambda = 0.05f;
  // The finite difference's step along sign(g): each covered weight moves by
  // this much. Small enough for the local curvature, large enough that the
  // fp32 gradient difference is not rounding noise.
  float step = 1e-3f;
};

class GradientL1 {
 public:
  // `params`: all of the model's parameters (trainable and state). Covered:
  // the convolution and fully connected weights. Throws std::invalid_argument
  // for lambda < 0, step <= 0 or nothing to cover.
  GradientL1(const engine::ParameterList& params, const GradientL1Options& options);

  // Adds lambda * H sign(g_c) to the gradients the last backward pass wrote;
  // `recompute` must rerun that forward, loss and backward pass (same batch,
  // same mode), writing the gradients.
  void Apply(const std::function<void()>& recompute);

  // ||dL/dw_c||_1 before the last Apply: the regularizer's value / lambda.
  double last_gradient_l1() const { return last_gradient_l1_; }

 private:
  GradientL1Options options_;
  engine::ParameterList trainable_, covered_;
  engine::WeightSnapshot values_;  // every parameter, restored after the extra pass
  std::vector<std::vector<float>> gradients_;  // g(w) of trainable_
  double last_gradient_l1_ = 0;
};

}  // namespace psg::train

#endif  // PSG_TRAIN_GRADIENT_L1_H_
