#include "train/gradient_norm.h"

#include <cmath>
#include <memory>
#include <vector>

#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/loss.h"
#include "engine/pooling.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::train {
namespace {

using engine::Mode;

// conv -> BN -> global average pool -> fc: smooth (no ReLU kinks), with
// batch-norm running statistics that the extra pass must not move.
struct Model {
  engine::Sequential net{"net"};
  engine::ParameterList params;
  engine::SoftmaxCrossEntropy loss{{}};
  engine::Tensor x = engine::testing::RandomPlain({6, 2, 4, 4}, 3);
  std::vector<int32_t> labels{0, 1, 2, 0, 1, 2};

  Model() {
    net.Emplace<engine::Conv2d>("conv", engine::Conv2dOptions{.in_channels = 2, .out_channels = 3,
                                                              .kernel = 3, .padding = 1});
    net.Emplace<engine::BatchNorm2d>("bn", engine::BatchNormOptions{.channels = 3});
    net.Emplace<engine::Pool2d>("pool", engine::PoolOptions{engine::PoolKind::kGlobalAverage});
    net.Emplace<engine::Linear>("fc", engine::LinearOptions{3, 3, true});
    engine::testing::RandomizeParameters(net, 7);
    net.CollectParameters(&params);
  }
  // Forward, loss and backward on the fixed batch; returns the loss.
  double Pass() {
    const double value = loss.Forward(net.Forward(x, Mode::kTrain), labels);
    net.Backward(loss.Backward());
    return value;
  }
  std::vector<std::vector<float>> Values() const {
    std::vector<std::vector<float>> v;
    for (const engine::Parameter* p : params) v.push_back(p->value.ToPlain());
    return v;
  }
};

// F(w) = L(w) + lambda * ||dL/dw||_1 or _2 over the conv and fc weights.
double RegularizedLoss(Model& m, double lambda, GradientNorm norm) {
  double f = m.Pass(), l1 = 0, sum_squares = 0;
  for (const engine::Parameter* p : m.params) {
    if (p->kind != engine::ParamKind::kConvWeight && p->kind != engine::ParamKind::kFcWeight) continue;
    for (float g : p->grad.flat()) {
      l1 += std::abs(g);
      sum_squares += static_cast<double>(g) * g;
    }
  }
  return f + lambda * (norm == GradientNorm::kL1 ? l1 : std::sqrt(sum_squares));
}

class GradientNormTest : public ::testing::TestWithParam<GradientNorm> {};

TEST_P(GradientNormTest, GradientMatchesCentralDifferencesOfTheRegularizedLoss) {
  const GradientNorm norm = GetParam();
  // Comparable pushes: ||g||_2 is about ||g||_1 / sqrt(n) here.
  const float lambda = norm == GradientNorm::kL1 ? 0.5f : 5.0f;
  Model m;
  GradientNormRegularizer reg(m.params, {.norm = norm, .lambda = lambda, .step = 1e-3f});
  m.Pass();
  std::vector<std::vector<float>> plain_grads;
  for (const engine::Parameter* p : engine::TrainableOnly(m.params)) plain_grads.push_back(p->grad.ToPlain());
  reg.Apply([&] { m.Pass(); });
  std::vector<std::vector<float>> regularized;  // read before the passes below overwrite them
  for (const engine::Parameter* p : engine::TrainableOnly(m.params)) regularized.push_back(p->grad.ToPlain());
  double diff2 = 0, ref2 = 0, reg_part2 = 0;
  size_t t = 0;
  for (engine::Parameter* p : engine::TrainableOnly(m.params)) {
    const std::vector<float>& got = regularized[t];
    for (size_t k = 0; k < got.size(); ++k) {
      const absl::Span<float> w = p->value.flat();
      const float saved = w[k];
      const double h = 1e-2;
      w[k] = saved + h;
      const double up = RegularizedLoss(m, lambda, norm);
      w[k] = saved - h;
      const double down = RegularizedLoss(m, lambda, norm);
      w[k] = saved;
      const double want = (up - down) / (2 * h);
      diff2 += (got[k] - want) * (got[k] - want);
      ref2 += want * want;
      reg_part2 += (got[k] - plain_grads[t][k]) * (got[k] - plain_grads[t][k]);
    }
    ++t;
  }
  std::printf("regularizer part %.3f of the gradient, relative error %.2e\n",
              std::sqrt(reg_part2 / ref2), std::sqrt(diff2 / ref2));
  // The regularizer changes the gradient substantially, and correctly.
  EXPECT_GT(std::sqrt(reg_part2 / ref2), 0.1);
  EXPECT_LT(std::sqrt(diff2 / ref2), 0.03) << "relative error of the regularized gradient";
}

TEST_P(GradientNormTest, RestoresEveryValueBitForBit) {
  Model m;
  GradientNormRegularizer reg(m.params, {.norm = GetParam(), .lambda = 0.1f});
  m.Pass();
  const std::vector<std::vector<float>> before = m.Values();  // BN running stats included
  reg.Apply([&] { m.Pass(); });
  EXPECT_EQ(m.Values(), before);
  EXPECT_GT(reg.last_gradient_norm(), 0.0);
}

TEST_P(GradientNormTest, LambdaZeroKeepsTheGradient) {
  Model m;
  GradientNormRegularizer reg(m.params, {.norm = GetParam(), .lambda = 0.0f});
  m.Pass();
  std::vector<std::vector<float>> plain;
  for (const engine::Parameter* p : engine::TrainableOnly(m.params)) plain.push_back(p->grad.ToPlain());
  reg.Apply([&] { m.Pass(); });
  size_t t = 0;
  for (const engine::Parameter* p : engine::TrainableOnly(m.params)) EXPECT_EQ(p->grad.ToPlain(), plain[t++]);
}

INSTANTIATE_TEST_SUITE_P(BothNorms, GradientNormTest,
                         ::testing::Values(GradientNorm::kL1, GradientNorm::kL2),
                         [](const auto& info) { return info.param == GradientNorm::kL1 ? "L1" : "L2"; });

TEST(GradientNormRegularizerTest, RejectsBadOptions) {
  Model m;
  EXPECT_THAT([&] { GradientNormRegularizer(m.params, {.lambda = -1.0f}); }, ThrowsInvalidArgument("lambda"));
  EXPECT_THAT([&] { GradientNormRegularizer(m.params, {.step = 0.0f}); }, ThrowsInvalidArgument("step"));
  const engine::ParameterList none;
  EXPECT_THAT([&] { GradientNormRegularizer(none, {}); }, ThrowsInvalidArgument("no convolution"));
}

}  // namespace
}  // namespace psg::train
