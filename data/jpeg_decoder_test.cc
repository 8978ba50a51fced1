#include "data/jpeg_decoder.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/test_jpeg.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kWidth = 48, kHeight = 32;

// Smooth, so JPEG's error stays small.
std::vector<uint8_t> Gradient(int components) {
  std::vector<uint8_t> pixels;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      for (int c = 0; c < components; ++c) {
        pixels.push_back(static_cast<uint8_t>(20 + 2 * x + 2 * y + 30 * c));
      }
    }
  }
  return pixels;
}

// A single CMYK value everywhere (compresses losslessly enough to compare).
std::vector<uint8_t> Uniform(std::vector<uint8_t> value) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < kWidth * kHeight; ++i) {
    pixels.insert(pixels.end(), value.begin(), value.end());
  }
  return pixels;
}

void ExpectUniformRgb(const RgbImage& image, int r, int g, int b) {
  ASSERT_EQ(image.width, kWidth);
  ASSERT_EQ(image.height, kHeight);
  for (int i = 0; i < kWidth * kHeight; ++i) {
    ASSERT_NEAR(image.pixels[3 * i], r, 2) << "pixel " << i;
    ASSERT_NEAR(image.pixels[3 * i + 1], g, 2) << "pixel " << i;
    ASSERT_NEAR(image.pixels[3 * i + 2], b, 2) << "pixel " << i;
  }
}

TEST(DecodeJpegTest, DecodesRgb) {
  const std::vector<uint8_t> rgb = Gradient(3);
  RgbImage image;
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(rgb, kWidth, kHeight, TestJpegColor::kRgb),
                         "rgb", image)
                  .ok());
  ASSERT_EQ(image.width, kWidth);
  ASSERT_EQ(image.height, kHeight);
  ASSERT_EQ(image.pixels.size(), rgb.size());
  for (size_t i = 0; i < rgb.size(); ++i) {
    ASSERT_NEAR(image.pixels[i], rgb[i], 6) << "byte " << i;
  }
}

TEST(DecodeJpegTest, ReplicatesGrayscaleToThreeChannels) {
  const std::vector<uint8_t> gray = Gradient(1);
  RgbImage image;
  ASSERT_TRUE(
      DecodeJpeg(EncodeTestJpeg(gray, kWidth, kHeight, TestJpegColor::kGray),
                 "gray", image)
          .ok());
  ASSERT_EQ(image.pixels.size(), gray.size() * 3);
  for (size_t i = 0; i < gray.size(); ++i) {
    ASSERT_EQ(image.pixels[3 * i], image.pixels[3 * i + 1]) << "pixel " << i;
    ASSERT_EQ(image.pixels[3 * i], image.pixels[3 * i + 2]) << "pixel " << i;
    ASSERT_NEAR(image.pixels[3 * i], gray[i], 3) << "pixel " << i;
  }
}

TEST(DecodeJpegTest, ConvertsAdobeInvertedCmyk) {
  // Stored (inverted) C, M, Y = 200, 100, 30 with stored K = 255 (no black
  // ink) is RGB (200, 100, 30); stored K = 128 darkens it by 128/255.
  RgbImage image;
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(Uniform({200, 100, 30, 255}), kWidth,
                                        kHeight, TestJpegColor::kAdobeCmyk),
                         "cmyk", image)
                  .ok());
  ExpectUniformRgb(image, 200, 100, 30);
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(Uniform({200, 100, 30, 128}), kWidth,
                                        kHeight, TestJpegColor::kAdobeCmyk),
                         "cmyk", image)
                  .ok());
  ExpectUniformRgb(image, 100, 50, 15);
}

TEST(DecodeJpegTest, ConvertsAdobeYcck) {
  RgbImage image;
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(Uniform({200, 100, 30, 255}), kWidth,
                                        kHeight, TestJpegColor::kAdobeYcck),
                         "ycck", image)
                  .ok());
  ExpectUniformRgb(image, 200, 100, 30);
}

TEST(DecodeJpegTest, ConvertsPlainCmyk) {
  // Plain inks: C = 55 (of 255) leaves red at 200; no black.
  RgbImage image;
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(Uniform({55, 155, 225, 0}), kWidth,
                                        kHeight, TestJpegColor::kPlainCmyk),
                         "plain", image)
                  .ok());
  ExpectUniformRgb(image, 200, 100, 30);
}

