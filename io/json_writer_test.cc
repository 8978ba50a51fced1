#include "io/json_writer.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/json.h"
#include "io/test_files.h"

namespace psg::io {
namespace {

// The checkpoint header reader (io/json.h) reads what the writer escapes.
TEST(JsonWriterTest, EscapesLikeTheCheckpointHeaderReaderExpects) {
  const std::string tricky("a\"b\\c/d\n\t\x01\x1f\x7f \xC3\xA9\0z", 17);
  const std::string literal = JsonCompact(Json(tricky));
  EXPECT_EQ(literal, std::string("\"a\\\"b\\\\c/d\\n\\t\\u0001\\u001f\x7f \xC3\xA9"
                                 "\\u0000z\""));
  absl::StatusOr<internal::JsonValue> back = internal::ParseJson(literal);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->string, tricky);
}

TEST(JsonWriterTest, NonFiniteNumbersBecomeNull) {
  const Json value = {{"nan", std::nan("")}, {"inf", INFINITY}, {"minus_inf", -INFINITY}, {"x", 0.5}};
  EXPECT_EQ(JsonLine(value), "{\"nan\":null,\"inf\":null,\"minus_inf\":null,\"x\":0.5}\n");
}

TEST(JsonWriterTest, InvalidUtf8IsReplacedNotThrown) {
  const Json value = {{"path", std::string("run\xff/x")}};
  EXPECT_EQ(JsonCompact(value), "{\"path\":\"run\xEF\xBF\xBD/x\"}");
}

// A path with quotes and backslashes (which string formatting broke) written
// to a file and parsed back.
TEST(JsonWriterTest, WritesFilesThatParseBack) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string weird = dir + "/a \"quoted\" \\ path";
  Json value = {{"checkpoint", weird}, {"accuracy", 0.25}, {"layers", Json::array()}};
  value["layers"].push_back({{"name", "conv1.weight"}, {"mse", 1e-4}});
  ASSERT_TRUE(WriteJsonFile(dir + "/result.json", value).ok());
  const std::string text = ReadTestFile(dir + "/result.json");
  EXPECT_EQ(text.back(), '\n');
  const Json back = Json::parse(text);
  EXPECT_EQ(back, value);
  EXPECT_EQ(back["checkpoint"].get<std::string>(), weird);
}

}  // namespace
}  // namespace psg::io
