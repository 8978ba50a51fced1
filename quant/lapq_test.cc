#include "quant/lapq.h"

#include <cmath>
#include <random>

#include "compression/quant_grid.h"
#include "engine/testing/gradient_check.h"
#include "gtest/gtest.h"

namespace psg::quant {
namespace {

std::vector<float> Gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// sum |x - Q(x)|^p by a scalar loop.
double LpErrorReference(const std::vector<float>& x, int bits, bool unsigned_grid, double clip, double p) {
  const double levels = unsigned_grid ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
  const double step = clip / levels, lowest = unsigned_grid ? 0 : -levels;
  double sum = 0;
  for (float v : x) {
    const double q = step * std::nearbyint(std::clamp(v / step, lowest, levels));
    sum += std::pow(std::abs(v - q), p);
  }
  return sum;
}

TEST(LpOptimalClipTest, MatchesAFineScanOfTheError) {
  const std::vector<float> normal = Gaussian(2000, 1);
  std::vector<float> relu = normal;
  for (float& v : relu) v = std::max(v, 0.0f);
  for (const auto& [x, unsigned_grid] : {std::pair{normal, false}, std::pair{relu, true}}) {
    float top = 0;
    for (float v : x) top = std::max(top, std::abs(v));
    for (int bits : {2, 4}) {
      for (double p : {2.0, 3.0}) {
        double best = std::numeric_limits<double>::max();
        for (int k = 1; k <= 2000; ++k) best = std::min(best, LpErrorReference(x, bits, unsigned_grid, top * k / 2000, p));
        const double clip = LpOptimalClip(x, bits, unsigned_grid, p);
        EXPECT_GT(clip, 0);
        EXPECT_LE(clip, top);
        // The error is a jagged function of the clip (levels cross samples),
        // so the coarse-then-golden search lands in the best basin, within
        // half a percent of the best of a 2000-point scan.
        EXPECT_LE(LpErrorReference(x, bits, unsigned_grid, clip, p), best * 1.005) << bits << " " << p;
      }
    }
  }
  // At 4 bits a Gaussian's L2-optimal clip is far inside its max (about 2.5 sigma).
  EXPECT_LT(LpOptimalClip(normal, 4, false, 2.0), 3.2);
  EXPECT_EQ(LpOptimalClip(std::vector<float>(10, 0.0f), 4, false, 2.0), 0.0);
}

TEST(PowellTest, MinimizesAQuadraticWithCoupledVariablesAndRosenbrocksValley) {
  auto quadratic = [](const std::vector<double>& x) {
    const double a = x[0] - 0.3, b = x[1] + 0.2;
    return a * a + 3 * b * b + 1.5 * a * b + 2;
  };
  const PowellResult q = PowellMinimize(quadratic, {0.0, 0.0}, {.line_search_evaluations = 30, .tolerance = 1e-12});
  EXPECT_NEAR(q.x[0], 0.3, 1e-4);
  EXPECT_NEAR(q.x[1], -0.2, 1e-4);
  EXPECT_NEAR(q.value, 2.0, 1e-8);

  auto rosenbrock = [](const std::vector<double>& x) {
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
  };
  const PowellResult r = PowellMinimize(rosenbrock, {0.5, 0.5},
                                        {.line_search_evaluations = 40, .max_evaluations = 20000, .tolerance = 1e-14});
  EXPECT_NEAR(r.x[0], 1.0, 2e-2);
  EXPECT_NEAR(r.x[1], 1.0, 4e-2);
  EXPECT_LE(r.evaluations, 20000);
}

TEST(PowellTest, StopsAtItsEvaluationBudget) {
  int calls = 0;
  auto f = [&](const std::vector<double>& x) {
    ++calls;
    return std::pow(x[0] - 5, 2);
  };
  const PowellResult r = PowellMinimize(f, {0.0}, {.max_evaluations = 50});
  EXPECT_EQ(r.evaluations, calls);
  EXPECT_LE(calls, 50);
  EXPECT_LT(r.value, 25.0);  // moved towards 5, by at most 0.5 per line search
}

TEST(LossAwareQuantizationTest, LowersTheLossBelowLpClipsAndLeavesTheModelQuantized) {
  // A "model" of one weight tensor and one activation quantizer; the loss is
  // the error of the quantized weights against a target that rewards
  // clipping less than the Lp optimum, plus the activation range's distance
  // to 1.7: the joint search must find both.
  engine::Parameter w = engine::Parameter::Trainable("w", engine::ParamKind::kConvWeight, {256});
  const std::vector<float> values = Gaussian(256, 3);
  w.value.CopyFromPlain(values);
  FakeQuantActivation act("act", 4);
  std::vector<float> samples = Gaussian(1000, 4);
  for (float& v : samples) v = std::abs(v);
  auto loss = [&] {
    double sum = 0;
    const std::vector<float> q = w.value.ToPlain();
    for (size_t i = 0; i < q.size(); ++i) sum += std::pow(q[i] - values[i], 2);
    return sum + std::pow(act.range() - 1.7, 2);
  };
  LossAwareQuantization lapq({{&w, 3}}, {{&act, samples}});
  const LapqResult result = lapq.Run(loss, {.powell = {.line_search_evaluations = 16, .max_evaluations = 200}});
  EXPECT_LE(result.final_loss, result.lp_loss);
  EXPECT_LT(result.final_loss, result.rounding_loss);
  EXPECT_NEAR(act.range(), 1.7, 0.01);
  EXPECT_DOUBLE_EQ(loss(), result.final_loss);  // the model holds the best clips
  // The weights are on a 3-bit grid of the reported clip.
  const compression::GridPoint grid = compression::MakeGrid(compression::GridRange::kRestricted, 3,
                                                  -result.weight_clips[0], result.weight_clips[0]);
  const std::vector<float> q = w.value.ToPlain();
  double mse = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    EXPECT_EQ(q[i], grid(values[i])) << i;
    mse += std::pow(static_cast<double>(q[i]) - values[i], 2) / q.size();
  }
  EXPECT_NEAR(result.weight_mse[0], mse, 1e-12);
  lapq.RestoreWeights();
  EXPECT_EQ(w.value.ToPlain(), values);
  EXPECT_GT(result.loss_evaluations, 6);
  EXPECT_LE(result.loss_evaluations, 1 + 5 + 200);
}

TEST(LossAwareQuantizationTest, AnActivationWithoutSamplesIsAnError) {
  FakeQuantActivation act("relu3", 4);
  EXPECT_THROW(LossAwareQuantization({}, {{&act, {}}}), std::invalid_argument);
}

}  // namespace
}  // namespace psg::quant
