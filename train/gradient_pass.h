// A pass of training gradients over the first batches of the training set,
// without changing the model: what SNIP (prune/snip.h) needs for its
// saliency |w * g|, and what any one-shot criterion from gradients can use.
//
//   GradientPass pass = TrainingGradients(*model, data, /*batch_size=*/128);
//   absl::StatusOr<int64_t> ran = pass(/*batches=*/1, [&] { saliency.Accumulate(params); });
#ifndef PSG_TRAIN_GRADIENT_PASS_H_
#define PSG_TRAIN_GRADIENT_PASS_H_

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "engine/layer.h"
#include "data/datasets.h"

namespace psg::train {

// SNIP's gradient pass: after_backward() is called after the backward of each
// of the first `batches` batches; returns how many batches it ran.
using GradientPass =
    std::function<absl::StatusOr<int64_t>(int64_t batches, const std::function<void()>& after_backward)>;

// Forward (training mode) and backward of the softmax cross-entropy over
// `data`'s training images in order (unaugmented where available), leaving
// the model's non-trainable state (BatchNorm running statistics) as it was.
// `model` and `data` must outlive the result.
GradientPass TrainingGradients(engine::Layer& model, const data::TrainingData& data, int batch_size);

}  // namespace psg::train

#endif  // PSG_TRAIN_GRADIENT_PASS_H_
