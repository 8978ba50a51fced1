#include "engine/conv2d.h"

#include <string>
#include <vector>

#include "engine/testing/gradient_check.h"
#include "absl/strings/str_cat.h"
#include "engine/testing/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::HasSubstr;
using testing::ExpectGradientsMatch;
using testing::RandomizeParameters;
using testing::RandomPlain;

struct ConvCase {
  int64_t n, c, h, w, out, kernel, stride, padding, groups;
  bool bias;
};

std::string CaseName(const ConvCase& k) {
  return absl::StrCat("n", k.n, "c", k.c, "h", k.h, "w", k.w, "o", k.out, "k", k.kernel, "s",
                      k.stride, "p", k.padding, "g", k.groups, k.bias ? "bias" : "");
}

// Odd channel counts, batch 1, stride 2, padding 0/1, 1x1 kernels, groups,
// non-square inputs.
const ConvCase kCases[] = {
    {2, 3, 8, 8, 16, 3, 1, 1, 1, false}, {1, 5, 7, 7, 17, 3, 2, 1, 1, true},
    {3, 17, 6, 5, 5, 1, 1, 0, 1, false}, {2, 16, 8, 8, 32, 1, 2, 0, 1, false},
    {1, 3, 9, 9, 5, 3, 2, 0, 1, true},   {2, 6, 5, 5, 9, 3, 1, 1, 3, true},
    {2, 16, 8, 8, 16, 3, 1, 1, 1, false}, {1, 32, 4, 4, 64, 3, 2, 1, 1, false},
};

class Conv2dSweep : public ::testing::TestWithParam<ConvCase> {};

Conv2dOptions OptionsFor(const ConvCase& k, bool plain) {
  Conv2dOptions o;
  o.in_channels = k.c;
  o.out_channels = k.out;
  o.kernel = k.kernel;
  o.stride = k.stride;
  o.padding = k.padding;
  o.groups = k.groups;
  o.bias = k.bias;
  o.plain_layout = plain;
  return o;
}

TEST_P(Conv2dSweep, ForwardMatchesScalarReference) {
  const ConvCase& k = GetParam();
  for (bool plain : {false, true}) {
    Conv2d conv("conv", OptionsFor(k, plain));
    RandomizeParameters(conv, 3);
    const Tensor x = RandomPlain({k.n, k.c, k.h, k.w}, 11);
    const std::vector<float> got = conv.Forward(x, Mode::kTrain).ToPlain();
    const std::vector<float> want = reference::Conv2d(
        x.ToPlain(), {k.n, k.c, k.h, k.w}, conv.weight().value.ToPlain(),
        conv.bias() ? conv.bias()->value.ToPlain() : std::vector<float>(),
        {k.out, k.kernel, k.stride, k.padding, k.groups});
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-4f) << "element " << i << (plain ? " plain" : " blocked");
    }
  }
}

TEST_P(Conv2dSweep, BackwardMatchesFiniteDifferences) {
  const ConvCase& k = GetParam();
  for (bool plain : {false, true}) {
    SCOPED_TRACE(plain ? "plain layout" : "blocked layout");
    Conv2d conv("conv", OptionsFor(k, plain));
    RandomizeParameters(conv, 5);
    ExpectGradientsMatch(conv, RandomPlain({k.n, k.c, k.h, k.w}, 13), {});
  }
}

TEST_P(Conv2dSweep, BlockedAndPlainLayoutsAgree) {
  const ConvCase& k = GetParam();
  Conv2d blocked("blocked", OptionsFor(k, false));
  Conv2d plain("plain", OptionsFor(k, true));
  RandomizeParameters(blocked, 9);
  RandomizeParameters(plain, 9);
  const Tensor x = RandomPlain({k.n, k.c, k.h, k.w}, 17);
  const std::vector<float> yb = blocked.Forward(x, Mode::kTrain).ToPlain();
  const std::vector<float> yp = plain.Forward(x, Mode::kTrain).ToPlain();
  const Tensor dy = RandomPlain(blocked.Forward(x, Mode::kTrain).dims(), 19);
  plain.Forward(x, Mode::kTrain);
  const std::vector<float> dxb = blocked.Backward(dy).ToPlain();
  const std::vector<float> dxp = plain.Backward(dy).ToPlain();
  const std::vector<float> dwb = blocked.weight().grad.ToPlain();
  const std::vector<float> dwp = plain.weight().grad.ToPlain();
  for (size_t i = 0; i < yb.size(); ++i) ASSERT_NEAR(yb[i], yp[i], 1e-4f) << i;
  for (size_t i = 0; i < dxb.size(); ++i) ASSERT_NEAR(dxb[i], dxp[i], 1e-4f) << i;
  for (size_t i = 0; i < dwb.size(); ++i) ASSERT_NEAR(dwb[i], dwp[i], 1e-3f) << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dSweep, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return CaseName(info.param); });

