// The JPEG decode path (libjpeg-turbo through data/jpeg_decoder.h, whose
// error handling longjmps) on arbitrary bytes, decoding twice into one
// reused image as the image folder's threads do.
#include <cstdint>
#include <cstdlib>

#include "data/jpeg_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  psg::data::RgbImage image;
  for (int pass = 0; pass < 2; ++pass) {
    const absl::Status status = psg::data::DecodeJpeg(absl::MakeConstSpan(data, size), "fuzz", image);
    if (!status.ok()) return 0;
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) std::abort();
  }
  return 0;
}
