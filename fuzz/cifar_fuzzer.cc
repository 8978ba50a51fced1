// The CIFAR record parser on arbitrary bytes. The first byte picks the
// format (CIFAR-10, CIFAR-100 fine, CIFAR-100 coarse) and the record count
// (0..3 records, or whatever the file holds), the rest is the file.
#include <cstdint>
#include <cstdlib>

#include "data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using psg::data::CifarFormat;
  const CifarFormat format = data[0] % 3 == 0   ? CifarFormat::kCifar10
                             : data[0] % 3 == 1 ? CifarFormat::kCifar100Fine
                                                : CifarFormat::kCifar100Coarse;
  const int64_t record = format == CifarFormat::kCifar10 ? 3073 : 3074;
  const int64_t records = data[0] / 3 % 5 == 4 ? static_cast<int64_t>(size - 1) / record : data[0] / 3 % 5;
  const absl::string_view file(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<psg::data::ImageSet> set = psg::data::ParseCifar(file, format, records, "fuzz");
  if (!set.ok()) return 0;
  if (set->count != records || set->pixels.size() != static_cast<size_t>(records * 3072)) std::abort();
  for (int32_t label : set->labels) {
    if (label < 0 || label >= set->num_classes) std::abort();
  }
  return 0;
}
