#include "engine/adam_kernel.h"

#include <cmath>
#include <vector>

#include "engine/sgd_kernel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(AdamUpdateTest, FirstStepMovesEachWeightByLrTowardsMinusGradient) {
  // With zero moments, the bias-corrected first step is lr * d / (|d| + eps).
  std::vector<float> w = {1.0f, -2.0f, 0.5f}, g = {0.3f, -4.0f, 0.0f}, m(3), v(3);
  AdamUpdate({.lr = 0.01f}, 1, w.data(), g.data(), m.data(), v.data(), 3, engine::UnitScale());
  EXPECT_NEAR(w[0], 1.0f - 0.01f, 1e-6f);
  EXPECT_NEAR(w[1], -2.0f + 0.01f, 1e-6f);
  EXPECT_EQ(w[2], 0.5f);
  EXPECT_NEAR(m[0], 0.1f * 0.3f, 1e-7f);
  EXPECT_NEAR(v[1], 0.001f * 16.0f, 1e-6f);
}

TEST(AdamUpdateTest, SecondStepMatchesHandComputedTorchFormulas) {
  std::vector<float> w = {1.0f}, g = {0.5f}, m(1), v(1);
  const AdamHyper hyper{.lr = 0.1f, .weight_decay = 0.1f};
  auto halve = [](float) { return 0.5f; };  // a gradient scale of 1/2
  AdamUpdate(hyper, 1, w.data(), g.data(), m.data(), v.data(), 1, halve);
  // d = 0.25 + 0.1 = 0.35; w = 1 - 0.1 * 0.35 / (0.35 + 1e-8)
  EXPECT_NEAR(w[0], 0.9f, 1e-6f);
  g[0] = -0.5f;
  AdamUpdate(hyper, 2, w.data(), g.data(), m.data(), v.data(), 1, halve);
  // d = -0.25 + 0.09 = -0.16; m = 0.9 * 0.035 - 0.016; v = 0.999 * 1.225e-4 + 0.001 * 0.0256
  const double d = -0.16, mt = 0.9 * 0.035 + 0.1 * d, vt = 0.999 * 1.225e-4 + 0.001 * d * d;
  const double expected =
      0.9 - 0.1 / (1 - 0.81) * mt / (std::sqrt(vt) / std::sqrt(1 - 0.998001) + 1e-8);
  EXPECT_NEAR(w[0], expected, 1e-6);
  EXPECT_NEAR(m[0], mt, 1e-7);
  EXPECT_NEAR(v[0], vt, 1e-8);
}

}  // namespace
}  // namespace psg::engine