TEST(DecodeJpegTest, RejectsTruncatedJpeg) {
  std::vector<uint8_t> jpeg =
      EncodeTestJpeg(Gradient(3), kWidth, kHeight, TestJpegColor::kRgb);
  jpeg.resize(jpeg.size() / 2);
  RgbImage image;
  const absl::Status status = DecodeJpeg(jpeg, "cut.jpg", image);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("cut.jpg"), HasSubstr("Premature end")));
}

TEST(DecodeJpegTest, RejectsCorruptHeader) {
  std::vector<uint8_t> jpeg =
      EncodeTestJpeg(Gradient(3), kWidth, kHeight, TestJpegColor::kRgb);
  jpeg[0] = 0x00;  // no SOI marker
  RgbImage image;
  EXPECT_THAT(DecodeJpeg(jpeg, "bad.jpg", image).message(),
              AllOf(HasSubstr("bad.jpg"), HasSubstr("Not a JPEG file")));

  const std::vector<uint8_t> garbage(1000, 0xff);
  EXPECT_FALSE(DecodeJpeg(garbage, "garbage", image).ok());
  EXPECT_THAT(DecodeJpeg({}, "empty.jpg", image).message(),
              AllOf(HasSubstr("empty.jpg"), HasSubstr("Empty input")));
}

TEST(DecodeJpegTest, ReusesTheImageBuffer) {
  RgbImage image;
  ASSERT_TRUE(DecodeJpeg(EncodeTestJpeg(Gradient(3), kWidth, kHeight,
                                        TestJpegColor::kRgb),
                         "big", image)
                  .ok());
  const std::vector<uint8_t> small(8 * 8 * 3, 77);
  ASSERT_TRUE(
      DecodeJpeg(EncodeTestJpeg(small, 8, 8, TestJpegColor::kRgb), "small", image)
          .ok());
  EXPECT_EQ(image.width, 8);
  EXPECT_EQ(image.height, 8);
  ASSERT_EQ(image.pixels.size(), small.size());
  for (uint8_t v : image.pixels) ASSERT_NEAR(v, 77, 1);
}

// At scale M/8 each 8x8 block becomes M x M pixels, close to the block
// averages of the full decode; the stored size is kept alongside.
TEST(DecodeJpegTest, DecodesAtAReducedDctScale) {
  const std::vector<uint8_t> jpeg =
      EncodeTestJpeg(Gradient(3), kWidth, kHeight, TestJpegColor::kRgb);
  RgbImage full, half;
  ASSERT_TRUE(DecodeJpeg(jpeg, "full", full).ok());
  EXPECT_EQ(full.scale_eighths, 8);
  int asked_width = 0, asked_height = 0;
  ASSERT_TRUE(DecodeJpeg(jpeg, "half", half, [&](int width, int height) {
                asked_width = width;
                asked_height = height;
                return 4;
              }).ok());
  EXPECT_EQ(asked_width, kWidth);
  EXPECT_EQ(asked_height, kHeight);
  EXPECT_EQ(half.scale_eighths, 4);
  EXPECT_EQ(half.source_width, kWidth);
  EXPECT_EQ(half.source_height, kHeight);
  ASSERT_EQ(half.width, kWidth / 2);
  ASSERT_EQ(half.height, kHeight / 2);
  for (int y = 0; y < half.height; ++y) {
    for (int x = 0; x < half.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        double mean = 0;
        for (int k = 0; k < 4; ++k) {
          mean += full.pixels[((2 * y + k / 2) * kWidth + 2 * x + k % 2) * 3 + c] / 4.0;
        }
        ASSERT_NEAR(half.pixels[(y * half.width + x) * 3 + c], mean, 3) << x << " " << y;
      }
    }
  }
  EXPECT_THAT(DecodeJpeg(jpeg, "nine", half, [](int, int) { return 9; }).message(),
              AllOf(HasSubstr("nine"), HasSubstr("DCT scale 9/8")));
}

TEST(DecodeJpegFileTest, NamesAMissingFile) {
  std::vector<uint8_t> bytes;
  RgbImage image;
  const absl::Status status =
      DecodeJpegFile("/nonexistent/dir/x.JPEG", bytes, image);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/dir/x.JPEG"));
}

}  // namespace
}  // namespace psg::data
