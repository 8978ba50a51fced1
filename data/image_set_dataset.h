#ifndef PSG_DATA_IMAGE_SET_DATASET_H_
#define PSG_DATA_IMAGE_SET_DATASET_H_

// An in-memory ImageSet (CIFAR, MNIST) as a loader Dataset, augmented with
// CifarAugmenter for training or only normalized for evaluation.
//
//   absl::StatusOr<ImageSet> train = ReadCifar10(dir, Split::kTrain);
//   absl::StatusOr<ImageSetDataset> dataset =
//       ImageSetDataset::Create(*train, ImageSetDataset::Mode::kTrain);
//   // *train must outlive *dataset.

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_set.h"
#include "engine/rng.h"

namespace psg::data {

class ImageSetDataset final : public Dataset {
 public:
  enum class Mode { kTrain, kEval };

  // `images` is referenced, not copied.
  static absl::StatusOr<ImageSetDataset> Create(
      const ImageSet& images, Mode mode,
      const CifarAugmenter::Options& options = CifarAugmenter::Options());

  int64_t size() const override { return images_->count; }
  SampleShape sample_shape() const override {
    return {images_->channels, images_->height, images_->width};
  }
  int32_t label(int64_t i) const override { return images_->labels[i]; }
  absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override;

 private:
  ImageSetDataset(const ImageSet& images, Mode mode, CifarAugmenter augmenter)
      : images_(&images), mode_(mode), augmenter_(std::move(augmenter)) {}

  const ImageSet* images_;
  Mode mode_;
  CifarAugmenter augmenter_;
};

}  // namespace psg::data

#endif  // PSG_DATA_IMAGE_SET_DATASET_H_
