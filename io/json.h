// Minimal strict JSON reader for checkpoint headers (they are written with
// io/json_writer.h). It stays apart from nlohmann/json, which reads the
// result files (report/result_json.h), because a header needs what nlohmann
// does not give: only the subset below (a float or bool where an offset
// belongs is an error, not a conversion), and duplicate keys kept for the
// caller to report instead of the last one silently winning.
//
// Internal to //io: only checkpoint.cc and tests use it. It supports exactly
// the JSON subset a safetensors header needs:
//   - objects (members kept in document order; duplicate keys are kept too, so
//     the caller can report them with a domain-specific message),
//   - arrays,
//   - strings, with all JSON escapes including \uXXXX and surrogate pairs,
//   - integers that fit in int64 (no fractions, no exponents).
// true/false/null and non-integer numbers are rejected, as is anything after
// the top-level value other than whitespace, invalid UTF-8 anywhere in the
// text, raw control characters inside strings, and nesting deeper than
// kMaxJsonDepth. Error messages give the byte offset in the text.

#ifndef PSG_IO_JSON_H_
#define PSG_IO_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psg::io::internal {

inline constexpr int kMaxJsonDepth = 32;

struct JsonMember;

struct JsonValue {
  enum class Kind { kObject, kArray, kString, kInteger };
  Kind kind = Kind::kInteger;
  // Byte offset in the parsed text where this value starts (for a string:
  // the position of its opening quote).
  size_t offset = 0;
  int64_t integer = 0;             // kInteger
  std::string string;              // kString (decoded)
  std::vector<JsonValue> array;    // kArray
  std::vector<JsonMember> object;  // kObject, in document order
};

struct JsonMember {
  std::string key;
  size_t key_offset = 0;  // byte offset of the key's opening quote
  JsonValue value;
};

// Parses `text`, which must hold exactly one JSON value (of the subset above)
// with optional surrounding whitespace (space, tab, CR, LF).
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// Returns the byte offset of the first invalid UTF-8 sequence in `s`
// (overlong forms, surrogates and code points above U+10FFFF are invalid),
// or absl::string_view::npos if `s` is valid UTF-8.
size_t FindInvalidUtf8(absl::string_view s);

}  // namespace psg::io::internal

#endif  // PSG_IO_JSON_H_
