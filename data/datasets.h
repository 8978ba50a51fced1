// The training and test sets of a named dataset, read from its official
// files and wrapped for the batch loader (augmentation on the training set,
// normalization only on the test set).
//
//   absl::StatusOr<std::unique_ptr<TrainingData>> data =
//       LoadTrainingData("cifar10", "/data");   // /data/cifar-10-batches-bin/
//   data = LoadTrainingData("imagenet", "/data/ilsvrc2012");  // train/, val/
#ifndef PSG_DATA_DATASETS_H_
#define PSG_DATA_DATASETS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "data/image_set.h"
#include "data/normalization.h"

namespace psg::data {

struct TrainingData {
  ImageSet train_images, test_images;
  std::unique_ptr<Dataset> train, test;
  // The training images with the test set's transform (normalization, no
  // augmentation): calibration data for post-training quantization.
  std::unique_ptr<Dataset> train_unaugmented;
  int num_classes = 0;
  // What every sample is normalized with: (pixel / 255 - mean[c]) / stddev[c].
  Normalization normalization;
  // What `test` holds, for result files: "test", or the held-out training
  // images after HoldOut().
  std::string evaluation_set = "test";
  // Datasets the three above are views of (after HoldOut()), kept alive here.
  std::vector<std::unique_ptr<Dataset>> viewed;
};

// Names: cifar10 (<dir>/cifar-10-batches-bin), cifar100 (<dir>/cifar-100-binary,
// fine labels), fashion_mnist (<dir> with the four IDX files, plain or gzip),
// imagenet (<dir>/train/<wnid>/*.JPEG and <dir>/val/<wnid>/*.JPEG, as
// torchvision's ImageFolder reads them: RandomResizedCrop(224) + flip for
// training, resize 256 + center crop 224 for evaluation; the images are read
// as batches are made, and the ImageSets stay empty).
std::vector<std::string> DatasetNames();
absl::StatusOr<std::unique_ptr<TrainingData>> LoadTrainingData(const std::string& name,
                                                               const std::string& dir);
// The first min(n, size) samples of `dataset` (which must outlive the result).
std::unique_ptr<Dataset> Prefix(const Dataset& dataset, int64_t n);
// Samples [begin, end) of `dataset` (clipped to it), numbered from 0.
std::unique_ptr<Dataset> Slice(const Dataset& dataset, int64_t begin, int64_t end);

// Holds out `n` training images as the evaluation set, as the released
// hyper-parameter search does (PSG-pytorch utils.py,
// get_cifar100_dataloaders_disjoint: a seeded shuffle of the training indices,
// the first 10,000 for validation, the rest for training). Afterwards `test`
// is those n images with the evaluation transform (released: with the training
// augmentation), `train` and `train_unaugmented` the other images, and
// `evaluation_set` says so. The shuffle is engine::Rng(seed)'s Fisher-Yates, so
// the indices differ from numpy's. An error unless 0 < n < training images.
absl::Status HoldOut(TrainingData& data, int64_t n, uint64_t seed);

// The default data directory: $PSG_DATA_DIR, else $HOME/.cache/psg-toolkit/data
// (where tools/get_cifar10.sh puts CIFAR-10).
std::string DefaultDataDir();

}  // namespace psg::data

#endif  // PSG_DATA_DATASETS_H_
