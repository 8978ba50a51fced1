#include "io/npy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "io/files.h"

namespace psg::io {
namespace {

template <class T>
absl::Status Write(const std::string& path, const char* descr, const std::vector<int64_t>& shape,
                   absl::Span<const T> values) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  if (count != static_cast<int64_t>(values.size())) {
    return absl::InvalidArgumentError(absl::StrCat("WriteNpy '", path, "': shape (", absl::StrJoin(shape, ", "),
                                                   ") holds ", count, " values, got ", values.size()));
  }
  std::string dict = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (",
                                  absl::StrJoin(shape, ", "), shape.size() == 1 ? ",), }" : "), }");
  const size_t unpadded = 10 + dict.size() + 1;  // magic and version, length, dict, newline
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  const uint16_t header_length = static_cast<uint16_t>(dict.size());
  return WriteFileAtomically(
      path, {absl::string_view("\x93NUMPY\x01\x00", 8),
             absl::string_view(reinterpret_cast<const char*>(&header_length), 2),  // little-endian host
             dict, absl::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T))});
}

}  // namespace

absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
                      absl::Span<const float> values) {
  return Write(path, "<f4", shape, values);
}

absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
                      absl::Span<const int32_t> values) {
  return Write(path, "<i4", shape, values);
}

}  // namespace psg::io
