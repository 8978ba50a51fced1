#include "data/datasets.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/augment.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/image_set_dataset.h"
#include "data/normalization.h"
#include "engine/rng.h"

namespace psg::data {

std::vector<std::string> DatasetNames() {
  return {"cifar10", "cifar100", "fashion_mnist", "imagenet"};
}

namespace {

class SliceDataset final : public Dataset {
 public:
  SliceDataset(const Dataset& base, int64_t begin, int64_t end)
      : base_(base), begin_(begin), size_(end - begin) {}
  int64_t size() const override { return size_; }
  SampleShape sample_shape() const override { return base_.sample_shape(); }
  int32_t label(int64_t i) const override { return base_.label(begin_ + i); }
  absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override {
    return base_.WriteSample(begin_ + i, rng, dst);
  }

 private:
  const Dataset& base_;
  int64_t begin_, size_;
};

// The samples of `base` at `indices`, in that order.
class IndexedDataset final : public Dataset {
 public:
  IndexedDataset(const Dataset& base, std::vector<int64_t> indices)
      : base_(base), indices_(std::move(indices)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  SampleShape sample_shape() const override { return base_.sample_shape(); }
  int32_t label(int64_t i) const override { return base_.label(indices_[i]); }
  absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override {
    return base_.WriteSample(indices_[i], rng, dst);
  }

 private:
  const Dataset& base_;
  std::vector<int64_t> indices_;
};

// 0..size-1 shuffled by Fisher-Yates with engine::Rng(seed).
std::vector<int64_t> ShuffledIndices(int64_t size, uint64_t seed) {
  std::vector<int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  engine::Rng rng(seed);
  for (int64_t i = size - 1; i > 0; --i) {
    std::swap(order[i], order[rng.UniformInt(static_cast<uint64_t>(i) + 1)]);
  }
  return order;
}

}  // namespace

absl::Status HoldOut(TrainingData& data, int64_t n, uint64_t seed) {
  const int64_t size = data.train->size();
  if (n <= 0 || n >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot hold out ", n, " of ", size, " training images: it must be between 1 and ",
        size - 1));
  }
  const std::vector<int64_t> order = ShuffledIndices(size, seed);
  std::vector<int64_t> held(order.begin(), order.begin() + n), kept(order.begin() + n, order.end());
  // Training keeps its usual order (the loader shuffles per epoch).
  std::sort(kept.begin(), kept.end());
  std::unique_ptr<Dataset> train = std::move(data.train);
  std::unique_ptr<Dataset> unaugmented = std::move(data.train_unaugmented);
  data.train = std::make_unique<IndexedDataset>(*train, kept);
  data.train_unaugmented = std::make_unique<IndexedDataset>(*unaugmented, std::move(kept));
  data.test = std::make_unique<IndexedDataset>(*unaugmented, std::move(held));
  data.viewed.push_back(std::move(train));
  data.viewed.push_back(std::move(unaugmented));
  data.evaluation_set =
      absl::StrCat("held-out: ", n, " of the ", size, " training images (seed ", seed, ")");
  return absl::OkStatus();
}

std::unique_ptr<Dataset> Prefix(const Dataset& dataset, int64_t n) {
  return Slice(dataset, 0, n);
}

std::unique_ptr<Dataset> Slice(const Dataset& dataset, int64_t begin, int64_t end) {
  end = std::clamp<int64_t>(end, 0, dataset.size());
  begin = std::clamp<int64_t>(begin, 0, end);
  return std::make_unique<SliceDataset>(dataset, begin, end);
}

std::string DefaultDataDir() {
  if (const char* env = std::getenv("PSG_DATA_DIR"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.cache/psg-toolkit/data");
}

namespace {

// <dir>/train and <dir>/val as JPEG folders (data/image_folder.h), with the
// same classes in the same order.
absl::StatusOr<std::unique_ptr<TrainingData>> LoadImageNet(const std::string& dir) {
  ImageFolderDataset::Options train_options, eval_options;
  eval_options.mode = ImageFolderDataset::Mode::kEval;
  auto train = ImageFolderDataset::Open(dir + "/train", train_options);
  if (!train.ok()) return train.status();
  auto train_unaugmented = ImageFolderDataset::Open(dir + "/train", eval_options);
  if (!train_unaugmented.ok()) return train_unaugmented.status();
  auto test = ImageFolderDataset::Open(dir + "/val", eval_options);
  if (!test.ok()) return test.status();
  if (test->classes() != train->classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "imagenet: ", dir, "/val has ", test->classes().size(), " classes and ", dir, "/train ",
        train->classes().size(), "; they must be the same class directories"));
  }
  auto out = std::make_unique<TrainingData>();
  out->num_classes = static_cast<int>(train->classes().size());
  out->train = std::make_unique<ImageFolderDataset>(*std::move(train));
  out->train_unaugmented = std::make_unique<ImageFolderDataset>(*std::move(train_unaugmented));
  out->test = std::make_unique<ImageFolderDataset>(*std::move(test));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrainingData>> LoadTrainingData(const std::string& name,
                                                               const std::string& dir) {
  if (name == "imagenet") return LoadImageNet(dir);
  auto out = std::make_unique<TrainingData>();
  CifarAugmenter::Options augment;
  absl::StatusOr<ImageSet> train, test;
  if (name == "cifar10") {
    const std::string path = dir + "/cifar-10-batches-bin";
    train = ReadCifar10(path, Split::kTrain);
    test = ReadCifar10(path, Split::kTest);
  } else if (name == "cifar100") {
    const std::string path = dir + "/cifar-100-binary";
    train = ReadCifar100(path, Split::kTrain, Cifar100Labels::kFine);
    test = ReadCifar100(path, Split::kTest, Cifar100Labels::kFine);
    augment.normalization = Cifar100Normalization();
  } else if (name == "fashion_mnist") {
    train = ReadMnist(dir, Split::kTrain);
    test = ReadMnist(dir, Split::kTest);
    augment.pad = 0;  // 28x28 centred items: flips only
    augment.normalization = {{0.2860f}, {0.3530f}};
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown dataset '", name, "'; known: ",
                                                   absl::StrJoin(DatasetNames(), ", ")));
  }
  if (!train.ok()) return train.status();
  if (!test.ok()) return test.status();
  out->train_images = *std::move(train);
  out->test_images = *std::move(test);
  out->num_classes = out->train_images.num_classes;
  out->normalization = augment.normalization;
  auto train_set = ImageSetDataset::Create(out->train_images, ImageSetDataset::Mode::kTrain, augment);
  if (!train_set.ok()) return train_set.status();
  auto test_set = ImageSetDataset::Create(out->test_images, ImageSetDataset::Mode::kEval, augment);
  if (!test_set.ok()) return test_set.status();
  auto train_unaugmented =
      ImageSetDataset::Create(out->train_images, ImageSetDataset::Mode::kEval, augment);
  if (!train_unaugmented.ok()) return train_unaugmented.status();
  out->train = std::make_unique<ImageSetDataset>(*std::move(train_set));
  out->train_unaugmented = std::make_unique<ImageSetDataset>(*std::move(train_unaugmented));
  out->test = std::make_unique<ImageSetDataset>(*std::move(test_set));
  return out;
}

}  // namespace psg::data
