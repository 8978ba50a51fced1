// The one way the toolkit writes JSON: nlohmann/json (Debian's
// nlohmann-json3-dev) with keys in insertion order. The library escapes every
// string, so a path holding '"' or '\' stays valid JSON; non-finite numbers
// (NaN, +-inf) are written as null, never as `nan`; invalid UTF-8 bytes (a
// Linux path may hold any) become U+FFFD instead of an exception.
//
//   Json result = {{"checkpoint", path}, {"test_accuracy", 0.91}};
//   result["layers"].push_back({{"name", "conv1.weight"}, {"mse", 1e-4}});
//   absl::Status s = WriteJsonFile(dir + "/result.json", result);  // atomic, checked
//   s = metrics.Append(JsonLine(epoch));                           // io/files.h
#ifndef PSG_IO_JSON_WRITER_H_
#define PSG_IO_JSON_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace psg::io {

using Json = nlohmann::ordered_json;

// Indented by two spaces, ending in a newline: result files.
std::string JsonText(const Json& value);
// On one line, ending in a newline: JSON Lines (metrics.jsonl).
std::string JsonLine(const Json& value);
// Without a newline, on one line: JSON inside other text (checkpoint metadata).
std::string JsonCompact(const Json& value);

// JsonText(value) written atomically (io/files.h WriteFileAtomically).
absl::Status WriteJsonFile(const std::string& path, const Json& value);

}  // namespace psg::io

#endif  // PSG_IO_JSON_WRITER_H_
