#include "engine/adam.h"

#include <cmath>
#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::psg::ThrowsInvalidArgument;

Parameter MakeParam(const std::string& name, std::vector<float> values) {
  Parameter p = Parameter::Trainable(name, ParamKind::kConvWeight, {static_cast<int64_t>(values.size())});
  p.value.CopyFromPlain(values);
  return p;
}

// torch.optim.Adam's update in double, one element.
struct ScalarAdam {
  double w, m = 0, v = 0;
  void Step(double lr, double g, int t, const AdamOptions& o) {
    const double d = g + o.weight_decay * w;
    m = o.beta1 * m + (1 - o.beta1) * d;
    v = o.beta2 * v + (1 - o.beta2) * d * d;
    const double m_hat = m / (1 - std::pow(o.beta1, t)), v_hat = v / (1 - std::pow(o.beta2, t));
    w -= lr * m_hat / (std::sqrt(v_hat) + o.eps);
  }
};

TEST(AdamTest, MatchesTorchsUpdateOverSeveralSteps) {
  const AdamOptions options{.beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f, .weight_decay = 0.01f};
  Parameter a = MakeParam("a", {0.5f, -1.0f, 2.0f});
  Parameter b = MakeParam("b", {0.0f, 3.0f});
  Adam adam({&a, &b}, options);
  std::vector<ScalarAdam> reference = {{0.5}, {-1.0}, {2.0}, {0.0}, {3.0}};
  for (int t = 1; t <= 6; ++t) {
    // A gradient that changes sign and size from step to step.
    std::vector<float> g(5);
    for (int i = 0; i < 5; ++i) g[i] = std::sin(1.3f * t + i) * (i + 1);
    a.grad.CopyFromPlain({g[0], g[1], g[2]});
    b.grad.CopyFromPlain({g[3], g[4]});
    const float lr = 0.05f / t;
    adam.Step(lr);
    for (int i = 0; i < 5; ++i) reference[i].Step(lr, g[i], t, options);
  }
  EXPECT_EQ(adam.steps(), 6);
  const std::vector<float> wa = a.value.ToPlain(), wb = b.value.ToPlain();
  const std::vector<float> got = {wa[0], wa[1], wa[2], wb[0], wb[1]};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(got[i], reference[i].w, 2e-6) << i;

  const auto state = adam.State();
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[0].first, "a/adam_m");
  EXPECT_EQ(state[1].first, "a/adam_v");
  EXPECT_EQ(state[3].first, "b/adam_v");
  EXPECT_NEAR(state[3].second.ToPlain()[1], reference[4].v, 1e-6 * reference[4].v);
}

TEST(AdamTest, RejectsBadOptionsAndStateParameters) {
  Parameter a = MakeParam("a", {1.0f});
  EXPECT_THAT([&] { Adam({&a}, {.beta1 = 1.0f}); }, ThrowsInvalidArgument("betas in [0, 1)"));
  EXPECT_THAT([&] { Adam({&a}, {.eps = 0.0f}); }, ThrowsInvalidArgument("eps > 0"));
  Parameter state = Parameter::State("running_mean", ParamKind::kBnRunningMean, {1}, 0.0f);
  EXPECT_THAT([&] { Adam({&state}, {}); }, ThrowsInvalidArgument("'running_mean' is not trainable"));
  Adam adam({&a}, {});
  EXPECT_THAT([&] { adam.Step(-1.0f); }, ThrowsInvalidArgument("learning rate must be >= 0"));
}

}  // namespace
}  // namespace psg::engine
