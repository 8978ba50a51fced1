#include "data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/jpeg_decoder.h"

namespace psg::data {
namespace {

namespace fs = std::filesystem;

bool IsJpegName(const fs::path& path) {
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  return ext == ".jpeg" || ext == ".jpg";
}

// Sorted names of the entries of `dir` that pass `keep`.
template <typename Keep>
absl::StatusOr<std::vector<std::string>> SortedEntries(const fs::path& dir,
                                                       Keep keep) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (keep(*it)) names.push_back(it->path().filename().string());
  }
  if (error) {
    return absl::ErrnoToStatus(
        error.value(), absl::StrCat("image folder: cannot list ", dir.string()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

absl::StatusOr<ImageFolderDataset> ImageFolderDataset::Open(
    const std::string& root, const Options& options) {
  if (options.crop_size < 1 || options.resize_size < options.crop_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "image folder %s: need 0 < crop_size (%d) <= resize_size (%d)", root,
        options.crop_size, options.resize_size));
  }
  if (options.normalization.mean.size() != 3 ||
      options.normalization.stddev.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image folder ", root, ": normalization needs 3 means and stddevs"));
  }
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    return absl::NotFoundError(
        absl::StrCat("image folder ", root, ": not a directory"));
  }
  absl::StatusOr<std::vector<std::string>> classes =
      SortedEntries(root, [](const fs::directory_entry& e) {
        std::error_code ignored;
        return e.is_directory(ignored);
      });
  if (!classes.ok()) return classes.status();
  if (classes->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "image folder ", root, ": no class subdirectories (expected ",
        root, "/<class>/<image>.JPEG)"));
  }

  ImageFolderDataset dataset;
  dataset.options_ = options;
  for (size_t label = 0; label < classes->size(); ++label) {
    const fs::path class_dir = fs::path(root) / (*classes)[label];
    absl::StatusOr<std::vector<std::string>> files =
        SortedEntries(class_dir, [](const fs::directory_entry& e) {
          std::error_code ignored;
          return e.is_regular_file(ignored) && IsJpegName(e.path());
        });
    if (!files.ok()) return files.status();
    if (files->empty()) {
      return absl::NotFoundError(
          absl::StrCat("image folder ", root, ": class directory ",
                       class_dir.string(), " has no .JPEG/.jpg/.jpeg files"));
    }
    for (const std::string& file : *files) {
      dataset.paths_.push_back((class_dir / file).string());
      dataset.labels_.push_back(static_cast<int32_t>(label));
    }
  }
  dataset.classes_ = *std::move(classes);
  return dataset;
}

absl::Status ImageFolderDataset::WriteSample(int64_t i, engine::Rng& rng,
                                             float* dst) const {
  // Per-thread buffers: after warm-up a sample allocates nothing.
  struct Buffers {
    std::vector<uint8_t> file;
    RgbImage image;
    Resampler resampler;
  };
  thread_local Buffers buffers;
  const int crop = options_.crop_size;
  const bool train = options_.mode == Mode::kTrain;
  // The crop is chosen on the stored size, before decoding, so that the
  // decoder can shrink the image as far as the crop allows.
  ResampleRegion region;
  const auto choose_scale = [&](int width, int height) {
    region = train ? RandomResizedCropRegion(width, height, rng, options_.random_crop)
                   : ResizeCenterCropRegion(width, height, options_.resize_size, crop);
    return options_.dct_scaling ? DctScaleFor(region, crop, crop) : 8;
  };
  if (absl::Status s = DecodeJpegFile(paths_[i], buffers.file, buffers.image, choose_scale);
      !s.ok()) {
    return s;
  }
  const bool flip = train && options_.horizontal_flip && rng.Bernoulli();
  buffers.resampler.Run(buffers.image, ScaledRegion(region, buffers.image), crop, crop, flip,
                        options_.normalization, dst);
  return absl::OkStatus();
}

}  // namespace psg::data