TEST(Conv2dTest, ReusesPlanAcrossStepsAndHandlesSecondBatchSize) {
  Conv2dOptions o;
  o.in_channels = 3;
  o.out_channels = 8;
  o.padding = 1;
  Conv2d conv("conv", o);
  RandomizeParameters(conv, 1);
  const Tensor big = RandomPlain({4, 3, 6, 6}, 2), small = RandomPlain({1, 3, 6, 6}, 3);
  const float* first = conv.Forward(big, Mode::kTrain).raw();
  conv.Forward(small, Mode::kEval);
  EXPECT_EQ(conv.Forward(big, Mode::kTrain).raw(), first) << "output buffer must be reused";
  const std::vector<float> want =
      reference::Conv2d(small.ToPlain(), {1, 3, 6, 6}, conv.weight().value.ToPlain(), {},
                        {8, 3, 1, 1, 1});
  const std::vector<float> got = conv.Forward(small, Mode::kEval).ToPlain();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4f);
}

TEST(Conv2dTest, FirstLayerSkipsInputGradient) {
  Conv2dOptions o;
  o.in_channels = 3;
  o.out_channels = 4;
  o.input_grad = false;
  Conv2d conv("conv", o);
  RandomizeParameters(conv, 1);
  testing::GradientCheckOptions check;
  check.check_input = false;
  ExpectGradientsMatch(conv, RandomPlain({2, 3, 5, 5}, 4), check);
  EXPECT_TRUE(conv.Backward(RandomPlain({2, 4, 3, 3}, 5)).empty());
}

TEST(Conv2dTest, FrozenLayerLeavesWeightGradientAlone) {
  Conv2dOptions o;
  o.in_channels = 3;
  o.out_channels = 4;
  o.weight_grad = false;
  Conv2d frozen("frozen", o), trained("trained", [&] {
    Conv2dOptions t = o;
    t.weight_grad = true;
    return t;
  }());
  RandomizeParameters(frozen, 1);
  RandomizeParameters(trained, 1);
  frozen.weight().grad.Fill(42.0f);
  const Tensor x = RandomPlain({2, 3, 5, 5}, 2), dy = RandomPlain({2, 4, 3, 3}, 3);
  frozen.Forward(x, Mode::kTrain);
  trained.Forward(x, Mode::kTrain);
  EXPECT_EQ(frozen.Backward(dy).ToPlain(), trained.Backward(dy).ToPlain());
  for (float g : frozen.weight().grad.flat()) ASSERT_EQ(g, 42.0f);
  o.input_grad = false;
  EXPECT_THROW(Conv2d("dead", o), std::invalid_argument);
}

TEST(Conv2dTest, RejectsBadArguments) {
  Conv2dOptions o;
  o.in_channels = 6;
  o.out_channels = 4;
  o.groups = 4;
  EXPECT_THAT([&] { Conv2d("bad_groups", o); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("groups=4")));
  o.groups = 1;
  o.stride = 0;
  EXPECT_THAT([&] { Conv2d("bad_stride", o); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("stride > 0")));
  o.stride = 1;
  Conv2d conv("conv", o);
  EXPECT_THAT([&] { conv.Forward(RandomPlain({1, 5, 8, 8}, 1), Mode::kTrain); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  HasSubstr("expected 6 input channels, got input [1x5x8x8]")));
  EXPECT_THAT([&] { conv.Forward(RandomPlain({1, 6, 2, 2}, 1), Mode::kTrain); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("smaller than kernel")));
  Conv2d fresh("fresh", o);
  EXPECT_THAT([&] { fresh.Backward(RandomPlain({1, 4, 6, 6}, 1)); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("preceding Forward")));
}

}  // namespace
}  // namespace psg::engine
