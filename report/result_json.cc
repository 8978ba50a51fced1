#include "report/result_json.h"

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "io/files.h"

namespace psg::report {
namespace {

constexpr size_t kNone = absl::string_view::npos;

// The offset of the first '[' or '{' outside strings that opens a level
// deeper than kMaxJsonDepth; kNone if there is none. Exact on every prefix
// that nlohmann accepts (each bracket outside strings is a token to it, and
// it stops at the first unmatched one), so nlohmann never builds a value
// nested deeper than the limit from text this lets through. A stray closing
// bracket ends the scan: nlohmann rejects the text there.
size_t TooDeepAt(absl::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, possibly '"'
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && --depth < 0) {
      return kNone;
    }
  }
  return kNone;
}

// nlohmann's message without its "[json.exception.<kind>.<id>] " prefix and,
// for parse errors, without "parse error at line L, column C: " (the caller
// gives the byte offset instead).
absl::string_view MessageOf(const io::Json::exception& e, bool is_parse_error) {
  absl::string_view what = e.what();
  const size_t end = what.find(is_parse_error ? ": " : "] ");
  if (end != kNone) what.remove_prefix(end + 2);
  return what;
}

// nlohmann's parse; `error_offset` is the byte offset of a syntax error
// (kNone for other errors).
absl::StatusOr<io::Json> Parse(absl::string_view text, size_t& error_offset) {
  error_offset = kNone;
  try {
    return io::Json::parse(text.data(), text.data() + text.size());
  } catch (const io::Json::parse_error& e) {
    // e.byte counts from 1 and points at the byte where the error was found
    // (one past the end for an unexpected end of the text).
    error_offset = e.byte > 0 ? e.byte - 1 : 0;
    return absl::InvalidArgumentError(
        absl::StrFormat("JSON byte offset %d: %s", error_offset, MessageOf(e, /*is_parse_error=*/true)));
  } catch (const io::Json::exception& e) {  // out_of_range.406: a number beyond double's range
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", MessageOf(e, /*is_parse_error=*/false)));
  }
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status KindMismatch(absl::string_view key, absl::string_view wanted, const io::Json& found) {
  return absl::InvalidArgumentError(
      absl::StrCat("member \"", key, "\": expected ", wanted, ", found ", KindName(found)));
}

absl::StatusOr<const io::Json*> Member(const io::Json& object, absl::string_view key) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("looking up member \"", key, "\" in ", KindName(object), ", not an object"));
  }
  const auto it = object.find(std::string(key));
  if (it == object.end()) return absl::NotFoundError(absl::StrCat("no member \"", key, "\""));
  return &*it;
}

}  // namespace

absl::StatusOr<io::Json> ParseJson(absl::string_view text) {
  size_t error_offset;
  const size_t deep = TooDeepAt(text);
  if (deep == kNone) return Parse(text, error_offset);
  // The first error in the text wins: a syntax error before the bracket too
  // deep shows as an error before the end of the text up to it.
  const absl::StatusOr<io::Json> before = Parse(text.substr(0, deep), error_offset);
  if (!before.ok() && error_offset < deep) return before.status();
  return absl::InvalidArgumentError(
      absl::StrFormat("JSON byte offset %d: arrays and objects nested deeper than %d", deep, kMaxJsonDepth));
}

absl::StatusOr<std::vector<io::Json>> ParseJsonLines(absl::string_view text) {
  std::vector<io::Json> values;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == kNone) continue;
    absl::StatusOr<io::Json> value = ParseJson(line);
    if (!value.ok()) return Prefixed(absl::StrFormat("line %d: ", line_number), value.status());
    if (!value->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: expected an object, found %s", line_number, KindName(*value)));
    }
    values.push_back(*std::move(value));
  }
  return values;
}

absl::StatusOr<io::Json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = io::ReadRegularFile(path, "JSON file");
  if (!text.ok()) return text.status();
  absl::StatusOr<io::Json> value = ParseJson(*text);
  if (!value.ok()) return Prefixed(path + ": ", value.status());
  return value;
}

absl::StatusOr<std::vector<io::Json>> ReadJsonLinesFile(const std::string& path) {
  absl::StatusOr<std::string> text = io::ReadRegularFile(path, "JSON file");
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<io::Json>> values = ParseJsonLines(*text);
  if (!values.ok()) return Prefixed(path + ": ", values.status());
  return values;
}

absl::StatusOr<double> NumberAt(const io::Json& object, absl::string_view key) {
  absl::StatusOr<const io::Json*> member = Member(object, key);
  if (!member.ok()) return member.status();
  if (!(*member)->is_number()) return KindMismatch(key, "a number", **member);
  return (*member)->get<double>();
}

absl::StatusOr<std::string> StringAt(const io::Json& object, absl::string_view key) {
  absl::StatusOr<const io::Json*> member = Member(object, key);
  if (!member.ok()) return member.status();
  if (!(*member)->is_string()) return KindMismatch(key, "a string", **member);
  return (*member)->get<std::string>();
}

absl::StatusOr<const io::Json*> ArrayAt(const io::Json& object, absl::string_view key) {
  absl::StatusOr<const io::Json*> member = Member(object, key);
  if (!member.ok()) return member.status();
  if (!(*member)->is_array()) return KindMismatch(key, "an array", **member);
  return member;
}

std::string KindName(const io::Json& value) {
  if (value.is_null()) return "null";
  const absl::string_view name = value.type_name();  // "object", "array", "string", "boolean", "number", ...
  const bool vowel = absl::string_view("aeiou").find(name.front()) != kNone;
  return absl::StrCat(vowel ? "an " : "a ", name);
}

}  // namespace psg::report
