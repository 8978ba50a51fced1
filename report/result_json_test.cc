#include "report/result_json.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::report {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Kind = JsonValue::Kind;

// The parse error's message, or "ok".
std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  if (v.ok()) return "ok";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(v.status().message());
}

JsonValue Parsed(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.ok() ? *std::move(v) : JsonValue();
}

// The reference: the C library's conversion of the same literal text.
void ExpectSameAsStrtod(const std::string& literal) {
  absl::StatusOr<JsonValue> v = ParseJson(literal);
  ASSERT_TRUE(v.ok()) << literal << ": " << v.status();
  ASSERT_EQ(v->kind(), Kind::kNumber) << literal;
  const double expected = std::strtod(literal.c_str(), nullptr);
  EXPECT_EQ(std::bit_cast<uint64_t>(*v->AsNumber()), std::bit_cast<uint64_t>(expected)) << literal;
}

TEST(ResultJsonTest, ParsesEveryKindKeepingMemberOrder) {
  const JsonValue v = Parsed(
      " {\"b\": [1, -2.5e3, true, false, null, \"x\", [], {}],\n\t\"a\": {\"z\": 0, \"y\": 1}, \"c\": \"\"}\r\n");
  ASSERT_EQ(v.kind(), Kind::kObject);
  const std::vector<JsonMember>& members = **v.AsObject();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].key, "b");
  EXPECT_EQ(members[1].key, "a");
  EXPECT_EQ(members[2].key, "c");
  const std::vector<JsonValue>& b = **v.ArrayAt("b");
  ASSERT_EQ(b.size(), 8u);
  EXPECT_EQ(*b[0].AsNumber(), 1.0);
  EXPECT_EQ(*b[1].AsNumber(), -2500.0);
  EXPECT_TRUE(*b[2].AsBool());
  EXPECT_FALSE(*b[3].AsBool());
  EXPECT_EQ(b[4].kind(), Kind::kNull);
  EXPECT_EQ(*b[5].AsString(), "x");
  EXPECT_TRUE((*b[6].AsArray())->empty());
  EXPECT_TRUE((*b[7].AsObject())->empty());
  const std::vector<JsonMember>& a = **v.Find("a")->AsObject();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].key, "z");
  EXPECT_EQ(a[1].key, "y");
  EXPECT_EQ(*v.StringAt("c"), "");
  for (const char* scalar : {"0", "\"s\"", "true", "null"}) EXPECT_EQ(ErrorOf(scalar), "ok") << scalar;
}

TEST(ResultJsonTest, NumbersMatchStrtod) {
  for (const char* literal :
       {"0", "-0", "1", "-1", "0.5", "-0.0", "1e10", "1E+2", "1e-2", "-12.5E-3", "0.1", "0.30000000000000004",
        "123456789012345678901234567890", "9007199254740993", "2.2250738585072014e-308", "4.9e-324",
        "2.4703282292062327e-324", "1e-400", "-1e-400", "1.7976931348623157e308", "0e0", "0.000001"}) {
    ExpectSameAsStrtod(literal);
  }
  EXPECT_TRUE(std::signbit(*ParseJson("-0")->AsNumber()));

  std::mt19937_64 random(20240611);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 20000; ++i) {
    const double bits = std::bit_cast<double>(random());
    if (!std::isfinite(bits)) continue;
    const std::string exact = absl::StrFormat("%.17g", bits);
    ExpectSameAsStrtod(exact);
    EXPECT_EQ(std::bit_cast<uint64_t>(*ParseJson(exact)->AsNumber()), std::bit_cast<uint64_t>(bits)) << exact;
    ExpectSameAsStrtod(absl::StrFormat("%g", bits));
    // What the commands write: accuracies with %.6f, sparsities with %g.
    const double accuracy = unit(random);
    ExpectSameAsStrtod(absl::StrFormat("%.6f", accuracy));
    ExpectSameAsStrtod(absl::StrFormat("%g", accuracy));
    ExpectSameAsStrtod(absl::StrFormat("%d", static_cast<int64_t>(random()) >> (random() % 64)));
  }
}

