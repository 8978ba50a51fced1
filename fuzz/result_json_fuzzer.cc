// The result-file JSON reader (report/result_json.h: nlohmann/json behind a
// nesting limit) on arbitrary text, as one document and as JSON Lines; every
// typed accessor on each value it accepts, whose nesting must stay within
// the limit, and which must read back equal from what the writer makes of it.
#include <cstdint>
#include <string>

#include "io/json_writer.h"
#include "report/result_json.h"

namespace {

using psg::io::Json;

void Visit(const Json& value, int depth) {
  // ParseJson bounds the nesting of arrays and objects; a scalar may sit one deeper.
  if (depth > psg::report::kMaxJsonDepth + 1) __builtin_trap();
  (void)psg::report::NumberAt(value, "test_accuracy");
  (void)psg::report::StringAt(value, "model");
  (void)psg::report::ArrayAt(value, "results");
  (void)psg::report::KindName(value);
  if (value.is_structured()) {
    for (const Json& item : value) Visit(item, depth + 1);  // array elements, object values
  }
}

// What the toolkit would write of `value` reads back as the same value.
void RoundTrip(const Json& value) {
  for (const std::string& text : {psg::io::JsonText(value), psg::io::JsonCompact(value)}) {
    const absl::StatusOr<Json> back = psg::report::ParseJson(text);
    if (!back.ok() || *back != value) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<Json> value = psg::report::ParseJson(text); value.ok()) {
    Visit(*value, 1);
    RoundTrip(*value);
  }
  if (auto lines = psg::report::ParseJsonLines(text); lines.ok()) {
    for (const Json& line : *lines) {
      if (!line.is_object()) __builtin_trap();
      Visit(line, 1);
      if (psg::io::JsonLine(line).find('\n') + 1 != psg::io::JsonLine(line).size()) __builtin_trap();
    }
  }
  return 0;
}
