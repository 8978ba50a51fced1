// The checkpoint header's strict JSON reader (io/json.h) on arbitrary text:
// a value or an error, never a crash; nesting is bounded.
#include <cstdint>

#include "io/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)psg::io::internal::ParseJson(text);
  (void)psg::io::internal::FindInvalidUtf8(text);
  return 0;
}
