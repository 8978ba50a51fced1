#ifndef PSG_DATA_IMAGE_FOLDER_H_
#define PSG_DATA_IMAGE_FOLDER_H_

// An ImageNet-style folder of JPEGs, <root>/<class>/<image>.JPEG, as a loader
// Dataset (torchvision ImageFolder order: classes are the sorted
// subdirectory names, images sorted by file name within each class).
// Samples are decoded on demand and transformed to normalized float CHW:
//   Mode::kTrain: RandomResizedCrop(crop_size) + horizontal flip (p = 0.5)
//   Mode::kEval:  Resize(resize_size) + CenterCrop(crop_size)
// JPEGs are decoded with DCT-domain downscaling to the smallest scale that
// still leaves the crop at least crop_size pixels on each side (jpeg_decoder.h;
// Options::dct_scaling = false decodes every image at full size).
//
//   ImageFolderDataset::Options options;  // training transforms by default
//   absl::StatusOr<ImageFolderDataset> train =
//       ImageFolderDataset::Open("/data/imagenet/train", options);
//   // train->classes()[train->label(i)] is sample i's WordNet id.
//   absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
//       BatchLoader::Create(*train, loader_options);

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "data/image_transforms.h"
#include "data/normalization.h"
#include "engine/rng.h"

namespace psg::data {

class ImageFolderDataset final : public Dataset {
 public:
  enum class Mode { kTrain, kEval };

  struct Options {
    Mode mode = Mode::kTrain;
    int crop_size = 224;
    int resize_size = 256;  // evaluation: shorter side before the center crop
    RandomResizedCropOptions random_crop;
    bool horizontal_flip = true;
    Normalization normalization = ImageNetNormalization();
    bool dct_scaling = true;
  };

  // Lists the folder (files are read later, by WriteSample). Fails if root is
  // not a directory, has no class subdirectories, or a class has no
  // .JPEG/.jpg/.jpeg file.
  static absl::StatusOr<ImageFolderDataset> Open(const std::string& root,
                                                 const Options& options);

  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& path(int64_t i) const { return paths_[i]; }

  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  SampleShape sample_shape() const override {
    return {3, options_.crop_size, options_.crop_size};
  }
  int32_t label(int64_t i) const override { return labels_[i]; }
  // Thread-safe; each thread reuses its own decode and resize buffers.
  absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override;

 private:
  ImageFolderDataset() = default;

  Options options_;
  std::vector<std::string> classes_;
  std::vector<std::string> paths_;
  std::vector<int32_t> labels_;
};

}  // namespace psg::data

#endif  // PSG_DATA_IMAGE_FOLDER_H_
