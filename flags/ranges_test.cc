#include "flags/ranges.h"

#include <cmath>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, test_count, 1, "a count >= 1");
PSG_FLAG_RANGE(test_count, psg::flags::AtLeast(1));
ABSL_FLAG(double, test_fraction, 0.5, "a fraction in [0, 1)");
PSG_FLAG_RANGE(test_fraction, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(std::optional<double>, test_optional_rate, std::nullopt, "a rate > 0, or unset");
PSG_FLAG_RANGE(test_optional_rate, psg::flags::GreaterThan(0));
ABSL_FLAG(int64_t, test_unchecked, 3, "a flag whose range is declared late, in the test");

namespace psg::flags {
namespace {

using ::testing::HasSubstr;

TEST(RangeTest, DescribesAndContains) {
  EXPECT_EQ(AtLeast(1).Describe(), "[1, inf)");
  EXPECT_EQ(GreaterThan(0).Describe(), "(0, inf)");
  EXPECT_EQ(Between(2, 8).Describe(), "[2, 8]");
  EXPECT_EQ(FromUpTo(0, 1).Describe(), "[0, 1)");
  EXPECT_EQ(AnyFinite().Describe(), "(-inf, inf)");
  EXPECT_TRUE(Between(2, 8).Contains(8));
  EXPECT_FALSE(FromUpTo(0, 1).Contains(1));
  EXPECT_FALSE(GreaterThan(0).Contains(0));
  EXPECT_FALSE(AnyFinite().Contains(INFINITY));
  EXPECT_FALSE(AnyFinite().Contains(NAN));
}

TEST(CheckFlagRangesTest, NamesTheFlagTheValueAndTheRange) {
  absl::FlagSaver saver;
  // A numeric flag without a declared range is an error of its own.
  absl::Status missing = CheckFlagRanges();
  EXPECT_THAT(std::string(missing.message()), HasSubstr("--test_unchecked ("));
  EXPECT_THAT(std::string(missing.message()), HasSubstr("has no declared range"));
  RegisterRange("test_unchecked", AnyFinite());
  EXPECT_TRUE(CheckFlagRanges().ok()) << CheckFlagRanges();

  absl::SetFlag(&FLAGS_test_count, 0);
  EXPECT_EQ(CheckFlagRanges().message(), "--test_count=0 is out of range: allowed [1, inf)");
  absl::SetFlag(&FLAGS_test_fraction, 1.0);
  EXPECT_EQ(CheckFlagRanges().message(),
            "--test_count=0 is out of range: allowed [1, inf); "
            "--test_fraction=1 is out of range: allowed [0, 1)");
  absl::SetFlag(&FLAGS_test_count, 5);
  absl::SetFlag(&FLAGS_test_fraction, std::nan(""));
  EXPECT_EQ(CheckFlagRanges().message(), "--test_fraction=nan is out of range: allowed [0, 1)");
  absl::SetFlag(&FLAGS_test_fraction, 0.0);
  EXPECT_TRUE(CheckFlagRanges().ok());
}

TEST(CheckFlagRangesTest, ChecksAnOptionalFlagOnlyWhenSet) {
  absl::FlagSaver saver;
  RegisterRange("test_unchecked", AnyFinite());
  EXPECT_TRUE(CheckFlagRanges().ok()) << CheckFlagRanges();  // unset
  absl::SetFlag(&FLAGS_test_optional_rate, 0.0);
  EXPECT_EQ(CheckFlagRanges().message(), "--test_optional_rate=0 is out of range: allowed (0, inf)");
  absl::SetFlag(&FLAGS_test_optional_rate, 0.5);
  EXPECT_TRUE(CheckFlagRanges().ok());
}

}  // namespace
}  // namespace psg::flags
