#include "io/json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace psg::io::internal {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Printable(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return absl::StrFormat("'%c'", c);
  return absl::StrFormat("byte 0x%02x", u);
}

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    if (size_t bad = FindInvalidUtf8(text_); bad != absl::string_view::npos) {
      return Error(bad, "invalid UTF-8");
    }
    SkipWhitespace();
    if (AtEnd()) return Error(pos_, "empty document, expected a JSON value");
    JsonValue value;
    if (absl::Status s = ParseValue(0, &value); !s.ok()) return s;
    SkipWhitespace();
    if (!AtEnd()) {
      return Error(pos_, absl::StrCat("unexpected ", Printable(text_[pos_]),
                                      " after the end of the JSON value"));
    }
    return value;
  }

 private:
  absl::Status Error(size_t at, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON error at byte ", at, ": ", what));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }

  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  absl::Status ParseValue(int depth, JsonValue* out) {
    SkipWhitespace();
    if (AtEnd()) return Error(pos_, "unexpected end of text, expected a value");
    out->offset = pos_;
    const char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(depth + 1, out);
      case '[':
        return ParseArray(depth + 1, out);
      case '"':
        out->kind = JsonValue::Kind::kString;
        return ParseString(&out->string);
      case 't':
      case 'f':
      case 'n':
        return Error(pos_,
                     "true/false/null are not supported in checkpoint headers "
                     "(only objects, arrays, strings and integers)");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          out->kind = JsonValue::Kind::kInteger;
          return ParseInteger(&out->integer);
        }
        return Error(pos_, absl::StrCat("unexpected ", Printable(c),
                                        ", expected a value"));
    }
  }

  absl::Status ParseObject(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) {
      return Error(pos_, absl::StrCat("nesting deeper than ", kMaxJsonDepth));
    }
    out->kind = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (!AtEnd() && text_[pos_] == '}') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (AtEnd()) return Error(pos_, "unexpected end of text in object");
      if (text_[pos_] != '"') {
        return Error(pos_, absl::StrCat("unexpected ", Printable(text_[pos_]),
                                        ", expected a string key"));
      }
      JsonMember member;
      member.key_offset = pos_;
      if (absl::Status s = ParseString(&member.key); !s.ok()) return s;
      SkipWhitespace();
      if (AtEnd() || text_[pos_] != ':') {
        return Error(pos_, "expected ':' after object key");
      }
      ++pos_;
      if (absl::Status s = ParseValue(depth, &member.value); !s.ok()) return s;
      out->object.push_back(std::move(member));
      SkipWhitespace();
      if (AtEnd()) return Error(pos_, "unexpected end of text in object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return absl::OkStatus();
      }
      return Error(pos_, absl::StrCat("unexpected ", Printable(text_[pos_]),
                                      ", expected ',' or '}'"));
    }
  }

  absl::Status ParseArray(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) {
      return Error(pos_, absl::StrCat("nesting deeper than ", kMaxJsonDepth));
    }
    out->kind = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (!AtEnd() && text_[pos_] == ']') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      JsonValue element;
      if (absl::Status s = ParseValue(depth, &element); !s.ok()) return s;
      out->array.push_back(std::move(element));
      SkipWhitespace();
      if (AtEnd()) return Error(pos_, "unexpected end of text in array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return absl::OkStatus();
      }
      return Error(pos_, absl::StrCat("unexpected ", Printable(text_[pos_]),
                                      ", expected ',' or ']'"));
    }
  }

  // Reads 4 hex digits at pos_ (after "\u").
  absl::Status ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Error(pos_, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = HexDigitValue(text_[pos_ + i]);
      if (d < 0) return Error(pos_ + i, "invalid hex digit in \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    pos_ += 4;
    *out = v;
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string* out) {
    const size_t start = pos_;
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (AtEnd()) return Error(start, "unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error(pos_, "raw control character in string (must be escaped)");
      }
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      const size_t escape_at = pos_;
      ++pos_;
      if (AtEnd()) return Error(start, "unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (absl::Status s = ParseHex4(&cp); !s.ok()) return s;
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error(escape_at, "unpaired low surrogate in \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.size() - pos_ < 2 || text_[pos_] != '\\' ||
                text_[pos_ + 1] != 'u') {
              return Error(escape_at, "unpaired high surrogate in \\u escape");
            }
            pos_ += 2;
            uint32_t low = 0;
            if (absl::Status s = ParseHex4(&low); !s.ok()) return s;
            if (low < 0xDC00 || low > 0xDFFF) {
              return Error(escape_at, "unpaired high surrogate in \\u escape");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error(escape_at,
                       absl::StrCat("invalid escape \\", Printable(e)));
      }
    }
  }

  absl::Status ParseInteger(int64_t* out) {
    const size_t start = pos_;
    bool negative = false;
    if (text_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    if (AtEnd() || text_[pos_] < '0' || text_[pos_] > '9') {
      return Error(start, "'-' not followed by a digit");
    }
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() &&
        text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9') {
      return Error(start, "leading zeros are not allowed in numbers");
    }
    // Magnitude limit: 2^63 for negative numbers, 2^63 - 1 otherwise.
    const uint64_t limit =
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
        (negative ? 1 : 0);
    uint64_t magnitude = 0;
    while (!AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (magnitude > (limit - digit) / 10) {
        return Error(start, "integer out of the 64-bit signed range");
      }
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
    if (!AtEnd() &&
        (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return Error(start,
                   "only integers are supported (no fractions or "
                   "exponents)");
    }
    if (negative) {
      *out = magnitude == (uint64_t{1} << 63)
                 ? std::numeric_limits<int64_t>::min()
                 : -static_cast<int64_t>(magnitude);
    } else {
      *out = static_cast<int64_t>(magnitude);
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  return Parser(text).ParseDocument();
}

size_t FindInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min_cp;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      min_cp = 0x80;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      min_cp = 0x800;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      min_cp = 0x10000;
      cp = c & 0x07;
    } else {
      return i;  // continuation byte, overlong C0/C1, or F5..FF
    }
    if (n - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return absl::string_view::npos;
}

}  // namespace psg::io::internal
