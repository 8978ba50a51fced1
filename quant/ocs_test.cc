#include "quant/ocs.h"

#include <random>
#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/quantizer.h"

namespace psg::quant {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;

// out 2, in 3: channel 1 holds the outlier 8.
const std::vector<int64_t> kDims = {2, 3};
const std::vector<float> kW = {0.5f, 8.0f, -5.3f, 1.2f, -3.0f, 2.5f};

TEST(OcsTest, SplitsTheChannelOfTheLargestWeight) {
  const ChannelSplit one = PlanOutlierSplits(kDims, kW, 1);
  EXPECT_THAT(one.channel, ElementsAre(0, 1, 2, 1));
  EXPECT_THAT(one.scale, ElementsAre(1.0f, 0.5f, 1.0f, 0.5f));
  // Then 5.3 (channel 2) is the largest, then a copy of channel 1 (4).
  const ChannelSplit three = PlanOutlierSplits(kDims, kW, 3);
  EXPECT_THAT(three.channel, ElementsAre(0, 1, 2, 1, 2, 1));
  EXPECT_THAT(three.scale, ElementsAre(1.0f, 0.25f, 0.5f, 0.5f, 0.5f, 0.25f));
  EXPECT_THAT(ExpandedDims(kDims, three), ElementsAre(2, 6));
}

TEST(OcsTest, ExpandedNetworkComputesTheSameWeights) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  const std::vector<int64_t> dims = {4, 5, 3, 3};
  std::vector<float> w(4 * 5 * 9);
  for (float& x : w) x = normal(rng);
  w[17] = 9.0f;  // an outlier
  const ChannelSplit plan = PlanOutlierSplits(dims, w, 4);
  std::vector<float> merged(w.size());
  MergeChannels(dims, ExpandChannels(dims, w, plan), plan, absl::MakeSpan(merged));
  EXPECT_EQ(merged, w);  // halvings are exact in binary floating point
}

// The hand case, 4 bits (levels -7..7), one split: copies (w0, w1/2, w2, w1/2)
// per row = (0.5, 4, -5.3, 4), (1.2, -1.5, 2.5, -1.5); the largest |w| is now
// 5.3, step 5.3/7; levels (1, 5, -7, 5) and (2, -2, 3, -2); merged back,
// channel 1 gets 10 and -4 steps: 7.5714 and -3.0286 (plain rounding, step 8/7:
// 8 and -3.4286).
TEST(OcsTest, HandExample) {
  const ChannelSplit plan = PlanOutlierSplits(kDims, kW, 1);
  const std::vector<float> expanded = ExpandChannels(kDims, kW, plan);
  const std::vector<int64_t> expanded_dims = ExpandedDims(kDims, plan);
  const QuantizerSpec spec{.bits = 4};
  const TensorQuantizer q = TensorQuantizer::FromExactRange(spec, expanded_dims, expanded);
  std::vector<float> quantized(expanded.size()), merged(kW.size());
  q.FakeQuantize(expanded, absl::MakeSpan(quantized));
  MergeChannels(kDims, quantized, plan, absl::MakeSpan(merged));
  const float step = 5.3f / 7;
  EXPECT_THAT(merged, Pointwise(FloatNear(1e-5f), {1 * step, 10 * step, -7 * step,  //
                                                    2 * step, -4 * step, 3 * step}));
}

TEST(OcsTest, SplitCount) {
  EXPECT_EQ(OcsSplitCount(64, 0.0), 0);
  EXPECT_EQ(OcsSplitCount(64, 0.01), 1);
  EXPECT_EQ(OcsSplitCount(64, 0.05), 4);
  EXPECT_THAT([] { OcsSplitCount(64, 1.5); }, ThrowsInvalidArgument("expand ratio"));
}

}  // namespace
}  // namespace psg::quant
