#include "quant/dfq.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "gtest/gtest.h"
#include "models/zoo.h"

namespace psg::quant {
namespace {

using engine::Parameter;
using engine::ParameterList;

Parameter* Find(const ParameterList& params, const std::string& name) {
  for (Parameter* p : params) {
    if (p->name == name) return p;
  }
  ADD_FAILURE() << "no parameter " << name;
  return params.front();
}

void Set(const ParameterList& params, const std::string& name, std::vector<float> values) {
  Find(params, name)->value.CopyFromPlain(values);
}

// The mean of max(z, 0), z ~ N(mean, stddev^2), by the trapezoid rule over
// mean +- 12 stddev.
double NumericReluMean(double mean, double stddev) {
  const int n = 200000;
  const double lo = mean - 12 * stddev, h = 24 * stddev / n;
  double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const double z = lo + i * h;
    const double f = std::max(z, 0.0) * std::exp(-0.5 * (z - mean) * (z - mean) / (stddev * stddev)) /
                     (stddev * std::sqrt(2 * M_PI));
    sum += (i == 0 || i == n) ? f / 2 : f;
  }
  return sum * h;
}

TEST(ReluMeanTest, MatchesNumericIntegration) {
  for (double mean : {-3.0, -0.5, 0.0, 0.7, 4.0}) {
    for (double stddev : {0.1, 1.0, 2.5}) {
      EXPECT_NEAR(ReluMean(mean, stddev), NumericReluMean(mean, stddev), 1e-7) << mean << " " << stddev;
    }
  }
  EXPECT_EQ(ReluMean(-1.5, 0.0), 0.0);
  EXPECT_EQ(ReluMean(1.5, 0.0), 1.5);
}

std::vector<float> EvalLogits(engine::Layer& model, const engine::Tensor& x) {
  return model.Forward(x, engine::Mode::kEval).ToPlain();
}

TEST(DfqTest, FoldingAndEqualizationKeepResNet20sFunctionAndEqualizeEveryBlock) {
  auto model = models::BuildModel({.name = "resnet20"});
  models::InitializeParameters(*model, 21);
  engine::reference::RandomizeBatchNorm(*model, 22);
  ParameterList params;
  model->CollectParameters(&params);
  const engine::Tensor x = engine::testing::RandomPlain({2, 3, 32, 32}, 23);
  const std::vector<float> before = EvalLogits(*model, x);

  const DataFreeQuantization dfq(*model, params, {.absorb_bias = false});
  EXPECT_EQ(dfq.summary().folded, 21);  // 19 convolutions and 2 projection shortcuts
  EXPECT_EQ(dfq.summary().equalized_pairs, 9);
  EXPECT_EQ(dfq.summary().sweeps, 2);  // the second finds every scale at 1
  EXPECT_EQ(dfq.summary().corrected, 10);  // every conv2, and layer1.0.conv1 reading the stem's ReLU

  const std::vector<float> after = EvalLogits(*model, x);
  float scale = 0;
  for (float v : before) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(after[i], before[i], 2e-5f * scale) << i;

  // Every block's conv1 rows and conv2 columns share their ranges.
  for (const std::string block : {"layer1.0", "layer2.1", "layer3.2"}) {
    const Parameter* w1 = Find(params, block + ".conv1.weight");
    const Parameter* w2 = Find(params, block + ".conv2.weight");
    const int64_t channels = w1->value.dims()[0], row = w1->value.numel() / channels;
    const int64_t out2 = w2->value.dims()[0], k2 = w2->value.numel() / (out2 * channels);
    for (int64_t i = 0; i < channels; ++i) {
      float r1 = 0, r2 = 0;
      for (int64_t j = 0; j < row; ++j) r1 = std::max(r1, std::abs(w1->value.flat()[i * row + j]));
      for (int64_t o = 0; o < out2; ++o) {
        for (int64_t j = 0; j < k2; ++j) r2 = std::max(r2, std::abs(w2->value.flat()[(o * channels + i) * k2 + j]));
      }
      EXPECT_NEAR(r1, r2, 1e-6f * r1) << block << " channel " << i;
    }
  }
}

// conv1 (1 -> 2, 1x1) -> BN (+ReLU) -> conv2 (2 -> 1, 1x1) -> BN.
struct TinyChain {
  engine::Sequential net{"net"};
  ParameterList params;
  TinyChain() {
    net.Emplace<engine::Conv2d>("conv1", engine::Conv2dOptions{.in_channels = 1, .out_channels = 2, .kernel = 1});
    net.Emplace<engine::BatchNorm2d>("bn1", engine::BatchNormOptions{.channels = 2, .fuse_relu = true});
    net.Emplace<engine::Conv2d>("conv2", engine::Conv2dOptions{.in_channels = 2, .out_channels = 1, .kernel = 1});
    net.Emplace<engine::BatchNorm2d>("bn2", engine::BatchNormOptions{.channels = 1});
    net.CollectParameters(&params);
    Set(params, "conv1.weight", {2.0f, -0.5f});
    Set(params, "bn1.weight", {1.0f, 2.0f});
    Set(params, "bn1.bias", {0.5f, 8.0f});
    Set(params, "bn1.running_mean", {0.0f, 0.0f});
    Set(params, "bn1.running_var", {1.0f, 1.0f});
    Set(params, "conv2.weight", {3.0f, 0.25f});
    Set(params, "bn2.weight", {1.0f});
    Set(params, "bn2.bias", {0.0f});
    Set(params, "bn2.running_mean", {0.0f});
    Set(params, "bn2.running_var", {1.0f});
  }
  std::vector<float> Values(const std::string& name) { return Find(params, name)->value.ToPlain(); }
};

TEST(DfqTest, HandComputedChain) {
  TinyChain chain;
  // Inputs in [-1, 1] keep channel 1's pre-activation above its absorbed 1.
  const engine::Tensor x = engine::testing::RandomPlain({4, 1, 3, 3}, 31);
  const std::vector<float> before = EvalLogits(chain.net, x);
  const DataFreeQuantization dfq(chain.net, chain.params, {});
  EXPECT_EQ(dfq.summary().absorbed_pairs, 1);

  // Folding: k = 1 / sqrt(1 + eps) scales every weight (gamma 1, 2 and 1);
  // W1 = (2k, -k), W2 = (3k, k / 4), ranges r1 = (2k, k), r2 = (3k, k / 4),
  // scales s = sqrt(r1 / r2) = (sqrt(2/3), 2).
  const double k = 1 / std::sqrt(1 + 1e-5), s0 = std::sqrt(2.0 / 3.0), s1 = 2;
  const std::vector<float> w1 = chain.Values("conv1.weight"), w2 = chain.Values("conv2.weight");
  EXPECT_NEAR(w1[0], 2 * k / s0, 1e-6);
  EXPECT_NEAR(w1[1], -k / s1, 1e-6);
  EXPECT_NEAR(w2[0], 3 * k * s0, 1e-6);
  EXPECT_NEAR(w2[1], 0.25 * k * s1, 1e-6);
  // BN1's output N((0.5, 8) / s, (1, 2) / s) = N((0.612, 4), (1.22, 1)):
  // channel 1 gives c = 4 - 3 * 1 = 1 to conv2's bias, as W2[1] * c.
  const std::vector<float> gamma1 = chain.Values("bn1.weight"), beta1 = chain.Values("bn1.bias");
  EXPECT_NEAR(gamma1[0], 1 / s0, 1e-6);
  EXPECT_NEAR(gamma1[1], 1.0, 1e-6);
  EXPECT_NEAR(beta1[0], 0.5 / s0, 1e-6);
  EXPECT_NEAR(beta1[1], 3.0, 1e-6);
  const std::vector<float> beta2 = chain.Values("bn2.bias"), mean2 = chain.Values("bn2.running_mean");
  EXPECT_NEAR(beta2[0] - mean2[0], 0.25 * k * s1 * 1.0, 1e-6);  // the bias BN2 adds

  const std::vector<float> after = EvalLogits(chain.net, x);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(after[i], before[i], 1e-5f) << i;

  // Bias correction: conv2 off its floating-point weights by d adds d . E[x]
  // to its expected output; the correction takes it out of the bias.
  const std::vector<float> d = {0.1f, -0.2f};
  Set(chain.params, "conv2.weight", {w2[0] + d[0], w2[1] + d[1]});
  dfq.CorrectBias();
  const double expected_error = (w2[0] + d[0] - w2[0]) * ReluMean(0.5 / s0, 1 / s0) +
                                (w2[1] + d[1] - w2[1]) * ReluMean(3.0, 1.0);
  EXPECT_NEAR(chain.Values("bn2.running_mean")[0] - mean2[0], expected_error, 1e-6);
}

TEST(DfqTest, NothingButFoldingWhenEqualizationAndAbsorptionAreOff) {
  TinyChain chain;
  const DataFreeQuantization dfq(chain.net, chain.params, {.equalize = false, .absorb_bias = false});
  EXPECT_EQ(dfq.summary().folded, 2);
  EXPECT_EQ(dfq.summary().equalized_pairs, 0);
  EXPECT_EQ(dfq.summary().absorbed_pairs, 0);
  const double k = 1 / std::sqrt(1 + 1e-5);
  const std::vector<float> w1 = chain.Values("conv1.weight");
  EXPECT_NEAR(w1[0], 2 * k, 1e-6);
  EXPECT_NEAR(w1[1], -k, 1e-6);  // -0.5 * gamma 2
}

TEST(DfqTest, AParameterListWithoutTheModelsTensorsIsAnError) {
  TinyChain chain;
  EXPECT_THROW(DataFreeQuantization(chain.net, {}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace psg::quant
