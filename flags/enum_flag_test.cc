#include "flags/enum_flag.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::flags {
namespace testing {

enum class Shape { kSquare, kCircle, kLine };
inline constexpr EnumName<Shape> kShapeNames[] = {{"square", Shape::kSquare}, {"circle", Shape::kCircle}};
PSG_ENUM_FLAG(Shape, kShapeNames)

}  // namespace testing
}  // namespace psg::flags

ABSL_FLAG(psg::flags::testing::Shape, shape, psg::flags::testing::Shape::kCircle, "a test flag");

namespace psg::flags::testing {
namespace {

TEST(EnumFlagTest, ParsesEachNameExactly) {
  Shape s = Shape::kLine;
  std::string error;
  EXPECT_TRUE(absl::ParseFlag("square", &s, &error));
  EXPECT_EQ(s, Shape::kSquare);
  EXPECT_TRUE(absl::ParseFlag("circle", &s, &error));
  EXPECT_EQ(s, Shape::kCircle);
  for (const char* bad : {"Square", "squar", "square ", "", "0"}) {
    EXPECT_FALSE(absl::ParseFlag(bad, &s, &error)) << bad;
    EXPECT_EQ(error, "expected one of: square, circle");
    EXPECT_EQ(s, Shape::kCircle) << "a rejected value leaves the flag as it was";
  }
}

TEST(EnumFlagTest, UnparsesToTheNameOrTheNumber) {
  EXPECT_EQ(absl::UnparseFlag(Shape::kSquare), "square");
  EXPECT_EQ(absl::UnparseFlag(Shape::kLine), "2");  // a value without a name
}

TEST(EnumFlagTest, AbslFlagRejectsAnUnknownNameAndKeepsItsValue) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag("shape");
  ASSERT_NE(flag, nullptr);
  std::string error;
  EXPECT_FALSE(flag->ParseFrom("triangle", &error));
  EXPECT_THAT(error, ::testing::HasSubstr("expected one of: square, circle"));
  EXPECT_EQ(absl::GetFlag(FLAGS_shape), Shape::kCircle);
  EXPECT_TRUE(flag->ParseFrom("square", &error));
  EXPECT_EQ(absl::GetFlag(FLAGS_shape), Shape::kSquare);
  EXPECT_EQ(flag->CurrentValue(), "square");
  EXPECT_EQ(flag->DefaultValue(), "circle");
}

}  // namespace
}  // namespace psg::flags::testing
