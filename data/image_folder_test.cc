#include "data/image_folder.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/jpeg_decoder.h"
#include "data/loader.h"
#include "engine/rng.h"
#include "data/test_files.h"
#include "data/test_jpeg.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kSampleFloats = 3 * 224 * 224;

std::vector<uint8_t> UniformJpeg(int width, int height, uint8_t r, uint8_t g,
                                 uint8_t b) {
  std::vector<uint8_t> rgb;
  for (int i = 0; i < width * height; ++i) rgb.insert(rgb.end(), {r, g, b});
  return EncodeTestJpeg(rgb, width, height, TestJpegColor::kRgb);
}

ImageFolderDataset::Options ModeOptions(ImageFolderDataset::Mode mode) {
  ImageFolderDataset::Options options;
  options.mode = mode;
  return options;
}

// Every value a normalized 8-bit pixel can take lies in this range.
void ExpectNormalizedPixels(const std::vector<float>& sample,
                            const std::string& what) {
  const Normalization norm = ImageNetNormalization();
  for (int c = 0; c < 3; ++c) {
    const float lo = -norm.mean[c] / norm.stddev[c] - 1e-3f;
    const float hi = (1 - norm.mean[c]) / norm.stddev[c] + 1e-3f;
    for (int i = 0; i < 224 * 224; ++i) {
      const float v = sample[c * 224 * 224 + i];
      ASSERT_TRUE(v >= lo && v <= hi) << what << " channel " << c << ": " << v;
    }
  }
}

TEST(ImageFolderTest, ListsSortedClassesAndFiles) {
  const std::string root = FreshTestDir();
  fs::create_directories(root + "/n002");
  fs::create_directories(root + "/n001");
  const std::vector<uint8_t> jpeg = UniformJpeg(16, 16, 1, 2, 3);
  WriteTestFile(root + "/n002/b.jpg", jpeg);
  WriteTestFile(root + "/n002/a.JPEG", jpeg);
  WriteTestFile(root + "/n002/notes.txt", {1, 2, 3});
  WriteTestFile(root + "/n001/z.jpeg", jpeg);
  WriteTestFile(root + "/README", {1});

  absl::StatusOr<ImageFolderDataset> dataset = ImageFolderDataset::Open(
      root, ModeOptions(ImageFolderDataset::Mode::kEval));
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->classes(), ElementsAre("n001", "n002"));
  ASSERT_EQ(dataset->size(), 3);
  EXPECT_EQ(dataset->path(0), root + "/n001/z.jpeg");
  EXPECT_EQ(dataset->path(1), root + "/n002/a.JPEG");
  EXPECT_EQ(dataset->path(2), root + "/n002/b.jpg");
  EXPECT_EQ(dataset->label(0), 0);
  EXPECT_EQ(dataset->label(1), 1);
  EXPECT_EQ(dataset->label(2), 1);
  EXPECT_EQ(dataset->sample_shape().size(), kSampleFloats);
}

TEST(ImageFolderTest, RejectsMissingOrEmptyFolders) {
  const std::string root = FreshTestDir();
  absl::StatusOr<ImageFolderDataset> missing = ImageFolderDataset::Open(
      root + "/nope", ImageFolderDataset::Options());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(root + "/nope"));

  absl::StatusOr<ImageFolderDataset> no_classes =
      ImageFolderDataset::Open(root, ImageFolderDataset::Options());
  EXPECT_THAT(no_classes.status().message(),
              HasSubstr("no class subdirectories"));

  fs::create_directories(root + "/n001");
  WriteTestFile(root + "/n001/x.png", {1});
  absl::StatusOr<ImageFolderDataset> no_images =
      ImageFolderDataset::Open(root, ImageFolderDataset::Options());
  EXPECT_THAT(no_images.status().message(),
              AllOf(HasSubstr(root + "/n001"), HasSubstr("no .JPEG")));
}

