#include "io/json.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace psg::io::internal {
namespace {

using Kind = JsonValue::Kind;

TEST(JsonTest, ParsesSubset) {
  absl::StatusOr<JsonValue> v = ParseJson(
      " {\"a\": [1, -2, 0, {\"b\": \"x\"}], \"c\": {}, \"d\": [], \"a\": "
      "\"dup\"}\n ");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->kind, Kind::kObject);
  ASSERT_EQ(v->object.size(), 4u);  // duplicates are kept for the caller
  EXPECT_EQ(v->object[0].key, "a");
  EXPECT_EQ(v->object[0].key_offset, 2u);
  const JsonValue& a = v->object[0].value;
  ASSERT_EQ(a.kind, Kind::kArray);
  ASSERT_EQ(a.array.size(), 4u);
  EXPECT_EQ(a.array[0].integer, 1);
  EXPECT_EQ(a.array[1].integer, -2);
  EXPECT_EQ(a.array[2].integer, 0);
  ASSERT_EQ(a.array[3].kind, Kind::kObject);
  EXPECT_EQ(a.array[3].object[0].value.string, "x");
  EXPECT_EQ(v->object[1].value.kind, Kind::kObject);
  EXPECT_TRUE(v->object[1].value.object.empty());
  EXPECT_EQ(v->object[2].value.kind, Kind::kArray);
  EXPECT_EQ(v->object[3].value.string, "dup");
  EXPECT_EQ(v->object[3].value.offset, 54u);  // position of the opening quote
}

TEST(JsonTest, StringEscapes) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"("q\" b\\ s\/ \b\f\n\r\t \u0041\u00e9\u20ac \ud83d\ude00 \u0000")");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->string,
            std::string("q\" b\\ s/ \b\f\n\r\t A\xC3\xA9\xE2\x82\xAC "
                        "\xF0\x9F\x98\x80 \0",
                        28));
}

TEST(JsonTest, IntegerRange) {
  EXPECT_EQ(ParseJson("9223372036854775807")->integer,
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseJson("-9223372036854775808")->integer,
            std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParseJson("9223372036854775808").ok());
  EXPECT_FALSE(ParseJson("-9223372036854775809").ok());
  EXPECT_FALSE(ParseJson("18446744073709551616").ok());
}

TEST(JsonTest, RejectsOutsideSubsetAndMalformed) {
  const char* bad[] = {
      "",
      "   ",
      "{",
      "}",
      "[1,]",
      "[1 2]",
      "{\"a\" 1}",
      "{\"a\":1,}",
      "{a:1}",
      "{\"a\":1}}",
      "{} x",
      "{}{}",
      "01",
      "-",
      "1.5",
      "1e3",
      "-0.0",
      "true",
      "false",
      "null",
      "\"abc",
      "\"a\\x\"",
      "\"\\u12\"",
      "\"\\u12g4\"",
      "\"\\ud800\"",
      "\"\\ud800\\u0041\"",
      "\"\\udc00\"",
      "'a'",
      "+1",
      "\"tab\there\"",
      "\"nl\nhere\"",
      "[\"a\",]",
      "\x01",
  };
  for (const char* text : bad) {
    absl::StatusOr<JsonValue> v = ParseJson(text);
    EXPECT_FALSE(v.ok()) << "accepted: " << text;
    if (!v.ok()) {
      EXPECT_NE(v.status().message().find("at byte"), absl::string_view::npos)
          << v.status();
    }
  }
}

TEST(JsonTest, TrailingGarbageMessageGivesOffset) {
  absl::StatusOr<JsonValue> v = ParseJson("{\"a\":1}  x");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("at byte 9"), absl::string_view::npos)
      << v.status();
}

TEST(JsonTest, DepthLimit) {
  std::string ok_text(kMaxJsonDepth, '[');
  ok_text += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(ok_text).ok());
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
  // Far deeper than the limit must fail cleanly, not overflow the stack.
  EXPECT_FALSE(ParseJson(std::string(100000, '[')).ok());
}

TEST(JsonTest, Utf8Validation) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), absl::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
            absl::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);            // lone continuation
  EXPECT_EQ(FindInvalidUtf8("a\xC0\x80"), 1u);         // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("x\xE2\x82"), 1u);         // truncated
  EXPECT_EQ(FindInvalidUtf8("\xFF"), 0u);
  EXPECT_FALSE(ParseJson("\"\xC3\"").ok());
}

}  // namespace
}  // namespace psg::io::internal
