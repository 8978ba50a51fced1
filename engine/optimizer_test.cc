#include "engine/optimizer.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

Parameter Scalar(float w, float g) {
  Parameter p = Parameter::Trainable("w", ParamKind::kFcWeight, {1});
  p.value.flat()[0] = w;
  p.grad.flat()[0] = g;
  return p;
}

// Hand-computed with torch.optim.SGD's definition (see sgd_kernel.h).
TEST(SgdTest, MomentumAndWeightDecayMatchHandComputedSteps) {
  Parameter p = Scalar(1.0f, 0.5f);
  Sgd sgd({&p}, {.momentum = 0.9f, .weight_decay = 0.01f});
  sgd.Step(0.1f);  // d = 0.51, buf = 0.51, w = 1 - 0.051
  EXPECT_NEAR(p.value.flat()[0], 0.949f, 1e-6f);
  sgd.Step(0.1f);  // d = 0.5 + 0.00949, buf = 0.9 * 0.51 + d = 0.96849
  EXPECT_NEAR(p.value.flat()[0], 0.949f - 0.096849f, 1e-6f);
  EXPECT_NEAR(sgd.momentum_buffers()[0].flat()[0], 0.96849f, 1e-6f);
  const auto state = sgd.State();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "w/momentum");
  EXPECT_EQ(state[0].second.raw(), sgd.momentum_buffers()[0].raw());
  EXPECT_EQ(sgd.steps(), 2);
}

TEST(SgdTest, NesterovMatchesHandComputedSteps) {
  Parameter p = Scalar(1.0f, 0.5f);
  Sgd sgd({&p}, {.momentum = 0.9f, .weight_decay = 0.01f, .nesterov = true});
  sgd.Step(0.1f);  // buf = 0.51, w -= 0.1 * (0.51 + 0.9 * 0.51)
  EXPECT_NEAR(p.value.flat()[0], 1.0f - 0.0969f, 1e-6f);
  sgd.Step(0.1f);  // d = 0.5 + 0.009031, buf = 0.459 + d, w -= 0.1 * (d + 0.9 * buf)
  const float d = 0.5f + 0.01f * 0.9031f, buf = 0.9f * 0.51f + d;
  EXPECT_NEAR(p.value.flat()[0], 0.9031f - 0.1f * (d + 0.9f * buf), 1e-6f);
}

TEST(SgdTest, PlainSgdAndDampeningMatchScalarLoop) {
  const std::vector<float> grads = {0.3f, -0.2f, 0.7f};
  for (float momentum : {0.0f, 0.5f}) {
    Parameter p = Scalar(2.0f, 0.0f);
    Sgd sgd({&p}, {.momentum = momentum, .dampening = 0.25f, .weight_decay = 0.1f});
    float w = 2.0f, buf = 0.0f;
    for (size_t t = 0; t < grads.size(); ++t) {
      p.grad.flat()[0] = grads[t];
      sgd.Step(0.05f);
      const float d = grads[t] + 0.1f * w;
      buf = t == 0 ? d : momentum * buf + 0.75f * d;
      w -= 0.05f * (momentum == 0.0f ? d : buf);
      EXPECT_NEAR(p.value.flat()[0], w, 1e-6f) << "momentum " << momentum << " step " << t;
    }
  }
}

class DoubleGradient : public OptimizerHook {
 public:
  void TransformGradient(const Parameter&, absl::Span<float> grad) override {
    for (float& g : grad) g *= 2.0f;
  }
  void AfterUpdate(Parameter& param, absl::Span<float>) override { seen.push_back(param.name); }
  std::vector<std::string> seen;
};

TEST(SgdTest, HookScalesLossGradientBeforeWeightDecay) {
  Parameter hooked = Scalar(1.0f, 0.5f), plain = Scalar(1.0f, 1.0f);
  DoubleGradient hook;
  Sgd a({&hooked}, {.momentum = 0.0f, .weight_decay = 0.1f});
  a.AddHook(&hook);
  Sgd b({&plain}, {.momentum = 0.0f, .weight_decay = 0.1f});
  a.Step(0.1f);
  b.Step(0.1f);
  EXPECT_FLOAT_EQ(hooked.value.flat()[0], plain.value.flat()[0]);
  EXPECT_FLOAT_EQ(hooked.value.flat()[0], 1.0f - 0.1f * (1.0f + 0.1f));
  EXPECT_THAT(hook.seen, ::testing::ElementsAre("w"));
}

TEST(SgdTest, RejectsBadArguments) {
  Parameter p = Scalar(1.0f, 1.0f);
  EXPECT_THAT([&] { Sgd({&p}, {.momentum = -1.0f}); },
              ::testing::ThrowsMessage<std::invalid_argument>(::testing::HasSubstr("momentum=-1")));
  EXPECT_THAT([&] { Sgd({&p}, {.momentum = 0.0f, .nesterov = true}); },
              ::testing::ThrowsMessage<std::invalid_argument>(::testing::HasSubstr("Nesterov")));
  Parameter state = Parameter::State("running_mean", ParamKind::kBnRunningMean, {1}, 0.0f);
  EXPECT_THAT([&] { Sgd({&state}, {}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("'running_mean' is not trainable")));
  Sgd sgd({&p}, {});
  EXPECT_THROW(sgd.Step(-0.1f), std::invalid_argument);
}

}  // namespace
}  // namespace psg::engine
