#include "engine/linear.h"

#include <vector>

#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::HasSubstr;

TEST(LinearTest, ForwardMatchesReference) {
  for (bool bias : {false, true}) {
    for (const auto& [batch, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {1, 3, 5}, {4, 17, 10}, {7, 64, 3}}) {
      Linear fc("fc", {in, out, bias});
      testing::RandomizeParameters(fc, 1);
      const Tensor x = testing::RandomPlain({batch, in}, 2);
      const std::vector<float> got = fc.Forward(x, Mode::kTrain).ToPlain();
      const std::vector<float> want = reference::Linear(
          x.ToPlain(), batch, in, fc.weight().value.ToPlain(),
          bias ? fc.bias()->value.ToPlain() : std::vector<float>(), out);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;
    }
  }
}

TEST(LinearTest, FlattensBlockedFourDimensionalInput) {
  Linear fc("fc", {17 * 2 * 2, 5, true});
  testing::RandomizeParameters(fc, 3);
  const Tensor x = testing::RandomPlain({3, 17, 2, 2}, 4);
  const std::vector<float> want =
      reference::Linear(x.ToPlain(), 3, 68, fc.weight().value.ToPlain(), fc.bias()->value.ToPlain(), 5);
  const std::vector<float> got =
      fc.Forward(testing::InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kTrain).ToPlain();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;
  EXPECT_EQ(fc.Backward(testing::RandomPlain({3, 5}, 5)).dims(), (Dims{3, 17, 2, 2}));
}

TEST(LinearTest, BackwardMatchesFiniteDifferences) {
  Linear fc2("fc", {17, 5, true});
  testing::RandomizeParameters(fc2, 6);
  testing::ExpectGradientsMatch(fc2, testing::RandomPlain({3, 17}, 7), {});
  Linear fc4("fc", {5 * 3 * 3, 4, false});
  testing::RandomizeParameters(fc4, 8);
  testing::ExpectGradientsMatch(fc4, testing::RandomPlain({1, 5, 3, 3}, 9), {});
}

TEST(LinearTest, RejectsBadArguments) {
  EXPECT_THAT([] { Linear("fc", {0, 3, true}); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("in=0")));
  Linear fc("fc", {8, 3, true});
  EXPECT_THAT([&] { fc.Forward(testing::RandomPlain({2, 7}, 1), Mode::kTrain); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("expected {N, 8}")));
}

}  // namespace
}  // namespace psg::engine
