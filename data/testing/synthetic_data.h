// Tiny synthetic image data for training-loop tests: each image's class shows
// as one brighter horizontal band (channels == 1) or one brighter colour plane
// (channels > 1), with noise, so a few steps of training make real progress.
//
//   std::unique_ptr<TrainingData> data = SyntheticData({.channels = 1, .size = 28});
//   Trainer trainer(options, *model, optimizer, *schedule, *data);
#ifndef PSG_DATA_TESTING_SYNTHETIC_DATA_H_
#define PSG_DATA_TESTING_SYNTHETIC_DATA_H_

#include <cstdint>
#include <memory>

#include "data/datasets.h"

namespace psg::data {

struct SyntheticDataOptions {
  int channels = 3;
  int size = 32;  // height and width
  int classes = 3;
  int64_t train_images = 48;
  int64_t test_images = 16;
  uint32_t seed = 5;
};

// Training with flips only (no crop padding), normalized to mean 0.4, std 0.25.
std::unique_ptr<TrainingData> SyntheticData(const SyntheticDataOptions& options);

}  // namespace psg::data

#endif  // PSG_DATA_TESTING_SYNTHETIC_DATA_H_
