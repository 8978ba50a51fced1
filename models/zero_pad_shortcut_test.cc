#include "models/zero_pad_shortcut.h"

#include <vector>

#include "engine/testing/gradient_check.h"
#include "gtest/gtest.h"

namespace psg::models {
namespace {

using engine::Mode;

TEST(ZeroPadShortcutTest, SubsamplesAndPadsChannels) {
  ZeroPadShortcut pad("shortcut", 2, 6, 2);
  const engine::Tensor x = engine::testing::RandomPlain({1, 2, 3, 3}, 1);
  const std::vector<float> y =
      pad.Forward(engine::testing::InLayout(x, dnnl::memory::format_tag::nChw8c), Mode::kTrain)
          .ToPlain();
  const std::vector<float> xs = x.ToPlain();
  ASSERT_EQ(y.size(), 6u * 2 * 2);
  for (int64_t c = 0; c < 6; ++c)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const float want = (c >= 2 && c < 4) ? xs[((c - 2) * 3 + 2 * i) * 3 + 2 * j] : 0.0f;
        EXPECT_EQ(y[(c * 2 + i) * 2 + j], want) << c << "," << i << "," << j;
      }
}

TEST(ZeroPadShortcutTest, BackwardMatchesFiniteDifferences) {
  ZeroPadShortcut pad("shortcut", 3, 5, 2);
  engine::testing::ExpectGradientsMatch(pad, engine::testing::RandomPlain({2, 3, 4, 5}, 2), {});
}

TEST(ZeroPadShortcutTest, RejectsOddChannelDifference) {
  EXPECT_THROW(ZeroPadShortcut("s", 4, 7, 2), std::invalid_argument);
}

}  // namespace
}  // namespace psg::models
