#ifndef PSG_DATA_JPEG_DECODER_H_
#define PSG_DATA_JPEG_DECODER_H_

// JPEG decoding to 8-bit RGB with libjpeg-turbo. Grayscale images come out
// with the gray value in all three channels; CMYK and YCCK images (Adobe
// inverted CMYK, as Photoshop writes them, or plain CMYK) are converted to
// RGB. Corrupt or truncated data gives an error Status, never exit().
//
//   RgbImage image;
//   std::vector<uint8_t> file_bytes;  // reused across calls, like image
//   absl::Status status = DecodeJpegFile(path, file_bytes, image);
//   // image.pixels: image.height rows of image.width RGB triples.
//
// DCT-domain downscaling: libjpeg-turbo can decode at M/8 of the size
// (M = 1..8) by inverse-transforming only the low M x M frequencies of each
// block, several times faster than a full decode followed by a resize. The
// caller picks M once the header has given the size:
//
//   status = DecodeJpegFile(path, file_bytes, image,
//                           [](int width, int height) { return width >= 1600 ? 4 : 8; });
//   // image.width == ceil(image.source_width * image.scale_eighths / 8)

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace psg::data {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, row-major, RGB
  // The stored image's size, and the DCT scale it was decoded at: source
  // pixel coordinate x maps to x * scale_eighths / 8 here.
  int source_width = 0;
  int source_height = 0;
  int scale_eighths = 8;
};

// Given the stored width and height, returns the DCT scale numerator M in
// 1..8: decode at M/8 of the size (8: full size).
using DctScaleChooser = absl::FunctionRef<int(int width, int height)>;

// Decodes `jpeg` into `image`, reusing its buffer. `name` (e.g. the file
// path) prefixes error messages.
absl::Status DecodeJpeg(absl::Span<const uint8_t> jpeg, absl::string_view name,
                        RgbImage& image);
// The same at the DCT scale `choose` picks (a value outside 1..8 is an error).
absl::Status DecodeJpeg(absl::Span<const uint8_t> jpeg, absl::string_view name,
                        RgbImage& image, DctScaleChooser choose);

// Reads the file at `path` into `file_bytes` and decodes it into `image`.
absl::Status DecodeJpegFile(const std::string& path,
                            std::vector<uint8_t>& file_bytes, RgbImage& image);
absl::Status DecodeJpegFile(const std::string& path,
                            std::vector<uint8_t>& file_bytes, RgbImage& image,
                            DctScaleChooser choose);

}  // namespace psg::data

#endif  // PSG_DATA_JPEG_DECODER_H_
