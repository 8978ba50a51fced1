#include "report/result_json.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/json_writer.h"

namespace psg::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The parse error's message, or "ok".
std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<io::Json> v = ParseJson(text);
  if (v.ok()) return "ok";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(v.status().message());
}

io::Json Parsed(absl::string_view text) {
  absl::StatusOr<io::Json> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.ok() ? *std::move(v) : io::Json();
}

// NumberAt's value of {"x": <literal>}, bit for bit.
uint64_t NumberBits(const std::string& literal) {
  absl::StatusOr<double> x = NumberAt(Parsed(absl::StrCat("{\"x\": ", literal, "}")), "x");
  EXPECT_TRUE(x.ok()) << literal << ": " << x.status();
  return std::bit_cast<uint64_t>(x.value_or(-1));
}

std::string TempDir() { return std::getenv("TEST_TMPDIR"); }

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(ResultJsonTest, ParsesEveryKindKeepingMemberOrder) {
  const io::Json v = Parsed(
      " {\"b\": [1, -2.5e3, true, false, null, \"x\", [], {}],\n\t\"a\": {\"z\": 0, \"y\": 1}, \"c\": \"\"}\r\n");
  ASSERT_TRUE(v.is_object());
  std::vector<std::string> keys;
  for (const auto& [key, value] : v.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(v, io::Json::parse(R"({"b": [1, -2500.0, true, false, null, "x", [], {}], "a": {"z": 0, "y": 1},
                                   "c": ""})"));
  EXPECT_EQ(v["a"].begin().key(), "z");
  EXPECT_EQ(*StringAt(v, "c"), "");
  for (const char* scalar : {"0", "\"s\"", "true", "null", " [] "}) EXPECT_EQ(ErrorOf(scalar), "ok") << scalar;
}

TEST(ResultJsonTest, NumbersAreTheClosestDoubles) {
  // Integers, fractions and exponents as the commands write them; what
  // strtod (correctly rounded) makes of the same text.
  for (const char* literal :
       {"0", "1", "-1", "0.5", "-0.0", "1e10", "1E+2", "1e-2", "-12.5E-3", "0.1", "0.30000000000000004",
        "123456789012345678901234567890", "9007199254740993", "18446744073709551615", "-9223372036854775808",
        "2.2250738585072014e-308", "4.9e-324", "1e-400", "1.7976931348623157e308", "0e0", "0.912300"}) {
    EXPECT_EQ(NumberBits(literal), std::bit_cast<uint64_t>(std::strtod(literal, nullptr))) << literal;
  }
  std::mt19937_64 random(20240611);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 2000; ++i) {
    const double bits = std::bit_cast<double>(random());
    if (!std::isfinite(bits)) continue;
    EXPECT_EQ(NumberBits(absl::StrFormat("%.17g", bits)), std::bit_cast<uint64_t>(bits));
    const std::string accuracy = absl::StrFormat("%.6f", unit(random));
    EXPECT_EQ(NumberBits(accuracy), std::bit_cast<uint64_t>(std::strtod(accuracy.c_str(), nullptr)));
  }
  // What the writer writes (shortest round trip), read back exactly.
  for (double x : {0.1, 1.0 / 3, 1e-300, 69.35, -2.5e3}) {
    EXPECT_EQ(NumberBits(io::JsonCompact(io::Json(x))), std::bit_cast<uint64_t>(x)) << x;
  }
}

