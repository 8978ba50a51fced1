// Softmax cross-entropy over a batch of logits {N, K}, mean over the batch,
// with optional label smoothing (targets (1 - s) one_hot + s / K, as
// torch.nn.CrossEntropyLoss(label_smoothing=s)).
//
//   SoftmaxCrossEntropy loss({.label_smoothing = 0.1f});
//   double value = loss.Forward(logits, labels);   // also counts correct top-1
//   const Tensor& dlogits = loss.Backward();
#ifndef PSG_ENGINE_LOSS_H_
#define PSG_ENGINE_LOSS_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "engine/tensor.h"

namespace psg::engine {

struct LossOptions {
  float label_smoothing = 0.0f;
};

class SoftmaxCrossEntropy {
 public:
  explicit SoftmaxCrossEntropy(const LossOptions& options);

  // Mean loss over the batch. Throws on a label outside [0, K).
  double Forward(const Tensor& logits, absl::Span<const int32_t> labels);
  // d(mean loss)/d(logits), plain {N, K}.
  const Tensor& Backward();
  // Samples of the last Forward whose arg-max logit equals the label.
  int64_t correct() const { return correct_; }

 private:
  LossOptions options_;
  Tensor probabilities_;  // softmax of the last logits
  Tensor grad_;
  std::vector<int32_t> labels_;
  int64_t correct_ = 0;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_LOSS_H_
