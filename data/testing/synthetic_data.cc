#include "data/testing/synthetic_data.h"

#include <random>
#include <vector>

#include "data/augment.h"
#include "data/image_set_dataset.h"

namespace psg::data {

std::unique_ptr<TrainingData> SyntheticData(const SyntheticDataOptions& o) {
  auto data = std::make_unique<TrainingData>();
  std::mt19937 rng(o.seed);
  const int64_t plane = int64_t{o.size} * o.size;
  auto fill = [&](ImageSet& set, int64_t count) {
    set.count = count;
    set.channels = o.channels;
    set.height = set.width = o.size;
    set.num_classes = o.classes;
    set.pixels.resize(count * o.channels * plane);
    set.labels.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      const int label = static_cast<int>(i % o.classes);
      set.labels[i] = label;
      for (int64_t k = 0; k < o.channels * plane; ++k) {
        const bool lit = o.channels > 1 ? k / plane == label : k / o.size * o.classes / o.size == label;
        set.pixels[i * o.channels * plane + k] = static_cast<uint8_t>((lit ? 160 : 45) + rng() % 60);
      }
    }
  };
  fill(data->train_images, o.train_images);
  fill(data->test_images, o.test_images);
  data->num_classes = o.classes;
  CifarAugmenter::Options augment;
  augment.pad = 0;
  augment.normalization = {std::vector<float>(o.channels, 0.4f), std::vector<float>(o.channels, 0.25f)};
  data->train = std::make_unique<ImageSetDataset>(*ImageSetDataset::Create(
      data->train_images, ImageSetDataset::Mode::kTrain, augment));
  data->train_unaugmented = std::make_unique<ImageSetDataset>(*ImageSetDataset::Create(
      data->train_images, ImageSetDataset::Mode::kEval, augment));
  data->test = std::make_unique<ImageSetDataset>(*ImageSetDataset::Create(
      data->test_images, ImageSetDataset::Mode::kEval, augment));
  return data;
}

}  // namespace psg::data
