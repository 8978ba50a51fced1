// The evaluation-mode logits of a model on the first test images, with the
// images exactly as the model saw them (normalized, NCHW) and their labels, as
// .npy files: the toolkit's side of a side-by-side check against another
// framework or runtime (//experiments:logits, export_onnx --reference_dir).
//
//   absl::StatusOr<LogitsDump> d = WriteLogitsNpy(model, *data->test, {.batch_size = 128,
//                                                 .max_images = 256}, "runs/r20/logits");
//   -> logits.npy (N x classes, float32), images.npy (N x C x H x W), labels.npy (int32)
#ifndef PSG_PIPELINE_LOGITS_DUMP_H_
#define PSG_PIPELINE_LOGITS_DUMP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "engine/layer.h"
#include "train/batches.h"

namespace psg::pipeline {

struct LogitsDump {
  int64_t images = 0;
  int64_t classes = 0;
  double accuracy = 0;  // top-1 over the images written
};

// Runs `model` over the first pass.max_images images of `test` (0: all) and
// writes exactly those into `dir` (created if needed).
absl::StatusOr<LogitsDump> WriteLogitsNpy(engine::Layer& model, const data::Dataset& test,
                                          const train::BatchPass& pass, const std::string& dir);

}  // namespace psg::pipeline

#endif  // PSG_PIPELINE_LOGITS_DUMP_H_
