// The IDX reader (plain or gzip) on arbitrary bytes: the first two bytes
// give the length of the images file (little-endian), the rest after it is
// the labels file. Bits 0 and 1 of the third byte gzip the images and the
// labels before they are read, so that valid gzip streams of arbitrary
// contents reach the inflating reader (random bytes are corrupt deflate data).
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "data/idx.h"

namespace {

std::string Gzip(absl::string_view data) {
  z_stream zs = {};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = data.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t images_size = std::min<size_t>(data[0] | data[1] << 8, size - 3);
  std::string images(reinterpret_cast<const char*>(data + 3), images_size);
  std::string labels(reinterpret_cast<const char*>(data + 3 + images_size), size - 3 - images_size);
  if (data[2] & 1) images = Gzip(images);
  if (data[2] & 2) labels = Gzip(labels);
  absl::StatusOr<psg::data::ImageSet> set = psg::data::ParseIdx(images, "images", labels, "labels");
  if (!set.ok()) return 0;
  if (set->pixels.size() != static_cast<size_t>(set->count * set->image_size())) std::abort();
  for (int32_t label : set->labels) {
    if (label < 0 || label >= set->num_classes) std::abort();
  }
  return 0;
}
