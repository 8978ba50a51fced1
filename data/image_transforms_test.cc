#include "data/image_transforms.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "data/jpeg_decoder.h"
#include "data/normalization.h"
#include "engine/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::FloatNear;
using ::testing::Pointwise;
using Floats = std::vector<float>;

// Output = pixel value: mean 0, stddev 1/255.
Normalization Identity() {
  return {{0, 0, 0}, {1 / 255.0f, 1 / 255.0f, 1 / 255.0f}};
}

RgbImage MakeImage(int width, int height, int (*value)(int x, int y, int c)) {
  RgbImage image;
  image.width = width;
  image.height = height;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) image.pixels.push_back(value(x, y, c));
    }
  }
  return image;
}

ResampleRegion Whole(const RgbImage& image) {
  return {0, 0, static_cast<double>(image.width),
          static_cast<double>(image.height),
          PixelRect{0, 0, image.width, image.height}};
}

// Channel c, row y of a CHW output of the given size.
std::vector<float> Row(const std::vector<float>& chw, int width, int height,
                       int c, int y) {
  const float* row = chw.data() + (c * height + y) * width;
  return std::vector<float>(row, row + width);
}

TEST(RandomResizedCropTest, StaysInsideTheImageWithinScaleAndRatio) {
  engine::Rng rng(1);
  for (int i = 0; i < 2000; ++i) {
    const ResampleRegion r = RandomResizedCropRegion(500, 375, rng);
    const PixelRect& b = r.bounds;
    ASSERT_GE(b.x, 0);
    ASSERT_GE(b.y, 0);
    ASSERT_LE(b.x + b.width, 500);
    ASSERT_LE(b.y + b.height, 375);
    EXPECT_EQ(r.x, b.x);
    EXPECT_EQ(r.y, b.y);
    EXPECT_EQ(r.width, b.width);
    EXPECT_EQ(r.height, b.height);
    const double area = static_cast<double>(b.width) * b.height / (500 * 375);
    EXPECT_GT(area, 0.07);
    EXPECT_LE(area, 1.0);
    const double ratio = static_cast<double>(b.width) / b.height;
    EXPECT_GT(ratio, 0.70);
    EXPECT_LT(ratio, 1.40);
  }
}

TEST(RandomResizedCropTest, FallsBackToCenterCropAsTorchvision) {
  engine::Rng rng(2);
  // No crop of >= 8% of the area fits a 1000x10 strip at ratio <= 4/3.
  ResampleRegion r = RandomResizedCropRegion(1000, 10, rng);
  EXPECT_EQ(r.bounds.x, 493);
  EXPECT_EQ(r.bounds.y, 0);
  EXPECT_EQ(r.bounds.width, 13);  // round(10 * 4/3)
  EXPECT_EQ(r.bounds.height, 10);
  r = RandomResizedCropRegion(10, 1000, rng);
  EXPECT_EQ(r.bounds.x, 0);
  EXPECT_EQ(r.bounds.y, 493);
  EXPECT_EQ(r.bounds.width, 10);
  EXPECT_EQ(r.bounds.height, 13);  // round(10 / (3/4))
}