TEST(ResultJsonTest, DecodesEscapesToUtf8) {
  EXPECT_EQ(Parsed(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(Parsed(R"("a\u0041\u00e9\u00E9")"), "aA\xC3\xA9\xC3\xA9");
  EXPECT_EQ(Parsed(R"("\uD83D\uDE00")"), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(Parsed(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(Parsed("\"caf\xC3\xA9\""), "caf\xC3\xA9");
  EXPECT_EQ(*StringAt(Parsed(R"({"\u006b\u0065y": "v"})"), "key"), "v");
}

TEST(ResultJsonTest, RejectsMalformedTextNamingTheOffset) {
  struct Case {
    std::string text;
    int offset;
    std::string expected;  // part of nlohmann's explanation
  };
  const std::vector<Case> cases = {
      {"", 0, "unexpected end of input"},
      {"  \n ", 4, "unexpected end of input"},
      {"1 2", 2, "expected end of input"},
      {"{\"a\": 1}}", 8, "unexpected '}'"},
      {"[1,]", 3, "unexpected ']'"},
      {"[1 2]", 3, "expected ']'"},
      {"{\"a\": 1,}", 8, "unexpected '}'; expected string literal"},
      {"{\"a\" 1}", 5, "expected ':'"},
      {"\"abc", 4, "missing closing quote"},
      {R"("a\x")", 3, "invalid string"},
      {R"("\uD800")", 7, "surrogate"},
      {"\"a\nb\"", 2, "control character"},
      {"\"a\xff\"", 2, "ill-formed UTF-8 byte"},
      {"01", 1, "unexpected number literal"},
      {"1.", 2, "invalid number"},
      {"NaN", 0, "invalid literal"},
      {"'a'", 0, "invalid literal"},
      {"{\"a\": 1} // comment", 9, ""},
  };
  for (const Case& c : cases) {
    const std::string error = ErrorOf(c.text);
    EXPECT_THAT(error, StartsWith(absl::StrFormat("JSON byte offset %d: syntax error", c.offset))) << c.text;
    EXPECT_THAT(error, HasSubstr(c.expected)) << c.text;
    EXPECT_THAT(error, Not(HasSubstr("json.exception"))) << c.text;
  }
  EXPECT_EQ(ErrorOf("[1e400]"), "JSON: number overflow parsing '1e400'");
  EXPECT_EQ(ErrorOf("-1e400"), "JSON: number overflow parsing '-1e400'");
}

TEST(ResultJsonTest, NestingIsLimitedTo64Levels) {
  EXPECT_EQ(ErrorOf(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')), "ok");
  EXPECT_EQ(ErrorOf(std::string(65, '[') + std::string(65, ']')),
            "JSON byte offset 64: arrays and objects nested deeper than 64");
  std::string objects;
  for (int i = 0; i < 64; ++i) objects += "{\"a\":";
  EXPECT_EQ(ErrorOf(objects + "0" + std::string(64, '}')), "ok");
  EXPECT_EQ(ErrorOf(objects + "[]" + std::string(64, '}')),
            absl::StrFormat("JSON byte offset %d: arrays and objects nested deeper than 64", objects.size()));
  EXPECT_EQ(ErrorOf(std::string(100000, '[')), "JSON byte offset 64: arrays and objects nested deeper than 64");
  // Brackets inside strings (escaped quotes included) do not count.
  const std::string in_strings = R"(["[[[[\"{{{{", "\\", "]]"])";
  EXPECT_EQ(ErrorOf(std::string(60, '[') + in_strings + std::string(60, ']')), "ok");
  EXPECT_EQ(Parsed(in_strings)[0], "[[[[\"{{{{");
  // The first error wins: a syntax error before the level too deep.
  EXPECT_THAT(ErrorOf("[1 2" + std::string(100, '[')), StartsWith("JSON byte offset 3: syntax error"));
  EXPECT_THAT(ErrorOf("[]]" + std::string(100, '[')), StartsWith("JSON byte offset 2: syntax error"));
}

TEST(ResultJsonTest, AccessorsNameTheKeyAndTheKindFound) {
  // Shaped like prune_sweep.json.
  const io::Json v = Parsed(R"({"flags": {"model": "resnet20", "prune_first_last": false},
      "results": [
        {"scope": "dense", "sparsity": 0, "test_accuracy": 0.912300, "layers": []},
        {"scope": "global", "sparsity": 0.5, "test_accuracy": 0.905100, "layers": [
          {"name": "conv1", "size": 432, "pruned": 216, "sparsity": 0.500000}]}],
      "note": null})");
  absl::StatusOr<const io::Json*> results = ArrayAt(v, "results");
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ((*results)->size(), 2u);
  EXPECT_EQ(*results, &v["results"]);  // into the value, not a copy
  const io::Json& global = (**results)[1];
  EXPECT_EQ(*NumberAt(global, "test_accuracy"), 0.9051);
  EXPECT_EQ(*NumberAt((**results)[0], "sparsity"), 0.0);  // an integer, as a double
  EXPECT_EQ(*StringAt(global, "scope"), "global");
  EXPECT_EQ(*NumberAt((**ArrayAt(global, "layers"))[0], "pruned"), 216);
  EXPECT_EQ(*StringAt(v["flags"], "model"), "resnet20");

  const auto expect_error = [](const absl::Status& status, absl::StatusCode code, const std::string& message) {
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_EQ(status.message(), message);
  };
  expect_error(NumberAt(global, "scope").status(), absl::StatusCode::kInvalidArgument,
               "member \"scope\": expected a number, found a string");
  expect_error(StringAt(global, "sparsity").status(), absl::StatusCode::kInvalidArgument,
               "member \"sparsity\": expected a string, found a number");
  expect_error(ArrayAt(v, "flags").status(), absl::StatusCode::kInvalidArgument,
               "member \"flags\": expected an array, found an object");
  expect_error(ArrayAt(global, "sparsity").status(), absl::StatusCode::kInvalidArgument,
               "member \"sparsity\": expected an array, found a number");
  expect_error(NumberAt(v, "note").status(), absl::StatusCode::kInvalidArgument,
               "member \"note\": expected a number, found null");
  expect_error(NumberAt(v["flags"], "prune_first_last").status(), absl::StatusCode::kInvalidArgument,
               "member \"prune_first_last\": expected a number, found a boolean");
  expect_error(NumberAt(global, "test_acc").status(), absl::StatusCode::kNotFound, "no member \"test_acc\"");
  expect_error(NumberAt(v["results"], "test_accuracy").status(), absl::StatusCode::kInvalidArgument,
               "looking up member \"test_accuracy\" in an array, not an object");
  expect_error(StringAt(Parsed("\"x\""), "x").status(), absl::StatusCode::kInvalidArgument,
               "looking up member \"x\" in a string, not an object");
  EXPECT_EQ(KindName(io::Json()), "null");
  EXPECT_EQ(KindName(io::Json::object()), "an object");
  EXPECT_EQ(KindName(io::Json(-3)), "a number");
  EXPECT_EQ(KindName(io::Json(true)), "a boolean");
}

TEST(ResultJsonTest, ParsesJsonLinesNamingTheLine) {
  absl::StatusOr<std::vector<io::Json>> lines =
      ParseJsonLines("{\"epoch\": 0, \"train_loss\": 2.3}\n\n{\"epoch\": 1}\r\n  \t\n{\"epoch\": 2, \"x\": [1]}");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(*NumberAt((*lines)[0], "train_loss"), 2.3);
  EXPECT_EQ(*NumberAt((*lines)[1], "epoch"), 1);
  EXPECT_EQ(*NumberAt((*lines)[2], "epoch"), 2);
  EXPECT_EQ(ParseJsonLines("{}\n")->size(), 1u);
  EXPECT_TRUE(ParseJsonLines("")->empty());
  EXPECT_TRUE(ParseJsonLines("\n \n\r\n")->empty());

  absl::StatusOr<std::vector<io::Json>> bad = ParseJsonLines("{\"epoch\": 0}\n\n{\"epoch\": }\n{}\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), StartsWith("line 3: JSON byte offset 10: syntax error"));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("unexpected '}'"));
  // A value may not span lines, and each line holds one object.
  EXPECT_THAT(std::string(ParseJsonLines("{\"a\":\n1}").status().message()), StartsWith("line 1: JSON byte offset 5:"));
  EXPECT_THAT(std::string(ParseJsonLines("{} {}").status().message()), StartsWith("line 1: JSON byte offset 3:"));
  EXPECT_EQ(ParseJsonLines("{}\n[2]\n").status().message(), "line 2: expected an object, found an array");
  EXPECT_EQ(ParseJsonLines("\n0.5").status().message(), "line 2: expected an object, found a number");
  EXPECT_EQ(ParseJsonLines("{}\n" + std::string(65, '[')).status().message(),
            "line 2: JSON byte offset 64: arrays and objects nested deeper than 64");
}

TEST(ResultJsonTest, ReadsFilesNamingThePath) {
  const std::string missing = TempDir() + "/no_such_dir/result.json";
  absl::StatusOr<io::Json> none = ReadJsonFile(missing);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("'" + missing + "': cannot open"));
  EXPECT_THAT(std::string(ReadJsonLinesFile(missing).status().message()), HasSubstr("'" + missing + "': cannot open"));
  EXPECT_EQ(ReadJsonFile(TempDir()).status().code(), absl::StatusCode::kFailedPrecondition);  // a directory

  absl::StatusOr<io::Json> result = ReadJsonFile(WriteFile("result.json", "{\"test_accuracy\": 0.9187}\n"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*NumberAt(*result, "test_accuracy"), 0.9187);

  // Truncated: a crash mid-write of a file not written atomically.
  const std::string broken = WriteFile("broken.json", "{\"test_accuracy\": 0.9187,\n");
  EXPECT_THAT(std::string(ReadJsonFile(broken).status().message()),
              StartsWith(broken + ": JSON byte offset 26: syntax error while parsing object key - unexpected "
                                  "end of input; expected string literal"));

  absl::StatusOr<std::vector<io::Json>> metrics =
      ReadJsonLinesFile(WriteFile("metrics.jsonl", "{\"epoch\": 1}\n\n{\"epoch\": 2}\n"));
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->size(), 2u);
  EXPECT_EQ(*NumberAt(metrics->back(), "epoch"), 2);
  const std::string cut = WriteFile("cut.jsonl", "{\"epoch\": 1}\n{\"epoch\": 2");
  EXPECT_THAT(std::string(ReadJsonLinesFile(cut).status().message()),
              StartsWith(cut + ": line 2: JSON byte offset 11: syntax error"));
  const std::string array = WriteFile("array.jsonl", "{\"epoch\": 1}\n[{\"epoch\": 2}]\n");
  EXPECT_EQ(ReadJsonLinesFile(array).status().message(), array + ": line 2: expected an object, found an array");
}

// A result that names a path holding '"' and '\' (which string formatting
// broke) is valid JSON and reads back as written.
TEST(ResultJsonTest, PathsWithQuotesAndBackslashesReadBack) {
  const std::string dir = TempDir() + "/run \"quoted\" \\ dir";
  ASSERT_TRUE(std::filesystem::create_directories(dir));
  const std::string checkpoint = dir + "/last.safetensors";
  const io::Json written = {{"checkpoint", checkpoint},
                            {"flags", {{"output_dir", dir}}},
                            {"final_test_accuracy", 0.9051},
                            {"results", {{{"sparsity", 0.5}, {"test_accuracy", 0.25}}}}};
  ASSERT_TRUE(io::WriteJsonFile(dir + "/result.json", written).ok());
  absl::StatusOr<io::Json> result = ReadJsonFile(dir + "/result.json");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, written);
  EXPECT_EQ(*StringAt(*result, "checkpoint"), checkpoint);
  EXPECT_EQ(*StringAt((*result)["flags"], "output_dir"), dir);
  EXPECT_EQ(*NumberAt(*result, "final_test_accuracy"), 0.9051);

  const std::string metrics = dir + "/metrics.jsonl";
  std::ofstream(metrics) << io::JsonLine({{"epoch", 1}, {"checkpoint", checkpoint}})
                         << io::JsonLine({{"epoch", 2}, {"checkpoint", checkpoint}});
  absl::StatusOr<std::vector<io::Json>> lines = ReadJsonLinesFile(metrics);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ(*StringAt((*lines)[1], "checkpoint"), checkpoint);
}

}  // namespace
}  // namespace psg::report
