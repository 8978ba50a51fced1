// Reading the JSON result files the toolkit's commands write (result.json,
// ptq.json, prune_sweep.json, one object per line in metrics.jsonl), for the
// paper-reproduction drivers. A thin layer over nlohmann/json, the library
// that writes them (io/json_writer.h): values are io::Json. It adds what the
// drivers need to report a malformed or outdated result file instead of
// crashing: errors as statuses that name the path, the line (JSON Lines) and
// the byte offset, a nesting limit, and typed member access whose errors name
// the key and the kind found.
//
//   absl::StatusOr<io::Json> sweep = ReadJsonFile("runs/r20/prune_sweep/prune_sweep.json");
//   if (!sweep.ok()) return sweep.status();
//   absl::StatusOr<const io::Json*> results = ArrayAt(*sweep, "results");
//   if (!results.ok()) return results.status();
//   for (const io::Json& r : **results) {
//     absl::StatusOr<double> accuracy = NumberAt(r, "test_accuracy");
//     ...
//   }
//   absl::StatusOr<std::vector<io::Json>> epochs = ReadJsonLinesFile("runs/r20/metrics.jsonl");
//
// Full RFC 8259 JSON, as nlohmann reads it: strings must be valid UTF-8;
// integers stay integers (NumberAt converts any number to double); of
// duplicate keys the last one wins. (//io:json is a different, strict
// integer-only parser for checkpoint headers.)
#ifndef PSG_REPORT_RESULT_JSON_H_
#define PSG_REPORT_RESULT_JSON_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "io/json_writer.h"

namespace psg::report {

// Arrays and objects may nest this deep (the top-level value is depth 1).
// nlohmann's parser does not limit nesting, but copying, comparing or
// printing a value recurses, so deeper text is refused before it is parsed.
inline constexpr int kMaxJsonDepth = 64;

// Exactly one JSON value, with optional whitespace around it. InvalidArgument
// "JSON byte offset N: <what nlohmann expected there>" (N counts from 0), or
// "JSON: number overflow parsing '1e400'" for a number beyond double's range.
absl::StatusOr<io::Json> ParseJson(absl::string_view text);

// One object per line, skipping lines that are empty or all whitespace
// (JSON Lines); errors start with "line N: " (N counts from 1), including a
// line that holds another kind of value than an object.
absl::StatusOr<std::vector<io::Json>> ParseJsonLines(absl::string_view text);

// The files' contents through ParseJson / ParseJsonLines; parse errors start
// with "<path>: ", and one that cannot be read is reported by
// io::ReadRegularFile ("JSON file '<path>': ...", NotFound if it is missing).
absl::StatusOr<io::Json> ReadJsonFile(const std::string& path);
absl::StatusOr<std::vector<io::Json>> ReadJsonLinesFile(const std::string& path);

// The member `key` of `object` as one kind. NotFound if the member is absent;
// InvalidArgument if `object` is not an object or the member has another kind.
// Both messages name the key and the kind found:
//   member "scope": expected a number, found a string
//   no member "test_acc"
//   looking up member "test_accuracy" in an array, not an object
absl::StatusOr<double> NumberAt(const io::Json& object, absl::string_view key);  // any number
absl::StatusOr<std::string> StringAt(const io::Json& object, absl::string_view key);
absl::StatusOr<const io::Json*> ArrayAt(const io::Json& object, absl::string_view key);  // into `object`

// "null", "a boolean", "a number", "a string", "an array", "an object".
std::string KindName(const io::Json& value);

}  // namespace psg::report

#endif  // PSG_REPORT_RESULT_JSON_H_
