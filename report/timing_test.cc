#include "report/timing.h"

#include <string>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::report {
namespace {

TEST(TimingTest, InterleavesWarmUpAndTimedPasses) {
  std::string calls;
  const std::vector<double> s =
      InterleavedMedianSeconds(3, {[&] { calls += 'a'; }, [&] { calls += 'b'; }}, /*warmup=*/2);
  EXPECT_EQ(calls, "ababababab");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_GE(s[0], 0.0);
  int n = 0;
  MedianSeconds(4, [&] { ++n; });
  EXPECT_EQ(n, 3 + 4);
  EXPECT_THAT([] { MedianSeconds(0, [] {}); }, ThrowsInvalidArgument("passes must be >= 1"));
}

}  // namespace
}  // namespace psg::report
