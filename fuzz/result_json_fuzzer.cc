// The result-file JSON reader (report/result_json.h) on arbitrary text,
// as one document and as JSON Lines, and every typed accessor on what it
// accepts.
#include <cstdint>
#include <vector>

#include "report/result_json.h"

namespace {

using psg::report::JsonValue;

void Visit(const JsonValue& value, int depth) {
  (void)value.AsBool();
  (void)value.AsNumber();
  (void)value.AsString();
  (void)value.NumberAt("test_accuracy");
  (void)value.StringAt("model");
  (void)value.ArrayAt("results");
  if (depth > psg::report::kMaxJsonDepth + 1) __builtin_trap();  // the parser bounds nesting
  if (absl::StatusOr<const std::vector<JsonValue>*> items = value.AsArray(); items.ok()) {
    for (const JsonValue& item : **items) Visit(item, depth + 1);
  }
  if (auto members = value.AsObject(); members.ok()) {
    for (const psg::report::JsonMember& m : **members) Visit(m.value, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<JsonValue> value = psg::report::ParseJson(text); value.ok()) Visit(*value, 1);
  if (auto lines = psg::report::ParseJsonLines(text); lines.ok()) {
    for (const JsonValue& line : *lines) Visit(line, 1);
  }
  return 0;
}