TEST(ResultJsonTest, DecodesEscapesToUtf8) {
  EXPECT_EQ(*Parsed(R"("\"\\\/\b\f\n\r\t")").AsString(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(*Parsed(R"("a\u0041\u00e9\u00E9")").AsString(), "aA\xC3\xA9\xC3\xA9");
  EXPECT_EQ(*Parsed(R"("\u07FF\u0800\u20AC\uFFFF")").AsString(),
            "\xDF\xBF\xE0\xA0\x80\xE2\x82\xAC\xEF\xBF\xBF");
  EXPECT_EQ(*Parsed(R"("\uD83D\uDE00")").AsString(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(*Parsed(R"("\ud800\udc00")").AsString(), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(*Parsed(R"("\uDBFF\uDFFF")").AsString(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(*Parsed(R"("\u0000")").AsString(), std::string(1, '\0'));
  EXPECT_EQ(*Parsed("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").AsString(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(Parsed(R"({"\u006b\u0065y": 1})").Find("key")->kind(), Kind::kNumber);
}

TEST(ResultJsonTest, RejectsMalformedTextNamingTheOffset) {
  struct Case {
    std::string text;
    int offset;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"", 0, "expected a value, found the end of the text"},
      {"  \n ", 4, "expected a value"},
      {"1 2", 2, "expected the end of the text after the value, found '2'"},
      {"{} x", 3, "expected the end of the text"},
      {"{\"a\": 1}}", 8, "expected the end of the text"},
      {"[1,]", 3, "expected a value, found ']'"},
      {"[1 2]", 3, "expected ',' or ']' after an array element, found '2'"},
      {"[1", 2, "expected ',' or ']'"},
      {"{\"a\": 1,}", 8, "expected '\"' starting an object key, found '}'"},
      {"{1: 2}", 1, "starting an object key"},
      {"{\"a\" 1}", 5, "expected ':' after an object key, found '1'"},
      {"{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}' after an object member"},
      {"\"abc", 4, "expected '\"' closing the string at byte offset 0, found the end of the text"},
      {R"(["a\"])", 6, "closing the string at byte offset 1"},
      {R"("a\x")", 3, "expected one of \"\\/bfnrtu after '\\', found 'x'"},
      {R"("\)", 2, "after '\\', found the end of the text"},
      {R"("\u12G4")", 5, "expected 4 hex digits after \\u, found 'G'"},
      {R"("\u12")", 5, "4 hex digits"},
      {R"("\uD800")", 7, "expected a low surrogate \\uDC00-\\uDFFF after a high surrogate, found '\"'"},
      {R"("\uD800\n")", 7, "low surrogate"},
      {R"("\uD800\u0041")", 7, "expected a low surrogate"},
      {R"("\uDC00")", 1, "expected a high surrogate"},
      {"\"a\nb\"", 2, "control character in a string, found byte 0x0a"},
      {"\"\t\"", 1, "control character"},
      {"01", 1, "expected '.', 'e' or the number's end after a leading 0, found '1'"},
      {"-01", 2, "leading 0"},
      {"[00]", 2, "leading 0"},
      {"1.", 2, "expected a digit after the decimal point"},
      {"1.e5", 2, "decimal point"},
      {".5", 0, "expected a value, found '.'"},
      {"1e", 2, "expected a digit in the exponent"},
      {"1e+", 3, "exponent"},
      {"-", 1, "expected a digit, found the end of the text"},
      {"+1", 0, "expected a value, found '+'"},
      {"0x10", 1, "expected the end of the text"},
      {"[1e400]", 1, "number out of range: 1e400"},
      {"-1e400", 0, "out of range"},
      {"NaN", 0, "expected a value, found 'N'"},
      {"nan", 0, "expected a value"},
      {"Infinity", 0, "expected a value, found 'I'"},
      {"-Infinity", 1, "expected a digit, found 'I'"},
      {"[inf]", 1, "expected a value"},
      {"tru", 0, "expected a value"},
      {"True", 0, "expected a value"},
      {"nul", 0, "expected a value"},
      {"'a'", 0, "expected a value, found '''"},
      {"\f1", 0, "found byte 0x0c"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ErrorOf(c.text), StartsWith(absl::StrFormat("JSON byte offset %d: ", c.offset))) << c.text;
    EXPECT_THAT(ErrorOf(c.text), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ResultJsonTest, NestingIsLimitedTo64Levels) {
  EXPECT_EQ(ErrorOf(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')), "ok");
  EXPECT_EQ(ErrorOf(std::string(65, '[') + std::string(65, ']')),
            "JSON byte offset 64: arrays and objects nested deeper than 64");
  std::string objects;
  for (int i = 0; i < 64; ++i) objects += "{\"a\":";
  EXPECT_EQ(ErrorOf(objects + "0" + std::string(64, '}')), "ok");
  EXPECT_THAT(ErrorOf(objects + "[]" + std::string(64, '}')),
              StartsWith(absl::StrFormat("JSON byte offset %d: ", objects.size())));
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("nested deeper than 64"));
}

TEST(ResultJsonTest, AccessorsNameTheKeyAndTheKindFound) {
  // Shaped like prune_sweep.json.
  const JsonValue v = Parsed(R"({"flags": {"model": "resnet20", "prune_first_last": false},
      "results": [
        {"scope": "dense", "sparsity": 0, "test_accuracy": 0.912300, "layers": []},
        {"scope": "global", "sparsity": 0.5, "test_accuracy": 0.905100, "layers": [
          {"name": "conv1", "size": 432, "pruned": 216, "sparsity": 0.500000}]}],
      "note": null, "dup": 1, "dup": 2})");
  absl::StatusOr<const std::vector<JsonValue>*> results = v.ArrayAt("results");
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ((*results)->size(), 2u);
  const JsonValue& global = (**results)[1];
  EXPECT_EQ(*global.NumberAt("test_accuracy"), 0.9051);
  EXPECT_EQ(*global.StringAt("scope"), "global");
  EXPECT_EQ(*(**global.ArrayAt("layers"))[0].NumberAt("pruned"), 216);
  EXPECT_EQ(*v.Find("flags")->StringAt("model"), "resnet20");
  EXPECT_FALSE(*v.Find("flags")->Find("prune_first_last")->AsBool());
  EXPECT_EQ(*v.NumberAt("dup"), 1);  // the first of duplicate keys

  EXPECT_EQ(v.Find("missing"), nullptr);
  EXPECT_EQ(global.Find("layers")->Find("name"), nullptr);  // an array has no members
  EXPECT_EQ(Parsed("\"x\"").Find("x"), nullptr);

  const auto expect_error = [](const absl::Status& status, absl::StatusCode code, const std::string& message) {
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_EQ(status.message(), message);
  };
  expect_error(global.NumberAt("scope").status(), absl::StatusCode::kInvalidArgument,
               "member \"scope\": expected a number, found a string");
  expect_error(global.StringAt("sparsity").status(), absl::StatusCode::kInvalidArgument,
               "member \"sparsity\": expected a string, found a number");
  expect_error(v.ArrayAt("flags").status(), absl::StatusCode::kInvalidArgument,
               "member \"flags\": expected an array, found an object");
  expect_error(v.NumberAt("note").status(), absl::StatusCode::kInvalidArgument,
               "member \"note\": expected a number, found null");
  expect_error(v.Find("flags")->NumberAt("prune_first_last").status(), absl::StatusCode::kInvalidArgument,
               "member \"prune_first_last\": expected a number, found a bool");
  expect_error(global.NumberAt("test_acc").status(), absl::StatusCode::kNotFound, "no member \"test_acc\"");
  expect_error(v.Find("results")->NumberAt("test_accuracy").status(), absl::StatusCode::kInvalidArgument,
               "looking up member \"test_accuracy\" in an array, not an object");
  expect_error(v.AsArray().status(), absl::StatusCode::kInvalidArgument,
               "expected an array, found an object");
  expect_error(global.Find("scope")->AsBool().status(), absl::StatusCode::kInvalidArgument,
               "expected a bool, found a string");
  EXPECT_EQ(JsonValue::KindName(Kind::kObject), "object");
  EXPECT_EQ(JsonValue().kind(), Kind::kNull);
}

TEST(ResultJsonTest, ParsesJsonLinesNamingTheLine) {
  absl::StatusOr<std::vector<JsonValue>> lines =
      ParseJsonLines("{\"epoch\": 0, \"train_loss\": 2.3}\n\n{\"epoch\": 1}\r\n  \t\n[2]");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(*(*lines)[0].NumberAt("train_loss"), 2.3);
  EXPECT_EQ(*(*lines)[1].NumberAt("epoch"), 1);
  EXPECT_EQ((*lines)[2].kind(), Kind::kArray);
  EXPECT_EQ(ParseJsonLines("{}\n")->size(), 1u);
  EXPECT_TRUE(ParseJsonLines("")->empty());
  EXPECT_TRUE(ParseJsonLines("\n \n")->empty());

  absl::StatusOr<std::vector<JsonValue>> bad = ParseJsonLines("{\"epoch\": 0}\n\n{\"epoch\": }\n{}\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "line 3: JSON byte offset 10: expected a value, found '}'");
  // A value may not span lines.
  EXPECT_THAT(std::string(ParseJsonLines("{\"a\":\n1}").status().message()), StartsWith("line 1: JSON byte offset 5:"));
  EXPECT_THAT(std::string(ParseJsonLines("{} {}").status().message()), StartsWith("line 1: JSON byte offset 3:"));
}

TEST(ResultJsonTest, ReadsFilesNamingThePath) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string missing = dir + "/no_such_dir/result.json";
  absl::StatusOr<JsonValue> none = ReadJsonFile(missing);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), StartsWith(missing + ": cannot open"));
  EXPECT_THAT(std::string(ReadJsonLinesFile(missing).status().message()), StartsWith(missing + ": cannot open"));

  const auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  };
  absl::StatusOr<JsonValue> result = ReadJsonFile(write("result.json", "{\"test_accuracy\": 0.9187}\n"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result->NumberAt("test_accuracy"), 0.9187);

  const std::string broken = write("broken.json", "{\"test_accuracy\": 0.9187,\n");
  EXPECT_EQ(ReadJsonFile(broken).status().message(),
            broken + ": JSON byte offset 26: expected '\"' starting an object key, found the end of the text");

  absl::StatusOr<std::vector<JsonValue>> metrics =
      ReadJsonLinesFile(write("metrics.jsonl", "{\"epoch\": 1}\n{\"epoch\": 2}\n"));
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->size(), 2u);
  EXPECT_EQ(*metrics->back().NumberAt("epoch"), 2);
  const std::string cut = write("cut.jsonl", "{\"epoch\": 1}\n{\"epoch\": 2");
  EXPECT_EQ(ReadJsonLinesFile(cut).status().message(),
            cut + ": line 2: JSON byte offset 11: expected ',' or '}' after an object member, found the end "
                  "of the text");
}

}  // namespace
}  // namespace psg::report
