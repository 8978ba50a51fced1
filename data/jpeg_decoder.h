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

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace psg::data {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, row-major, RGB
};

// Decodes `jpeg` into `image`, reusing its buffer. `name` (e.g. the file
// path) prefixes error messages.
absl::Status DecodeJpeg(absl::Span<const uint8_t> jpeg, absl::string_view name,
                        RgbImage& image);

// Reads the file at `path` into `file_bytes` and decodes it into `image`.
absl::Status DecodeJpegFile(const std::string& path,
                            std::vector<uint8_t>& file_bytes, RgbImage& image);

}  // namespace psg::data

#endif  // PSG_DATA_JPEG_DECODER_H_
