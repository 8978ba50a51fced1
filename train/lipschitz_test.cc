#include "train/lipschitz.h"

#include <cmath>
#include <vector>

#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::train {
namespace {

// A conv with fewer outputs than fan-in (rows orthonormal) and a linear layer
// with more outputs than inputs (columns orthonormal).
struct Model {
  engine::Sequential net{"net"};
  engine::ParameterList params;
  Model() {
    net.Emplace<engine::Conv2d>("conv", engine::Conv2dOptions{.in_channels = 2, .out_channels = 3,
                                                              .kernel = 3, .padding = 1});
    net.Emplace<engine::Linear>("fc", engine::LinearOptions{3, 5, true});
    engine::testing::RandomizeParameters(net, 7);
    net.CollectParameters(&params);
  }
};

// The penalty by its definition, in double: beta / 2 * sum ||W W^T - I||^2 or ||W^T W - I||^2.
double Penalty(const engine::ParameterList& params, double beta) {
  double total = 0;
  for (const engine::Parameter* p : params) {
    if (p->kind != engine::ParamKind::kConvWeight && p->kind != engine::ParamKind::kFcWeight) continue;
    const std::vector<float> w = p->value.ToPlain();
    const int64_t out = p->value.dims()[0], in = p->value.numel() / out;
    const bool rows = out <= in;
    const int64_t side = rows ? out : in, length = rows ? in : out;
    for (int64_t i = 0; i < side; ++i) {
      for (int64_t j = 0; j < side; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < length; ++k) {
          dot += rows ? double(w[i * in + k]) * w[j * in + k] : double(w[k * in + i]) * w[k * in + j];
        }
        const double m = dot - (i == j);
        total += m * m;
      }
    }
  }
  return 0.5 * beta * total;
}

TEST(LipschitzRegularizerTest, PenaltyAndGradientMatchTheDefinition) {
  const float beta = 0.01f;
  Model m;
  LipschitzRegularizer reg(m.params, {.beta = beta});
  for (engine::Parameter* p : m.params) p->grad.Fill(0.0f);
  reg.Apply();
  EXPECT_NEAR(reg.last_penalty(), Penalty(m.params, beta), 1e-6 * Penalty(m.params, beta));
  for (engine::Parameter* p : m.params) {
    if (p->kind != engine::ParamKind::kConvWeight && p->kind != engine::ParamKind::kFcWeight) {
      EXPECT_THAT(p->grad.ToPlain(), ::testing::Each(0.0f)) << p->name;  // biases untouched
      continue;
    }
    const std::vector<float> got = p->grad.ToPlain();
    const absl::Span<float> w = p->value.flat();
    for (size_t k = 0; k < w.size(); ++k) {
      const float saved = w[k];
      const double h = 1e-3;
      w[k] = saved + h;
      const double up = Penalty(m.params, beta);
      w[k] = saved - h;
      const double down = Penalty(m.params, beta);
      w[k] = saved;
      EXPECT_NEAR(got[k], (up - down) / (2 * h), 1e-4 + 1e-3 * std::abs(got[k])) << p->name << " " << k;
    }
  }
}

TEST(LipschitzRegularizerTest, OrthonormalWeightsCostNothing) {
  Model m;
  // Conv 3 x 18: rows e_0, e_1, e_2; fc 5 x 3: columns e_0, e_1, e_2.
  for (engine::Parameter* p : m.params) {
    if (p->kind != engine::ParamKind::kConvWeight && p->kind != engine::ParamKind::kFcWeight) continue;
    const int64_t out = p->value.dims()[0], in = p->value.numel() / out;
    std::vector<float> w(p->value.numel(), 0.0f);
    for (int64_t i = 0; i < std::min(out, in); ++i) w[i * in + i] = 1.0f;
    p->value.CopyFromPlain(w);
    p->grad.Fill(0.0f);
  }
  LipschitzRegularizer reg(m.params, {.beta = 1.0f});
  reg.Apply();
  EXPECT_EQ(reg.last_penalty(), 0.0);
  for (const engine::Parameter* p : m.params) EXPECT_THAT(p->grad.ToPlain(), ::testing::Each(0.0f));
}

TEST(LipschitzRegularizerTest, RejectsBadOptions) {
  Model m;
  EXPECT_THAT([&] { LipschitzRegularizer(m.params, {.beta = -1.0f}); }, ThrowsInvalidArgument("beta"));
  const engine::ParameterList none;
  EXPECT_THAT([&] { LipschitzRegularizer(none, {}); }, ThrowsInvalidArgument("no convolution"));
}

}  // namespace
}  // namespace psg::train