TEST(ImageFolderTest, WritesNormalizedSamplesAndReportsCorruptFiles) {
  const std::string root = FreshTestDir();
  fs::create_directories(root + "/n001");
  WriteTestFile(root + "/n001/a.jpg", UniformJpeg(300, 200, 200, 100, 30));
  std::vector<uint8_t> cut = UniformJpeg(300, 200, 1, 2, 3);
  cut.resize(cut.size() / 2);
  WriteTestFile(root + "/n001/b.jpg", cut);

  const Normalization norm = ImageNetNormalization();
  const int rgb[3] = {200, 100, 30};
  for (auto mode :
       {ImageFolderDataset::Mode::kTrain, ImageFolderDataset::Mode::kEval}) {
    absl::StatusOr<ImageFolderDataset> dataset =
        ImageFolderDataset::Open(root, ModeOptions(mode));
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    std::vector<float> sample(kSampleFloats);
    engine::Rng rng(3);
    ASSERT_TRUE(dataset->WriteSample(0, rng, sample.data()).ok());
    for (int c = 0; c < 3; ++c) {
      const double expected = (rgb[c] / 255.0 - norm.mean[c]) / norm.stddev[c];
      for (int i = 0; i < 224 * 224; ++i) {
        ASSERT_NEAR(sample[c * 224 * 224 + i], expected, 0.05) << c << " " << i;
      }
    }
    const absl::Status corrupt = dataset->WriteSample(1, rng, sample.data());
    EXPECT_EQ(corrupt.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(corrupt.message(), HasSubstr(root + "/n001/b.jpg"));
  }
}

// The real images in <repository>/../shared/data/imagenet-sample, or
// $PSG_IMAGENET_SAMPLE. data/BUILD is a data dependency: its runfiles entry
// links back into the source tree, which locates the repository even from
// inside Bazel's sandbox.
struct SampleDir {
  std::string path;
  bool explicitly_set = false;  // by $PSG_IMAGENET_SAMPLE
};

SampleDir ImageNetSampleDir() {
  if (const char* dir = std::getenv("PSG_IMAGENET_SAMPLE")) return {dir, true};
  const char* runfiles = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (runfiles == nullptr || workspace == nullptr) return {};
  std::error_code error;
  const fs::path build =
      fs::canonical(fs::path(runfiles) / workspace / "data" / "BUILD", error);
  if (error) return {};
  return {(build.parent_path().parent_path().parent_path() / "shared" / "data" /
           "imagenet-sample")
              .string()};
}

// Why a test of the real sample skips, or "" when it runs: a clone without
// ../shared beside it (as users clone the project) skips, saying what is
// missing; a $PSG_IMAGENET_SAMPLE that points nowhere is an error (the tests
// assert the directory).
std::string WhySampleIsMissing(const SampleDir& location) {
  if (location.explicitly_set || (!location.path.empty() && fs::is_directory(location.path))) {
    return "";
  }
  return "ImageNet sample not found at '" + location.path +
         "': it is the 100-image sample in <repository>/../shared/data/imagenet-sample, which a "
         "clone of the project alone does not have (or set PSG_IMAGENET_SAMPLE: bazel test "
         "--test_env=PSG_IMAGENET_SAMPLE=/path)";
}

TEST(ImageFolderTest, DecodesAndTransformsTheRealImageNetSample) {
  const SampleDir location = ImageNetSampleDir();
  if (const std::string why = WhySampleIsMissing(location); !why.empty()) GTEST_SKIP() << why;
  const std::string& dir = location.path;
  ASSERT_TRUE(fs::is_directory(dir))
      << "PSG_IMAGENET_SAMPLE='" << dir << "' is not a directory";

  absl::StatusOr<ImageFolderDataset> eval = ImageFolderDataset::Open(
      dir, ModeOptions(ImageFolderDataset::Mode::kEval));
  ASSERT_TRUE(eval.ok()) << eval.status();
  absl::StatusOr<ImageFolderDataset> train = ImageFolderDataset::Open(
      dir, ModeOptions(ImageFolderDataset::Mode::kTrain));
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(eval->classes().size(), 100u);
  ASSERT_EQ(eval->size(), 100);
  EXPECT_EQ(eval->classes().front(), "n01440764");

  int grayscale = 0, small = 0, large = 0;
  std::vector<uint8_t> bytes;
  RgbImage image;
  std::vector<float> sample(kSampleFloats);
  for (int64_t i = 0; i < eval->size(); ++i) {
    ASSERT_EQ(eval->label(i), i);  // one image per class
    const absl::Status decoded = DecodeJpegFile(eval->path(i), bytes, image);
    ASSERT_TRUE(decoded.ok()) << decoded;
    bool gray = true;
    for (size_t p = 0; p < image.pixels.size() && gray; p += 3) {
      gray = image.pixels[p] == image.pixels[p + 1] &&
             image.pixels[p] == image.pixels[p + 2];
    }
    grayscale += gray;
    small += std::min(image.width, image.height) < 224;
    large += std::max(image.width, image.height) > 1000;

    engine::Rng rng(i);
    for (const ImageFolderDataset* dataset : {&*eval, &*train}) {
      const absl::Status written = dataset->WriteSample(i, rng, sample.data());
      ASSERT_TRUE(written.ok()) << written;
      ExpectNormalizedPixels(sample, eval->path(i));
    }
  }
  EXPECT_GE(grayscale, 1);  // the sample has grayscale JPEGs
  EXPECT_GE(small, 1);      // and images smaller than the crop
  EXPECT_GE(large, 1);      // and large ones

  // Through the loader, in folder order.
  LoaderOptions options;
  options.batch_size = 32;
  options.shuffle = false;
  options.end_epoch = 1;
  options.num_workers = 2;
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
      BatchLoader::Create(*eval, options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  int64_t seen = 0;
  for (absl::StatusOr<const Batch*> batch = (*loader)->Next(); batch.ok();
       batch = (*loader)->Next()) {
    EXPECT_EQ((*batch)->c, 3);
    EXPECT_EQ((*batch)->h, 224);
    EXPECT_EQ((*batch)->w, 224);
    for (int k = 0; k < (*batch)->n; ++k) {
      EXPECT_EQ((*batch)->labels[k], seen++);
    }
  }
  EXPECT_EQ(seen, 100);
}

// DCT-domain downscaling changes the pixels little: every sample of the real
// images, in both modes, against the same crop of a full-size decode. Where
// the crop allows no downscaling the two are the same computation, bit for
// bit; where it does, the mean absolute difference stays under 2.5 levels of
// 255, below JPEG's own coding error at the qualities ImageNet is stored in.
TEST(ImageFolderTest, DctScalingStaysCloseToAFullSizeDecode) {
  const SampleDir location = ImageNetSampleDir();
  if (const std::string why = WhySampleIsMissing(location); !why.empty()) GTEST_SKIP() << why;
  const std::string& dir = location.path;
  ASSERT_TRUE(fs::is_directory(dir))
      << "PSG_IMAGENET_SAMPLE='" << dir << "' is not a directory";
  const Normalization norm = ImageNetNormalization();
  for (auto mode : {ImageFolderDataset::Mode::kTrain, ImageFolderDataset::Mode::kEval}) {
    ImageFolderDataset::Options options = ModeOptions(mode);
    absl::StatusOr<ImageFolderDataset> scaled = ImageFolderDataset::Open(dir, options);
    options.dct_scaling = false;
    absl::StatusOr<ImageFolderDataset> full = ImageFolderDataset::Open(dir, options);
    ASSERT_TRUE(scaled.ok() && full.ok());
    std::vector<float> a(kSampleFloats), b(kSampleFloats);
    int downscaled = 0;
    for (int64_t i = 0; i < full->size(); ++i) {
      engine::Rng rng_a(i), rng_b(i);
      ASSERT_TRUE(scaled->WriteSample(i, rng_a, a.data()).ok());
      ASSERT_TRUE(full->WriteSample(i, rng_b, b.data()).ok());
      if (a == b) continue;
      ++downscaled;
      double levels = 0;  // summed |difference| in 0..255 pixel levels
      for (int k = 0; k < kSampleFloats; ++k) {
        levels += std::abs(a[k] - b[k]) * norm.stddev[k / (224 * 224)] * 255;
      }
      EXPECT_LT(levels / kSampleFloats, 2.5) << full->path(i);
    }
    EXPECT_GE(downscaled, 1) << "the sample's large images allow 1/2 scale decodes";
  }
}

}  // namespace
}  // namespace psg::data
