#include "engine/lr_schedule.h"

#include <cmath>

#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(LrScheduleTest, MultiStepDecaysAtMilestones) {
  auto s = MultiStep(0.1f, {10, 15}, 0.1f);
  EXPECT_FLOAT_EQ(s->At(0), 0.1f);
  EXPECT_FLOAT_EQ(s->At(9), 0.1f);
  EXPECT_FLOAT_EQ(s->At(10), 0.01f);
  EXPECT_FLOAT_EQ(s->At(14), 0.01f);
  EXPECT_NEAR(s->At(15), 0.001f, 1e-9f);
}

TEST(LrScheduleTest, CosineFollowsClosedForm) {
  auto s = Cosine(0.2f, 100, 0.01f);
  for (int64_t t : {0, 1, 25, 50, 99, 100, 150}) {
    const double frac = std::min(t / 100.0, 1.0);
    EXPECT_NEAR(s->At(t), 0.01 + 0.19 * 0.5 * (1 + std::cos(M_PI * frac)), 1e-6) << t;
  }
}

TEST(LrScheduleTest, LinearWarmupThenInnerSchedule) {
  auto s = WithLinearWarmup(Cosine(0.1f, 80), 20);
  EXPECT_FLOAT_EQ(s->At(0), 0.0f);
  EXPECT_FLOAT_EQ(s->At(10), 0.05f);
  EXPECT_FLOAT_EQ(s->At(20), 0.1f);
  EXPECT_NEAR(s->At(60), 0.05f, 1e-6f);
  EXPECT_NEAR(s->At(100), 0.0f, 1e-7f);
  auto from_half = WithLinearWarmup(Constant(1.0f), 4, 0.5f);
  EXPECT_FLOAT_EQ(from_half->At(2), 0.75f);
}

TEST(LrScheduleTest, RejectsBadArguments) {
  EXPECT_THROW(MultiStep(0.1f, {20, 10}, 0.1f), std::invalid_argument);
  EXPECT_THROW(Cosine(0.1f, 0), std::invalid_argument);
  EXPECT_THROW(WithLinearWarmup(Constant(0.1f), 5, 2.0f), std::invalid_argument);
}

}  // namespace
}  // namespace psg::engine
