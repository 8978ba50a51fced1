#include "data/image_set_dataset.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace psg::data {

absl::StatusOr<ImageSetDataset> ImageSetDataset::Create(
    const ImageSet& images, Mode mode, const CifarAugmenter::Options& options) {
  if (static_cast<int64_t>(images.pixels.size()) !=
          images.count * images.image_size() ||
      static_cast<int64_t>(images.labels.size()) != images.count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ImageSetDataset: ImageSet of %d images of %dx%dx%d has %d pixel "
        "bytes and %d labels",
        images.count, images.channels, images.height, images.width,
        images.pixels.size(), images.labels.size()));
  }
  absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(
      images.channels, images.height, images.width, options);
  if (!augmenter.ok()) return augmenter.status();
  return ImageSetDataset(images, mode, *std::move(augmenter));
}

absl::Status ImageSetDataset::WriteSample(int64_t i, engine::Rng& rng,
                                          float* dst) const {
  if (mode_ == Mode::kTrain) {
    augmenter_.Train(images_->image(i), rng, dst);
  } else {
    augmenter_.Eval(images_->image(i), dst);
  }
  return absl::OkStatus();
}

}  // namespace psg::data
