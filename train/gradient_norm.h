// Gradient-norm regularization for quantization robustness (Alizadeh et al.
// 2020, "Gradient L1 regularization for quantization robustness", and the
// Gradient-L2 baseline the PSG paper compares with): training on
//   L1: L(w) + lambda * ||dL/dw_c||_1    (w_c: the covered weights)
//   L2: L(w) + lambda * ||dL/dw_c||_2    (the dual norms of l-inf- and
//       l2-bounded weight perturbations: first-order loss increase bounds)
// whose gradient dL/dw + lambda * H v, v = sign(dL/dw_c) (L1) or
// dL/dw_c / ||dL/dw_c||_2 (L2), 0 elsewhere, needs a Hessian-vector product.
// That comes from one extra forward/backward pass on the same batch, as a
// forward finite difference of gradients:
//   H v ~ (g(w + h * v) - g(w)) / h,
// h = step for L1 (each covered weight moves by step) and step * sqrt(n_c)
// for L2 (the same l2 length of displacement). All parameter values,
// batch-norm running statistics included, are restored bit for bit after the
// extra pass; buffers are allocated once.
//
//   GradientNormRegularizer reg(params, {.lambda = 0.05f});   // all of the model's parameters
//   ... forward, loss, backward ...
//   reg.Apply([&] { loss.Forward(net.Forward(x, kTrain), labels); net.Backward(loss.Backward()); });
//   optimizer.Step(lr);                                   // on the regularized gradients
#ifndef PSG_TRAIN_GRADIENT_NORM_H_
#define PSG_TRAIN_GRADIENT_NORM_H_

#include <functional>
#include <vector>

#include "engine/parameter.h"
#include "engine/parameter_snapshot.h"

namespace psg::train {

enum class GradientNorm { kL1, kL2 };

struct GradientNormOptions {
  GradientNorm norm = GradientNorm::kL1;
  float lambda = 0.05f;
  // The finite difference's step (see above): along sign(g) each covered
  // weight moves by this much. Small enough for the local curvature, large enough that the
  // fp32 gradient difference is not rounding noise.
  float step = 1e-3f;
};

class GradientNormRegularizer {
 public:
  // `params`: all of the model's parameters (trainable and state). Covered:
  // the convolution and fully connected weights. Throws std::invalid_argument
  // for lambda < 0, step <= 0 or nothing to cover.
  GradientNormRegularizer(const engine::ParameterList& params, const GradientNormOptions& options);

  // Adds lambda * H v to the gradients the last backward pass wrote;
  // `recompute` must rerun that forward, loss and backward pass (same batch,
  // same mode), writing the gradients.
  void Apply(const std::function<void()>& recompute);

  // ||dL/dw_c|| (the chosen norm) before the last Apply: the regularizer's value / lambda.
  double last_gradient_norm() const { return last_gradient_norm_; }

 private:
  GradientNormOptions options_;
  engine::ParameterList trainable_, covered_;
  engine::WeightSnapshot values_;  // every parameter, restored after the extra pass
  std::vector<std::vector<float>> gradients_;  // g(w) of trainable_
  double last_gradient_norm_ = 0;
};

}  // namespace psg::train

#endif  // PSG_TRAIN_GRADIENT_NORM_H_
