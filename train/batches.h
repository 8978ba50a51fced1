// Visiting a data set's batches in order (no shuffling, no augmentation beyond
// the data set's own transform): evaluation, calibration and timing passes.
//
//   absl::Status s = ForEachBatch(*data.test, {.batch_size = 128},
//                                 [&](const engine::Tensor& images, const data::Batch& batch) {
//                                   Score(model.Forward(images, engine::Mode::kEval), batch.labels);
//                                 });
#ifndef PSG_TRAIN_BATCHES_H_
#define PSG_TRAIN_BATCHES_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "engine/tensor.h"

namespace psg::train {

// An input tensor {N, C, H, W} that views a loader batch's buffer (no copy):
// the memory object is created once per shape and re-pointed at each batch.
class BatchView {
 public:
  const engine::Tensor& View(const data::Batch& batch);

 private:
  engine::Tensor tensor_;
};

struct BatchPass {
  int batch_size = 128;
  int64_t max_images = 0;  // stop after at least this many images (0: all)
  int workers = 1;         // loader threads
};

// Calls visit(images {N, C, H, W}, batch) for each batch of `dataset` in
// order; `images` views the loader's buffer (no copy) and is valid during the
// call only.
absl::Status ForEachBatch(
    const data::Dataset& dataset, const BatchPass& pass,
    const std::function<void(const engine::Tensor& images, const data::Batch& batch)>& visit);

// A copy of the first batch of `dataset` (in order) holding exactly
// `batch_size` images, N * C * H * W floats: the input of timing passes. An
// error when the data set is smaller than one batch.
absl::StatusOr<std::vector<float>> FirstFullBatch(const data::Dataset& dataset, int batch_size,
                                                  int workers);

}  // namespace psg::train

#endif  // PSG_TRAIN_BATCHES_H_
