#include "report/result_json.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace psg::report {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "a number", "an array", "null": for messages like "expected a number, found null".
std::string WithArticle(JsonValue::Kind kind) {
  using Kind = JsonValue::Kind;
  if (kind == Kind::kNull) return "null";
  const bool vowel = kind == Kind::kArray || kind == Kind::kObject;
  return absl::StrCat(vowel ? "an " : "a ", JsonValue::KindName(kind));
}

absl::Status KindMismatch(JsonValue::Kind wanted, JsonValue::Kind found) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", WithArticle(wanted), ", found ", WithArticle(found)));
}

// A lead byte that marks the length (0xxxxxxx, 110xxxxx, 1110xxxx, 11110xxx),
// then 6 bits per 10xxxxxx continuation byte.
void AppendUtf8(uint32_t code_point, std::string& out) {
  static constexpr unsigned char kLead[] = {0x00, 0xC0, 0xE0, 0xF0};
  const int continuations = code_point < 0x80 ? 0 : code_point < 0x800 ? 1 : code_point < 0x10000 ? 2 : 3;
  out += static_cast<char>(kLead[continuations] | (code_point >> 6 * continuations));
  for (int i = continuations - 1; i >= 0; --i) out += static_cast<char>(0x80 | ((code_point >> 6 * i) & 0x3F));
}

// object.Find(key), then `as` on it; the errors name the key.
template <typename T>
absl::StatusOr<T> MemberAs(const JsonValue& object, absl::string_view key,
                           absl::StatusOr<T> (JsonValue::*as)() const) {
  if (object.kind() != JsonValue::Kind::kObject) {
    return absl::InvalidArgumentError(absl::StrCat("looking up member \"", key, "\" in ",
                                                   WithArticle(object.kind()), ", not an object"));
  }
  const JsonValue* member = object.Find(key);
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no member \"", key, "\""));
  absl::StatusOr<T> value = (member->*as)();
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("member \"", key, "\": ", value.status().message()));
  }
  return value;
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return contents.str();
}

}  // namespace

// Recursive descent over the text; pos_ is the next unread byte. A friend of
// JsonValue, so that values stay read-only for everyone else.
class JsonParser {
 public:
  explicit JsonParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    JsonValue value;
    if (absl::Status s = ParseValue(1, value); !s.ok()) return s;
    SkipWhitespace();
    if (pos_ < text_.size()) return Expected(pos_, "the end of the text after the value");
    return value;
  }

 private:
  absl::Status Fail(size_t offset, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrFormat("JSON byte offset %d: %s", offset, message));
  }

  absl::Status Expected(size_t offset, absl::string_view what) const {
    std::string found = "the end of the text";
    if (offset < text_.size()) {
      const unsigned char c = text_[offset];
      found = c >= 0x20 && c < 0x7F ? absl::StrFormat("'%c'", c) : absl::StrFormat("byte 0x%02x", c);
    }
    return Fail(offset, absl::StrCat("expected ", what, ", found ", found));
  }

  bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool AtDigit() const { return pos_ < text_.size() && IsDigit(text_[pos_]); }

  bool Consume(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  void SkipWhitespace() {  // only the four characters RFC 8259 allows
    while (At(' ') || At('\t') || At('\n') || At('\r')) ++pos_;
  }

  absl::Status ParseValue(int depth, JsonValue& out) {
    SkipWhitespace();
    if (At('{') || At('[')) {
      if (depth > kMaxJsonDepth) {
        return Fail(pos_, absl::StrFormat("arrays and objects nested deeper than %d", kMaxJsonDepth));
      }
      return At('{') ? ParseObject(depth, out) : ParseArray(depth, out);
    }
    if (At('"')) {
      out.kind_ = JsonValue::Kind::kString;
      return ParseString(out.string_);
    }
    if (At('-') || AtDigit()) return ParseNumber(out);
    const bool is_true = Consume("true");
    if (is_true || Consume("false")) {
      out.kind_ = JsonValue::Kind::kBool;
      out.bool_ = is_true;
      return absl::OkStatus();
    }
    if (Consume("null")) return absl::OkStatus();  // `out` is null already
    return Expected(pos_, "a value");  // also NaN, Infinity, 'single quotes', ...
  }

  absl::Status ParseObject(int depth, JsonValue& out) {
    out.kind_ = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (Consume("}")) return absl::OkStatus();
    while (true) {
      SkipWhitespace();
      if (!At('"')) return Expected(pos_, "'\"' starting an object key");
      JsonMember member;
      if (absl::Status s = ParseString(member.key); !s.ok()) return s;
      SkipWhitespace();
      if (!Consume(":")) return Expected(pos_, "':' after an object key");
      if (absl::Status s = ParseValue(depth + 1, member.value); !s.ok()) return s;
      out.members_.push_back(std::move(member));
      SkipWhitespace();
      if (Consume("}")) return absl::OkStatus();
      if (!Consume(",")) return Expected(pos_, "',' or '}' after an object member");
    }
  }

  absl::Status ParseArray(int depth, JsonValue& out) {
    out.kind_ = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (Consume("]")) return absl::OkStatus();
    while (true) {
      out.array_.emplace_back();
      if (absl::Status s = ParseValue(depth + 1, out.array_.back()); !s.ok()) return s;
      SkipWhitespace();
      if (Consume("]")) return absl::OkStatus();
      if (!Consume(",")) return Expected(pos_, "',' or ']' after an array element");
    }
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, checked here because
  // strtod alone would also take "01", "1.", ".5", "0x1p3", "inf", ...
  absl::Status ParseNumber(JsonValue& out) {
    const size_t start = pos_;
    if (At('-')) ++pos_;
    if (At('0')) {
      ++pos_;
      if (AtDigit()) return Expected(pos_, "'.', 'e' or the number's end after a leading 0");
    } else if (!AtDigit()) {
      return Expected(pos_, "a digit");
    }
    while (AtDigit()) ++pos_;
    if (At('.')) {
      ++pos_;
      if (!AtDigit()) return Expected(pos_, "a digit after the decimal point");
      while (AtDigit()) ++pos_;
    }
    if (At('e') || At('E')) {
      ++pos_;
      if (At('+') || At('-')) ++pos_;
      if (!AtDigit()) return Expected(pos_, "a digit in the exponent");
      while (AtDigit()) ++pos_;
    }
    // strtod rounds correctly; the toolkit never changes the C locale's '.'.
    const std::string literal(text_.substr(start, pos_ - start));
    out.kind_ = JsonValue::Kind::kNumber;
    out.number_ = std::strtod(literal.c_str(), nullptr);
    if (std::isinf(out.number_)) return Fail(start, absl::StrCat("number out of range: ", literal));
    return absl::OkStatus();  // underflow gives 0 or a subnormal, as it should
  }

  absl::Status ParseHex4(uint32_t& value) {
    value = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char c = pos_ < text_.size() ? text_[pos_] : '\0';
      const int digit = IsDigit(c) ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return Expected(pos_, "4 hex digits after \\u");
      value = value * 16 + digit;
    }
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string& out) {
    const size_t start = pos_++;  // '"'
    while (true) {
      if (pos_ >= text_.size()) {
        return Expected(pos_, absl::StrFormat("'\"' closing the string at byte offset %d", start));
      }
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Expected(pos_, "an escape such as \\n instead of a control character in a string");
      }
      ++pos_;
      if (c != '\\') {
        out += c;  // UTF-8 bytes are copied as they are
        continue;
      }
      const size_t escape = pos_ - 1;
      const char e = pos_ < text_.size() ? text_[pos_] : '\0';
      static constexpr absl::string_view kEscaped = "\"\\/bfnrt", kDecoded = "\"\\/\b\f\n\r\t";
      if (kEscaped.find(e) != absl::string_view::npos) {
        out += kDecoded[kEscaped.find(e)];
        ++pos_;
        continue;
      }
      if (e != 'u') return Expected(pos_, "one of \"\\/bfnrtu after '\\'");
      ++pos_;
      uint32_t code_point;
      if (absl::Status s = ParseHex4(code_point); !s.ok()) return s;
      if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
        return Fail(escape, "expected a high surrogate (\\uD800-\\uDBFF) before a low surrogate");
      }
      if (code_point >= 0xD800 && code_point <= 0xDBFF) {  // UTF-16 pair: one code point
        uint32_t low = 0;
        if (!(At('\\') && text_.substr(pos_ + 1, 1) == "u")) {
          return Expected(pos_, "a low surrogate \\uDC00-\\uDFFF after a high surrogate");
        }
        pos_ += 2;
        if (absl::Status s = ParseHex4(low); !s.ok()) return s;
        if (low < 0xDC00 || low > 0xDFFF) {
          return Fail(pos_ - 6, "expected a low surrogate \\uDC00-\\uDFFF after a high surrogate");
        }
        code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
      }
      AppendUtf8(code_point, out);
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

absl::string_view JsonValue::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "?";
}

