// Lipschitz regularization (Lin, Gan, Han 2019, "Defensive Quantization: When
// Efficiency Meets Robustness"), a baseline of the PSG paper: keeps each
// convolution and fully connected weight W, seen as a matrix of out rows by
// fan_in columns, near orthonormal, which bounds the layer's Lipschitz
// constant by 1 and keeps quantization noise from growing through depth:
//   beta / 2 * ||W W^T - I||_F^2   (out <= fan_in: orthonormal rows)
//   beta / 2 * ||W^T W - I||_F^2   (out > fan_in: orthonormal columns)
// summed over the layers, added to the loss. Its gradient, 2 beta (W W^T - I) W
// or 2 beta W (W^T W - I), needs no extra pass: Apply adds it to the
// gradients of the last backward pass. Buffers are allocated once.
//
//   LipschitzRegularizer reg(params, {.beta = 3e-4f});
//   trainer.AddGradientHook([&](const auto&) { reg.Apply(); });
#ifndef PSG_TRAIN_LIPSCHITZ_H_
#define PSG_TRAIN_LIPSCHITZ_H_

#include <vector>

#include "engine/parameter.h"

namespace psg::train {

struct LipschitzOptions {
  float beta = 3e-4f;
};

class LipschitzRegularizer {
 public:
  // `params`: the model's parameters; covered: the trainable convolution and
  // fully connected weights. Throws std::invalid_argument for beta < 0 or
  // nothing to cover.
  LipschitzRegularizer(const engine::ParameterList& params, const LipschitzOptions& options);

  // Adds the penalty's gradient to the covered weights' gradients.
  void Apply();

  // The penalty (beta / 2 * sum of ||.||_F^2) at the last Apply's weights.
  double last_penalty() const { return last_penalty_; }

 private:
  LipschitzOptions options_;
  engine::ParameterList covered_;
  std::vector<double> gram_;  // the largest layer's Gram matrix
  double last_penalty_ = 0;
};

}  // namespace psg::train

#endif  // PSG_TRAIN_LIPSCHITZ_H_
