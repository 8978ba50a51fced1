#include "data/augment.h"

#include <cstdint>
#include <set>
#include <tuple>
#include <vector>

#include "engine/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::FloatNear;
using ::testing::Pointwise;
using CropFlip = CifarAugmenter::CropFlip;

std::vector<uint8_t> RandomImage(int size, uint64_t seed) {
  engine::Rng rng(seed);
  std::vector<uint8_t> image(size);
  for (uint8_t& v : image) v = static_cast<uint8_t>(rng.Next());
  return image;
}

// Scalar reference, built step by step: mirror `pad` rows/columns around each
// edge (without repeating the edge), cut the window, mirror it, normalize.
std::vector<float> Reference(const std::vector<uint8_t>& src, int channels,
                             int height, int width, int pad, const CropFlip& cf,
                             const Normalization& norm) {
  const int ph = height + 2 * pad, pw = width + 2 * pad;
  std::vector<float> out(channels * height * width);
  for (int c = 0; c < channels; ++c) {
    std::vector<std::vector<int>> padded(ph, std::vector<int>(pw));
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        padded[pad + y][pad + x] = src[(c * height + y) * width + x];
      }
      for (int k = 1; k <= pad; ++k) {
        padded[pad + y][pad - k] = padded[pad + y][pad + k];
        padded[pad + y][pad + width - 1 + k] = padded[pad + y][pad + width - 1 - k];
      }
    }
    for (int k = 1; k <= pad; ++k) {
      padded[pad - k] = padded[pad + k];
      padded[pad + height - 1 + k] = padded[pad + height - 1 - k];
    }
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const int window_x = cf.flip ? width - 1 - x : x;
        const int v = padded[cf.top + y][cf.left + window_x];
        out[(c * height + y) * width + x] = static_cast<float>(
            (v / 255.0 - norm.mean[c]) / norm.stddev[c]);
      }
    }
  }
  return out;
}

void ExpectAllCropFlipsMatchReference(int channels, int height, int width,
                                      const CifarAugmenter::Options& options) {
  absl::StatusOr<CifarAugmenter> augmenter =
      CifarAugmenter::Create(channels, height, width, options);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  const std::vector<uint8_t> src = RandomImage(channels * height * width, 3);
  std::vector<float> dst(src.size());
  const int positions = 2 * options.pad + 1;
  for (int top = 0; top < positions; ++top) {
    for (int left = 0; left < positions; ++left) {
      for (bool flip : {false, true}) {
        const CropFlip cf{top, left, flip};
        augmenter->Apply(src.data(), cf, dst.data());
        const std::vector<float> expected = Reference(
            src, channels, height, width, options.pad, cf, options.normalization);
        for (size_t i = 0; i < dst.size(); ++i) {
          ASSERT_NEAR(dst[i], expected[i], 1e-5)
              << "top " << top << " left " << left << " flip " << flip
              << " element " << i;
        }
      }
    }
  }
}

TEST(CifarAugmenterTest, MatchesScalarReferenceOnCifarShape) {
  ExpectAllCropFlipsMatchReference(3, 32, 32, CifarAugmenter::Options());
}

TEST(CifarAugmenterTest, MatchesScalarReferenceOnOddShape) {
  CifarAugmenter::Options options;
  options.pad = 3;
  options.normalization = {{0.1f, 0.9f}, {0.5f, 2.0f}};
  ExpectAllCropFlipsMatchReference(2, 5, 7, options);
}