TEST(ResizeCenterCropTest, MatchesTorchvisionResizeAndCenterCrop) {
  // 500x375 -> Resize(256) gives 341x256 (int(256 * 500 / 375)); CenterCrop
  // offsets round((341 - 224) / 2) = round(58.5) = 58 and 16.
  ResampleRegion r = ResizeCenterCropRegion(500, 375, 256, 224);
  EXPECT_DOUBLE_EQ(r.x, 58 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(r.width, 224 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(r.y, 16 * 375.0 / 256);
  EXPECT_DOUBLE_EQ(r.height, 224 * 375.0 / 256);
  EXPECT_EQ(r.bounds.width, 500);
  EXPECT_EQ(r.bounds.height, 375);

  r = ResizeCenterCropRegion(333, 500, 256, 224);  // -> 256x384
  EXPECT_DOUBLE_EQ(r.x, 16 * 333.0 / 256);
  EXPECT_DOUBLE_EQ(r.y, 80 * 500.0 / 384);
}

TEST(ResamplerTest, SameSizeIsTheIdentityAndFlipMirrors) {
  const RgbImage image =
      MakeImage(5, 4, [](int x, int y, int c) { return 10 * x + 50 * y + c; });
  Resampler resampler;
  std::vector<float> out(3 * 4 * 5);
  resampler.Run(image, Whole(image), 5, 4, false, Identity(), out.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 4; ++y) {
      EXPECT_THAT(Row(out, 5, 4, c, y),
                  Pointwise(FloatNear(1e-3),
                            Floats{50.0f * y + c, 10 + 50.0f * y + c, 20 + 50.0f * y + c,
                             30 + 50.0f * y + c, 40 + 50.0f * y + c}));
    }
  }
  resampler.Run(image, Whole(image), 5, 4, true, Identity(), out.data());
  EXPECT_THAT(Row(out, 5, 4, 1, 2),
              Pointwise(FloatNear(1e-3), Floats{141, 131, 121, 111, 101}));
}

TEST(ResamplerTest, AntialiasedDownscaleMatchesPilWeights) {
  // Halving: a triangle filter of radius 2 source pixels, weights
  // 1/8, 3/8, 3/8, 1/8, renormalized where it hangs over the edge.
  const RgbImage image = MakeImage(8, 1, [](int x, int, int) { return 10 * x; });
  Resampler resampler;
  std::vector<float> out(3 * 4);
  resampler.Run(image, Whole(image), 4, 1, false, Identity(), out.data());
  EXPECT_THAT(Row(out, 4, 1, 0, 0),
              Pointwise(FloatNear(1e-3), Floats{12.5f / 1.75f, 25, 45, 110 / 1.75f}));
}

TEST(ResamplerTest, UpscaleIsPlainBilinear) {
  const RgbImage image = MakeImage(4, 1, [](int x, int, int) { return 10 * x; });
  Resampler resampler;
  std::vector<float> out(3 * 8);
  resampler.Run(image, Whole(image), 8, 1, false, Identity(), out.data());
  EXPECT_THAT(Row(out, 8, 1, 2, 0),
              Pointwise(FloatNear(1e-3),
                        Floats{0, 2.5f, 7.5f, 12.5f, 17.5f, 22.5f, 27.5f, 30}));
}

TEST(ResamplerTest, ReadsNothingOutsideTheBounds) {
  // Black 20x20 square at (10, 10) in a white image; resampling exactly that
  // crop, even heavily downscaled, must stay black.
  const RgbImage image = MakeImage(40, 40, [](int x, int y, int) {
    return (x >= 10 && x < 30 && y >= 10 && y < 30) ? 0 : 255;
  });
  const ResampleRegion crop = {10, 10, 20, 20, PixelRect{10, 10, 20, 20}};
  Resampler resampler;
  std::vector<float> out(3 * 3 * 3);
  resampler.Run(image, crop, 3, 3, false, Identity(), out.data());
  for (float v : out) EXPECT_NEAR(v, 0, 1e-4);
}

TEST(ResamplerTest, ConstantImageStaysConstantAndIsNormalized) {
  const RgbImage image =
      MakeImage(37, 23, [](int, int, int c) { return 100 + 20 * c; });
  Resampler resampler;
  std::vector<float> out(3 * 11 * 17);
  const Normalization norm = ImageNetNormalization();
  const ResampleRegion region = {3.3, 2.1, 30.5, 19.7, PixelRect{0, 0, 37, 23}};
  resampler.Run(image, region, 17, 11, true, norm, out.data());
  for (int c = 0; c < 3; ++c) {
    const double expected =
        ((100 + 20 * c) / 255.0 - norm.mean[c]) / norm.stddev[c];
    for (int i = 0; i < 11 * 17; ++i) {
      ASSERT_NEAR(out[c * 11 * 17 + i], expected, 1e-4) << c << " " << i;
    }
  }
}

TEST(DctScaleTest, PicksTheSmallestFastScaleThatKeepsTheCropAtTheOutputSize) {
  const auto region = [](double w, double h) {
    return ResampleRegion{0, 0, w, h, PixelRect{0, 0, static_cast<int>(w), static_cast<int>(h)}};
  };
  EXPECT_EQ(DctScaleFor(region(2000, 1800), 224, 224), 1);  // 250 x 225 at 1/8
  EXPECT_EQ(DctScaleFor(region(1792, 1791), 224, 224), 2);  // 1/8 leaves 223.9 rows
  EXPECT_EQ(DctScaleFor(region(1000, 800), 224, 224), 4);   // 1/4 leaves 200 rows
  EXPECT_EQ(DctScaleFor(region(447, 600), 224, 224), 8);    // 1/2 leaves 223.5 columns
  EXPECT_EQ(DctScaleFor(region(100, 80), 224, 224), 8);     // smaller than the output
}

TEST(DctScaleTest, MapsTheRegionOntoTheDecodedImage) {
  RgbImage image;
  image.source_width = 1001;
  image.source_height = 600;
  image.scale_eighths = 2;  // libjpeg: ceil(1001 / 4) x ceil(600 / 4)
  image.width = 251;
  image.height = 150;
  const ResampleRegion scaled =
      ScaledRegion({10.5, 21, 990.5, 40, PixelRect{10, 21, 991, 40}}, image);
  EXPECT_DOUBLE_EQ(scaled.x, 10.5 / 4);
  EXPECT_DOUBLE_EQ(scaled.y, 21.0 / 4);
  EXPECT_DOUBLE_EQ(scaled.width, 990.5 / 4);
  EXPECT_DOUBLE_EQ(scaled.height, 10);
  EXPECT_EQ(scaled.bounds.x, 2);               // floor(10 / 4)
  EXPECT_EQ(scaled.bounds.y, 5);               // floor(21 / 4)
  EXPECT_EQ(scaled.bounds.width, 251 - 2);     // ceil(1001 / 4), the decoded width
  EXPECT_EQ(scaled.bounds.height, 16 - 5);     // ceil(61 / 4)
}

}  // namespace
}  // namespace psg::data