absl::StatusOr<bool> JsonValue::AsBool() const {
  if (kind_ != Kind::kBool) return KindMismatch(Kind::kBool, kind_);
  return bool_;
}

absl::StatusOr<double> JsonValue::AsNumber() const {
  if (kind_ != Kind::kNumber) return KindMismatch(Kind::kNumber, kind_);
  return number_;
}

absl::StatusOr<std::string> JsonValue::AsString() const {
  if (kind_ != Kind::kString) return KindMismatch(Kind::kString, kind_);
  return string_;
}

absl::StatusOr<const std::vector<JsonValue>*> JsonValue::AsArray() const {
  if (kind_ != Kind::kArray) return KindMismatch(Kind::kArray, kind_);
  return &array_;
}

absl::StatusOr<const std::vector<JsonMember>*> JsonValue::AsObject() const {
  if (kind_ != Kind::kObject) return KindMismatch(Kind::kObject, kind_);
  return &members_;
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  for (const JsonMember& member : members_) {  // empty unless an object
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

absl::StatusOr<double> JsonValue::NumberAt(absl::string_view key) const {
  return MemberAs(*this, key, &JsonValue::AsNumber);
}

absl::StatusOr<std::string> JsonValue::StringAt(absl::string_view key) const {
  return MemberAs(*this, key, &JsonValue::AsString);
}

absl::StatusOr<const std::vector<JsonValue>*> JsonValue::ArrayAt(absl::string_view key) const {
  return MemberAs(*this, key, &JsonValue::AsArray);
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) { return JsonParser(text).ParseDocument(); }

absl::StatusOr<std::vector<JsonValue>> ParseJsonLines(absl::string_view text) {
  std::vector<JsonValue> values;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    absl::StatusOr<JsonValue> value = ParseJson(line);
    if (!value.ok()) return Prefixed(absl::StrFormat("line %d: ", line_number), value.status());
    values.push_back(*std::move(value));
  }
  return values;
}

absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<JsonValue> value = ParseJson(*text);
  if (!value.ok()) return Prefixed(path + ": ", value.status());
  return value;
}

absl::StatusOr<std::vector<JsonValue>> ReadJsonLinesFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<JsonValue>> values = ParseJsonLines(*text);
  if (!values.ok()) return Prefixed(path + ": ", values.status());
  return values;
}

}  // namespace psg::report