TEST(CifarAugmenterTest, ReflectsWithoutRepeatingTheEdge) {
  CifarAugmenter::Options options;
  options.pad = 1;
  options.normalization = {{0.0f}, {1.0f / 255.0f}};  // output = pixel value
  absl::StatusOr<CifarAugmenter> augmenter =
      CifarAugmenter::Create(1, 3, 3, options);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  const uint8_t src[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  float dst[9];
  // Window at the top-left of the padded image: its first row is the
  // reflection of source row 1.
  augmenter->Apply(src, {0, 0, false}, dst);
  EXPECT_THAT(dst, Pointwise(FloatNear(1e-4), {4, 3, 4, 1, 0, 1, 4, 3, 4}));
  augmenter->Apply(src, {2, 1, true}, dst);
  EXPECT_THAT(dst, Pointwise(FloatNear(1e-4), {5, 4, 3, 8, 7, 6, 5, 4, 3}));
}

TEST(CifarAugmenterTest, EvalOnlyNormalizesWithCifar10Defaults) {
  absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(3, 32, 32);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  const std::vector<uint8_t> src = RandomImage(3 * 32 * 32, 11);
  std::vector<float> dst(src.size());
  augmenter->Eval(src.data(), dst.data());
  const float mean[3] = {0.4914f, 0.4822f, 0.4465f};
  const float stddev[3] = {0.2470f, 0.2435f, 0.2616f};
  for (size_t i = 0; i < src.size(); ++i) {
    const int c = static_cast<int>(i / 1024);
    ASSERT_NEAR(dst[i], (src[i] / 255.0 - mean[c]) / stddev[c], 1e-5) << i;
  }
}

TEST(CifarAugmenterTest, TrainIsDeterministicGivenTheRngState) {
  absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(3, 32, 32);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  const std::vector<uint8_t> src = RandomImage(3 * 32 * 32, 1);
  std::vector<float> a(src.size()), b(src.size()), expected(src.size());

  engine::Rng rng(123);
  engine::Rng replay(0);
  replay.set_state(rng.state());
  std::set<std::vector<float>> distinct;
  for (int i = 0; i < 20; ++i) {
    augmenter->Train(src.data(), rng, a.data());
    augmenter->Apply(src.data(), augmenter->Draw(replay), expected.data());
    ASSERT_EQ(a, expected);
    distinct.insert(a);
  }
  EXPECT_GT(distinct.size(), 10u);  // 162 crop/flip combinations

  engine::Rng same_seed(123);
  augmenter->Train(src.data(), same_seed, b.data());
  engine::Rng first(123);
  augmenter->Train(src.data(), first, a.data());
  EXPECT_EQ(a, b);
}

TEST(CifarAugmenterTest, DrawCoversEveryCropAndFlip) {
  absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(3, 32, 32);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  engine::Rng rng(77);
  std::set<std::tuple<int, int, bool>> seen;
  for (int i = 0; i < 5000; ++i) {
    const CropFlip cf = augmenter->Draw(rng);
    ASSERT_GE(cf.top, 0);
    ASSERT_LE(cf.top, 8);
    ASSERT_GE(cf.left, 0);
    ASSERT_LE(cf.left, 8);
    seen.insert({cf.top, cf.left, cf.flip});
  }
  EXPECT_EQ(seen.size(), 9u * 9u * 2u);
}

TEST(CifarAugmenterTest, NoFlipOptionNeverFlips) {
  CifarAugmenter::Options options;
  options.horizontal_flip = false;
  absl::StatusOr<CifarAugmenter> augmenter =
      CifarAugmenter::Create(3, 32, 32, options);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  engine::Rng rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(augmenter->Draw(rng).flip);
}

TEST(CifarAugmenterTest, RejectsBadOptions) {
  CifarAugmenter::Options too_much_pad;
  too_much_pad.pad = 32;
  EXPECT_FALSE(CifarAugmenter::Create(3, 32, 32, too_much_pad).ok());

  CifarAugmenter::Options wrong_channels;
  wrong_channels.normalization = {{0.5f}, {0.5f}};
  absl::StatusOr<CifarAugmenter> a =
      CifarAugmenter::Create(3, 32, 32, wrong_channels);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), ::testing::HasSubstr("for 3 channels"));

  CifarAugmenter::Options zero_std;
  zero_std.normalization.stddev[1] = 0;
  EXPECT_FALSE(CifarAugmenter::Create(3, 32, 32, zero_std).ok());
}

// The released PSG CIFAR-100 pipeline (PSG-pytorch utils.py,
// get_cifar100_dataloaders): Pad(4, padding_mode='reflect'), RandomCrop(32),
// flips, Normalize(mean=[x / 255 for x in [129.3, 124.1, 112.4]],
// std=[x / 255 for x in [68.2, 65.4, 70.4]]).
TEST(ReleasedRecipeTest, Cifar100PipelineIsTheReleasedOne) {
  const Normalization n = Cifar100Normalization();
  const double mean[3] = {129.3, 124.1, 112.4}, stddev[3] = {68.2, 65.4, 70.4};
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(n.mean[c], static_cast<float>(mean[c] / 255)) << c;
    EXPECT_FLOAT_EQ(n.stddev[c], static_cast<float>(stddev[c] / 255)) << c;
  }
  CifarAugmenter::Options options;
  EXPECT_EQ(options.pad, 4);  // reflected, see ReflectsWithoutRepeatingTheEdge
}

}  // namespace
}  // namespace psg::data

