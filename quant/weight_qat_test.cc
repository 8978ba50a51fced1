#include "quant/weight_qat.h"

#include <cmath>
#include <random>
#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::quant {
namespace {

using engine::Parameter;
using engine::ParamKind;

// A small model's parameter list: two convolutions (odd sizes, so loops have
// tails), a BN, a hidden and a last fully-connected layer.
class WeightQatTest : public ::testing::Test {
 protected:
  WeightQatTest() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-0.4f, 0.4f);
    for (Parameter* p : list_) {
      std::vector<float> v(p->value.numel());
      for (float& x : v) x = u(rng);
      p->value.CopyFromPlain(v);
      std::vector<float> g(p->grad.numel());
      for (float& x : g) x = u(rng);
      p->grad.CopyFromPlain(g);
    }
  }

  std::vector<float> Values(const Parameter& p) const { return p.value.ToPlain(); }

  Parameter conv1_ = Parameter::Trainable("conv1.weight", ParamKind::kConvWeight, {4, 3, 3, 3});
  Parameter bn_ = Parameter::Trainable("bn1.weight", ParamKind::kBnGamma, {4});
  Parameter conv2_ = Parameter::Trainable("conv2.weight", ParamKind::kConvWeight, {5, 4, 3, 3});
  Parameter hidden_ = Parameter::Trainable("fc1.weight", ParamKind::kFcWeight, {7, 45});
  Parameter fc_ = Parameter::Trainable("fc.weight", ParamKind::kFcWeight, {3, 7});
  Parameter fc_bias_ = Parameter::Trainable("fc.bias", ParamKind::kFcBias, {3});
  engine::ParameterList list_ = {&conv1_, &bn_, &conv2_, &hidden_, &fc_, &fc_bias_};
};

TEST_F(WeightQatTest, CoversTheWeightsOfThePolicyWithFirstAndLastAt8BitsBelow4) {
  WeightFakeQuantizer four(list_, {.kind = WeightQatKind::kLsq, .coverage = {.bits = 4}});
  using Entries = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(four.covered(), (Entries{{"conv1.weight", 4}, {"conv2.weight", 4}, {"fc.weight", 4}}));
  WeightFakeQuantizer two(list_, {.kind = WeightQatKind::kDoReFa, .coverage = {.bits = 2}});
  EXPECT_EQ(two.covered(), (Entries{{"conv1.weight", 8}, {"conv2.weight", 2}, {"fc.weight", 8}}));
  EXPECT_TRUE(two.parameters().empty());
  const engine::ParameterList steps = four.parameters();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1]->name, "conv2.weight.lsq_step");
  EXPECT_EQ(steps[1]->kind, ParamKind::kQuantStep);
  EXPECT_TRUE(steps[1]->trainable());
}

TEST_F(WeightQatTest, DoReFaForwardMatchesThePaperAndBackwardIsTheChainRuleThroughTanh) {
  const int bits = 3;
  const std::vector<float> w = Values(conv2_), g = conv2_.grad.ToPlain();
  const std::vector<float> hidden = Values(hidden_);
  WeightFakeQuantizer q(list_, {.kind = WeightQatKind::kDoReFa, .coverage = {.bits = bits}});
  q.BeforeForward();
  EXPECT_TRUE(q.quantized());
  double m = 0;
  for (float x : w) m = std::max(m, std::fabs(std::tanh(double{x})));
  const double levels = (1 << bits) - 1;
  const std::vector<float> wq = Values(conv2_);
  for (size_t i = 0; i < w.size(); ++i) {
    const double u = std::tanh(double{w[i]}) / (2 * m) + 0.5;
    EXPECT_NEAR(wq[i], m * (2 * std::nearbyint(levels * u) / levels - 1), 1e-6) << i;
  }
  EXPECT_EQ(Values(hidden_), hidden);  // a hidden FC layer is not covered
  q.AfterBackward();
  EXPECT_FALSE(q.quantized());
  EXPECT_EQ(Values(conv2_), w);  // restored exactly
  const std::vector<float> dw = conv2_.grad.ToPlain();
  for (size_t i = 0; i < w.size(); ++i) {
    // d/dw of m * (2 (tanh(w) / (2m) + 1/2) - 1) = tanh(w), by central differences.
    const double eps = 1e-3;
    const double fd = (std::tanh(w[i] + eps) - std::tanh(w[i] - eps)) / (2 * eps);
    EXPECT_NEAR(dw[i], g[i] * fd, 1e-5) << i;
  }
}

TEST_F(WeightQatTest, LsqStepStartsFromTheWeightsAndGradientsFollowThePaper) {
  const std::vector<float> w = Values(conv2_), g = conv2_.grad.ToPlain();
  WeightFakeQuantizer q(list_, {.kind = WeightQatKind::kLsq, .coverage = {.bits = 3}});
  Parameter& step = *q.parameters()[1];
  q.BeforeForward();
  const double qp = 3;  // 2^(3-1) - 1
  double sum_abs = 0;
  for (float x : w) sum_abs += std::fabs(x);
  const float s = step.value.raw()[0];
  EXPECT_NEAR(s, 2 * sum_abs / w.size() / std::sqrt(qp), 1e-6);
  const std::vector<float> wq = Values(conv2_);
  double ds = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double v = w[i] / s;
    EXPECT_EQ(wq[i], s * std::nearbyint(std::min(std::max(w[i] / s, -3.0f), 3.0f))) << i;
    ds += g[i] * (v <= -qp ? -qp : v >= qp ? qp : std::nearbyint(v) - v);
  }
  q.AfterBackward();
  EXPECT_EQ(Values(conv2_), w);
  const std::vector<float> dw = conv2_.grad.ToPlain();
  for (size_t i = 0; i < w.size(); ++i) {
    const double v = w[i] / s;
    EXPECT_EQ(dw[i], v > -qp && v < qp ? g[i] : 0.0f) << i;
  }
  EXPECT_NEAR(step.grad.raw()[0], ds / std::sqrt(w.size() * qp), 1e-5);
  // A step set by training or a checkpoint is kept.
  step.value.raw()[0] = 0.05f;
  q.BeforeForward();
  EXPECT_EQ(step.value.raw()[0], 0.05f);
  q.Restore();
  EXPECT_EQ(Values(conv2_), w);
}

TEST_F(WeightQatTest, RejectsBadBitsAndUnbalancedCalls) {
  EXPECT_THAT([&] { WeightFakeQuantizer(list_, {.coverage = {.bits = 9}}); },
              ThrowsInvalidArgument("must be in [2, 8], got 9"));
  EXPECT_THAT([&] { WeightFakeQuantizer(list_, {.coverage = {.bits = 0}}); },
              ThrowsInvalidArgument("must be in [2, 8], got 0"));
  WeightFakeQuantizer q(list_, {.kind = WeightQatKind::kDoReFa});
  EXPECT_THAT([&] { q.AfterBackward(); }, ThrowsInvalidArgument("AfterBackward without BeforeForward"));
  EXPECT_THAT([&] { q.Restore(); }, ThrowsInvalidArgument("Restore without BeforeForward"));
  q.BeforeForward();
  EXPECT_THAT([&] { q.BeforeForward(); }, ThrowsInvalidArgument("BeforeForward twice"));
  q.Restore();
  conv2_.value.Fill(0.0f);
  WeightFakeQuantizer lsq(list_, {.kind = WeightQatKind::kLsq});
  EXPECT_THAT([&] { lsq.BeforeForward(); }, ThrowsInvalidArgument("the weights are all zero"));
}

}  // namespace
}  // namespace psg::quant
