// Reading the JSON result files the toolkit's commands write (result.json,
// ptq.json, prune_sweep.json, one object per line in metrics.jsonl), for the
// paper-reproduction drivers. Full RFC 8259 JSON; numbers are doubles. Every
// typed access returns a status that names the key and the kind found, so a
// driver can report a malformed or outdated result file instead of crashing.
//
//   absl::StatusOr<JsonValue> sweep = ReadJsonFile("runs/r20/prune_sweep/prune_sweep.json");
//   if (!sweep.ok()) return sweep.status();
//   absl::StatusOr<const std::vector<JsonValue>*> results = sweep->ArrayAt("results");
//   if (!results.ok()) return results.status();
//   for (const JsonValue& r : **results) {
//     absl::StatusOr<double> accuracy = r.NumberAt("test_accuracy");
//     ...
//   }
//   absl::StatusOr<std::vector<JsonValue>> epochs = ReadJsonLinesFile("runs/r20/metrics.jsonl");
//
// (//io:json is a different, integer-only parser for checkpoint headers.)
#ifndef PSG_REPORT_RESULT_JSON_H_
#define PSG_REPORT_RESULT_JSON_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psg::report {

// Arrays and objects may nest this deep (the top-level value is depth 1).
inline constexpr int kMaxJsonDepth = 64;

struct JsonMember;

// One parsed JSON value; read-only (values come only from the parsers below).
class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;  // null

  Kind kind() const { return kind_; }
  // "null", "bool", "number", "string", "array" or "object".
  static absl::string_view KindName(Kind kind);

  // The value as one kind; InvalidArgument naming the actual kind otherwise.
  absl::StatusOr<bool> AsBool() const;
  absl::StatusOr<double> AsNumber() const;
  absl::StatusOr<std::string> AsString() const;
  absl::StatusOr<const std::vector<JsonValue>*> AsArray() const;
  absl::StatusOr<const std::vector<JsonMember>*> AsObject() const;  // document order

  // The first member named `key`; null if there is none or this is not an object.
  const JsonValue* Find(absl::string_view key) const;

  // Find(key) as one kind. NotFound if the member is absent; InvalidArgument
  // if this is not an object or the member has another kind (both messages
  // name the key and the kind found).
  absl::StatusOr<double> NumberAt(absl::string_view key) const;
  absl::StatusOr<std::string> StringAt(absl::string_view key) const;
  absl::StatusOr<const std::vector<JsonValue>*> ArrayAt(absl::string_view key) const;

 private:
  friend class JsonParser;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::vector<JsonMember> members_;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Exactly one JSON value, with optional whitespace around it. InvalidArgument
// names the byte offset and what was expected there.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// One value per line, skipping lines that are empty or all whitespace
// (JSON Lines); errors start with "line N: " (N counts from 1).
absl::StatusOr<std::vector<JsonValue>> ParseJsonLines(absl::string_view text);

// The files' contents through ParseJson / ParseJsonLines; every error message
// starts with the path (NotFound if the file cannot be opened).
absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path);
absl::StatusOr<std::vector<JsonValue>> ReadJsonLinesFile(const std::string& path);

}  // namespace psg::report

#endif  // PSG_REPORT_RESULT_JSON_H_
