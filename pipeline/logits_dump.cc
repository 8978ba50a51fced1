#include "pipeline/logits_dump.h"

#include <algorithm>
#include <vector>

#include "io/files.h"
#include "io/npy.h"

namespace psg::pipeline {

absl::StatusOr<LogitsDump> WriteLogitsNpy(engine::Layer& model, const data::Dataset& test,
                                          const train::BatchPass& pass, const std::string& dir) {
  std::vector<float> logits, images;
  std::vector<int32_t> labels;
  std::vector<int64_t> image_shape;
  int64_t classes = 0;
  const absl::Status s = train::ForEachBatch(
      test, pass, [&](const engine::Tensor& x, const data::Batch& batch) {
        const std::vector<float> y = model.Forward(x, engine::Mode::kEval).ToPlain();
        classes = static_cast<int64_t>(y.size()) / batch.n;
        image_shape = {batch.c, batch.h, batch.w};
        logits.insert(logits.end(), y.begin(), y.end());
        images.insert(images.end(), batch.images.begin(), batch.images.end());
        labels.insert(labels.end(), batch.labels.begin(), batch.labels.end());
      });
  if (!s.ok()) return s;
  // Whole batches were run; keep exactly the images asked for.
  const int64_t n = pass.max_images > 0 ? std::min<int64_t>(pass.max_images, labels.size()) : labels.size();
  if (n == 0) return absl::InvalidArgumentError("the test set has no images");
  logits.resize(n * classes);
  images.resize(n * image_shape[0] * image_shape[1] * image_shape[2]);
  labels.resize(n);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * classes;
    correct += std::max_element(row, row + classes) - row == labels[i];
  }

  if (absl::Status w = io::CheckWritableDirectory(dir); !w.ok()) return w;
  for (const absl::Status& w :
       {io::WriteNpy(dir + "/logits.npy", {n, classes}, logits),
        io::WriteNpy(dir + "/images.npy", {n, image_shape[0], image_shape[1], image_shape[2]}, images),
        io::WriteNpy(dir + "/labels.npy", {n}, labels)}) {
    if (!w.ok()) return w;
  }
  return LogitsDump{n, classes, static_cast<double>(correct) / n};
}

}  // namespace psg::pipeline
