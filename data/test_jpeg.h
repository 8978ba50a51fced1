#ifndef PSG_DATA_TEST_JPEG_H_
#define PSG_DATA_TEST_JPEG_H_

// Writes small JPEGs in memory with libjpeg, for decoder tests.
//
//   std::vector<uint8_t> jpeg =
//       EncodeTestJpeg(rgb_pixels, width, height, TestJpegColor::kRgb);

#include <cstdint>
#include <vector>

namespace psg::data {

enum class TestJpegColor {
  kRgb,         // pixels: RGB triples, stored as YCbCr
  kGray,        // pixels: one byte each
  kAdobeCmyk,   // pixels: CMYK quads as stored (Adobe inverted), Adobe marker
  kAdobeYcck,   // the same, stored as YCCK
  kPlainCmyk,   // pixels: CMYK quads, plain inks, no Adobe marker
};

std::vector<uint8_t> EncodeTestJpeg(const std::vector<uint8_t>& pixels,
                                    int width, int height, TestJpegColor color,
                                    int quality = 100);

}  // namespace psg::data

#endif  // PSG_DATA_TEST_JPEG_H_
