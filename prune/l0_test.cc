#include "prune/l0.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "compression/coverage.h"
#include "engine/parameter.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prune/mask.h"

namespace psg::prune {
namespace {

using engine::Mode;
using engine::Parameter;
using engine::ParameterList;
using engine::ParamKind;
using ::psg::ThrowsInvalidArgument;

// A first convolution, a hidden one and a last linear layer, with biases, as
// 1x1 convolutions and a matrix: covered are conv2 (and conv1, fc with
// first/last). Weights uniform in [-1, 1).
struct TinyModel {
  TinyModel() {
    storage.reserve(6);
    Add("conv1.weight", ParamKind::kConvWeight, {3, 2, 1, 1});
    Add("conv1.bias", ParamKind::kConvBias, {3});
    Add("conv2.weight", ParamKind::kConvWeight, {4, 3, 1, 1});
    Add("conv2.bias", ParamKind::kConvBias, {4});
    Add("fc.weight", ParamKind::kFcWeight, {2, 4});
    Add("fc.bias", ParamKind::kFcBias, {2});
  }
  void Add(const std::string& name, ParamKind kind, const engine::Dims& dims) {
    storage.push_back(Parameter::Trainable(name, kind, dims));
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& w : storage.back().value.flat()) w = uniform(rng);
    params.push_back(&storage.back());
  }
  std::mt19937 rng{11};
  std::vector<Parameter> storage;
  ParameterList params;
};

TEST(L0GateTest, ClosedFormValues) {
  const float stretch = kL0Zeta - kL0Gamma;  // 1.2
  // log_alpha 0, u 1/2: s = 1/2.
  GateSample g = SampleGate(0.0f, 0.5f);
  EXPECT_FLOAT_EQ(g.z, 0.5f);
  EXPECT_FLOAT_EQ(g.dz, stretch * 0.25f / kL0Beta);  // 0.45
  // log_alpha log 3, u 1/2: s = sigmoid(1.5 log 3) = 1 / (1 + 3^-1.5).
  const float s = 1.0f / (1.0f + std::pow(3.0f, -1.5f));
  g = SampleGate(std::log(3.0f), 0.5f);
  EXPECT_NEAR(g.z, s * stretch - 0.1f, 1e-6);
  EXPECT_NEAR(g.dz, stretch * s * (1 - s) / kL0Beta, 1e-6);
  // The noise's logit cancels log_alpha: log(1/4 / 3/4) = -log 3.
  EXPECT_NEAR(SampleGate(std::log(3.0f), 0.25f).z, 0.5f, 1e-6);
  // Clipped at 0 and 1, with a zero derivative.
  g = SampleGate(-10.0f, 0.5f);
  EXPECT_EQ(g.z, 0.0f);
  EXPECT_EQ(g.dz, 0.0f);
  g = SampleGate(10.0f, 0.5f);
  EXPECT_EQ(g.z, 1.0f);
  EXPECT_EQ(g.dz, 0.0f);
  EXPECT_EQ(SampleGate(0.0f, 0.9f).z, 1.0f);  // s = sigmoid(1.5 log 9) = 0.964: stretched 1.057
  EXPECT_EQ(SampleGate(0.0f, 0.1f).z, 0.0f);  // symmetric: -0.057

  // Evaluation: sigmoid(log_alpha) * 1.2 - 0.1, clipped; 0 from -log 11 down, 1 from log 11 up.
  EXPECT_FLOAT_EQ(EvalGate(0.0f), 0.5f);
  EXPECT_FLOAT_EQ(EvalGate(std::log(2.0f)), 2.0f / 3.0f * stretch - 0.1f);
  EXPECT_EQ(EvalGate(-std::log(11.0f) - 1e-3f), 0.0f);
  EXPECT_GT(EvalGate(-std::log(11.0f) + 1e-3f), 0.0f);
  EXPECT_EQ(EvalGate(std::log(11.0f) + 1e-3f), 1.0f);
  EXPECT_LT(EvalGate(std::log(11.0f) - 1e-3f), 1.0f);

  // P(z != 0) = sigmoid(log_alpha - beta log(-gamma / zeta)) = sigmoid(log_alpha + (2/3) log 11).
  EXPECT_NEAR(GateKeepProbability(-2.0f / 3.0f * std::log(11.0f)), 0.5, 1e-7);
  EXPECT_NEAR(GateKeepProbability(0.0f), 1.0 / (1.0 + std::pow(11.0, -2.0 / 3.0)), 1e-7);
  EXPECT_NEAR(GateKeepProbabilityDerivative(0.0f),
              GateKeepProbability(0.0f) * (1 - GateKeepProbability(0.0f)), 1e-12);
  // ... which is the fraction of noise draws that open the gate.
  int open = 0;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) open += SampleGate(0.5f, L0Noise(3, 0, 0, i)).z != 0.0f;
  EXPECT_NEAR(static_cast<double>(open) / draws, GateKeepProbability(0.5f), 0.01);
}

TEST(L0GateTest, NoiseIsCounterBasedAndInTheOpenUnitInterval) {
  EXPECT_EQ(L0Noise(1, 2, 3, 4), L0Noise(1, 2, 3, 4));
  EXPECT_NE(L0Noise(1, 2, 3, 4), L0Noise(2, 2, 3, 4));
  EXPECT_NE(L0Noise(1, 2, 3, 4), L0Noise(1, 3, 3, 4));
  EXPECT_NE(L0Noise(1, 2, 3, 4), L0Noise(1, 2, 4, 4));
  EXPECT_NE(L0Noise(1, 2, 3, 4), L0Noise(1, 2, 3, 5));
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const float u = L0Noise(9, 7, 0, i);
    ASSERT_GT(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ASSERT_GT(1.0f - u, 0.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.01);
}

TEST(L0GatesTest, GatesCoveredWeightsWithTheInitialDropRate) {
  TinyModel m;
  L0Gates hidden(m.params, {.initial_drop = 0.1});
  ASSERT_EQ(hidden.covered().size(), 1u);
  EXPECT_EQ(hidden.covered()[0]->name, "conv2.weight");

  L0Gates gates(m.params, {.initial_drop = 0.1, .prune_first_last = true, .seed = 5});
  const ParameterList alphas = gates.parameters();
  ASSERT_EQ(alphas.size(), 3u);
  const ParameterList covered = gates.covered();
  double sum = 0, sum_sq = 0;
  int64_t n = 0;
  for (size_t t = 0; t < alphas.size(); ++t) {
    EXPECT_EQ(alphas[t]->name, covered[t]->name + ".l0_log_alpha");
    EXPECT_EQ(alphas[t]->kind, ParamKind::kGateLogAlpha);
    EXPECT_TRUE(alphas[t]->trainable());
    EXPECT_EQ(alphas[t]->value.dims(), covered[t]->value.dims());
    for (float a : alphas[t]->value.flat()) {
      sum += a;
      sum_sq += a * a;
      ++n;
    }
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, std::log(9.0), 0.01);  // log(1 - p) - log(p)
  EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), 0.01, 0.005);
  EXPECT_STREQ(engine::ParamKindName(ParamKind::kGateLogAlpha), "gate_log_alpha");
  // Nothing pruned at first; the expected L0 is about 0.9... of the weights, by the keep probability.
  EXPECT_EQ(Total(gates.Report()).pruned, 0);
  EXPECT_EQ(Total(gates.Report()).size, 6 + 12 + 8);
  EXPECT_NEAR(gates.ExpectedL0() / n, GateKeepProbability(std::log(9.0f)), 1e-3);

  // The coverage policy leaves the gates alone (PSG, QAT, pruning never touch them).
  ParameterList all = m.params;
  all.insert(all.end(), alphas.begin(), alphas.end());
  const std::vector<compression::Coverage> coverage = compression::ResolveCoverage(all, {});
  for (size_t i = m.params.size(); i < all.size(); ++i) EXPECT_FALSE(coverage[i].covered) << all[i]->name;

  // The same seed, the same initialization.
  L0Gates again(m.params, {.initial_drop = 0.1, .prune_first_last = true, .seed = 5});
  for (size_t t = 0; t < alphas.size(); ++t) {
    EXPECT_THAT(again.parameters()[t]->value.ToPlain(), ::testing::ElementsAreArray(alphas[t]->value.ToPlain()));
  }
}

// The loss of a tiny linear model per covered tensor W (out x in):
// sum over tensors of 0.5 |W x - y|^2 for fixed x, y; when `grad`, writes
// dL/dW into W's gradient.
double LinearLoss(const ParameterList& weights, bool grad) {
  double loss = 0;
  for (size_t t = 0; t < weights.size(); ++t) {
    Parameter* p = weights[t];
    const int64_t rows = p->out_channels(), cols = p->value.numel() / rows;
    std::mt19937 rng(100 + t);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> x(cols), y(rows);
    for (double& v : x) v = uniform(rng);
    for (double& v : y) v = uniform(rng);
    const float* w = p->value.raw();
    for (int64_t r = 0; r < rows; ++r) {
      double out = -y[r];
      for (int64_t c = 0; c < cols; ++c) out += w[r * cols + c] * x[c];
      loss += 0.5 * out * out;
      if (grad) {
        for (int64_t c = 0; c < cols; ++c) p->grad.raw()[r * cols + c] = static_cast<float>(out * x[c]);
      }
    }
  }
  return loss;
}

// The training objective at optimizer step `step` (the data loss on gated weights plus the penalty).
double Objective(L0Gates& gates, int64_t step) {
  gates.BeforeForward(Mode::kTrain, step);
  const double loss = LinearLoss(gates.covered(), false);
  gates.Restore();
  return loss + gates.Penalty();
}

// (f(v + eps) - f(v - eps)) / (2 eps) for the value `v` that f reads; v is restored.
double CentralDifference(float& v, float eps, const std::function<double()>& f) {
  const float v0 = v;
  v = v0 + eps;
  const double plus = f();
  v = v0 - eps;
  const double minus = f();
  v = v0;
  return (plus - minus) / (static_cast<double>(v0 + eps) - static_cast<double>(v0 - eps));
}

// Log alphas spread over [-3, 3], so that gates are open, clipped at 0 and at 1.
void SpreadLogAlphas(L0Gates& gates) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  for (Parameter* a : gates.parameters()) {
    for (float& v : a->value.flat()) v = uniform(rng);
  }
}

// Central finite differences of Objective (with the step's fixed noise)
// against the analytic gradients of w and log_alpha.
void ExpectGradientsMatchFiniteDifferences(double lambda) {
  TinyModel m;
  const uint64_t seed = 17;
  const int64_t step = 5;
  L0Gates gates(m.params, {.lambda = lambda, .prune_first_last = true, .seed = seed});
  SpreadLogAlphas(gates);
  const ParameterList weights = gates.covered(), alphas = gates.parameters();

  gates.BeforeForward(Mode::kTrain, step);
  // The layer sees w * z with z from the step's noise.
  for (size_t t = 0; t < weights.size(); ++t) {
    const std::vector<float> gated = weights[t]->value.ToPlain();
    gates.Restore();
    for (size_t j = 0; j < gated.size(); ++j) {
      const float z = SampleGate(alphas[t]->value.raw()[j], L0Noise(seed, step, static_cast<int>(t), j)).z;
      ASSERT_EQ(gated[j], weights[t]->value.raw()[j] * z) << weights[t]->name << "[" << j << "]";
    }
    gates.BeforeForward(Mode::kTrain, step);
  }
  LinearLoss(weights, true);
  gates.AfterBackward();
  EXPECT_FALSE(gates.gated());

  const float eps = 1e-2f;
  int interior = 0, clipped = 0;
  for (size_t t = 0; t < weights.size(); ++t) {
    for (int64_t j = 0; j < weights[t]->value.numel(); ++j) {
      const auto objective = [&gates, step] { return Objective(gates, step); };
      const double fd = CentralDifference(weights[t]->value.raw()[j], eps, objective);
      EXPECT_NEAR(weights[t]->grad.raw()[j], fd, 2e-3 + 1e-2 * std::fabs(fd)) << weights[t]->name << "[" << j << "]";

      const float a0 = alphas[t]->value.raw()[j];
      const float u = L0Noise(seed, step, static_cast<int>(t), j);
      const GateSample lo = SampleGate(a0 - eps, u), hi = SampleGate(a0 + eps, u);
      // A difference across a clipping kink measures neither side: skip it.
      const bool both_inside = lo.z > 0 && lo.z < 1 && hi.z > 0 && hi.z < 1;
      if (!both_inside && lo.z != hi.z) continue;
      (both_inside ? interior : clipped) += 1;
      const double a_fd = CentralDifference(alphas[t]->value.raw()[j], eps, objective);
      EXPECT_NEAR(alphas[t]->grad.raw()[j], a_fd, 2e-3 + 1e-2 * std::fabs(a_fd))
          << alphas[t]->name << "[" << j << "]";
    }
  }
  EXPECT_GT(interior, 3);
  EXPECT_GT(clipped, 3);
}

TEST(L0GatesTest, GradientsMatchFiniteDifferencesWithFixedNoise) { ExpectGradientsMatchFiniteDifferences(0.0); }

TEST(L0GatesTest, GradientsWithThePenaltyMatchFiniteDifferences) { ExpectGradientsMatchFiniteDifferences(0.05); }

TEST(L0GatesTest, PenaltyGradientMatchesFiniteDifferences) {
  TinyModel m;
  const double lambda = 0.3;
  L0Gates gates(m.params, {.lambda = lambda, .prune_first_last = true});
  SpreadLogAlphas(gates);
  gates.BeforeForward(Mode::kTrain, 0);
  for (Parameter* w : gates.covered()) w->grad.Fill(0.0f);  // no data gradient: the penalty's only
  gates.AfterBackward();
  const float eps = 1e-3f;
  for (Parameter* a : gates.parameters()) {
    for (int64_t j = 0; j < a->value.numel(); ++j) {
      const double fd = CentralDifference(a->value.raw()[j], eps, [&gates] { return gates.Penalty(); });
      EXPECT_NEAR(a->grad.raw()[j], fd, 1e-4 + 1e-3 * std::fabs(fd)) << a->name << "[" << j << "]";
      EXPECT_NEAR(a->grad.raw()[j], lambda * GateKeepProbabilityDerivative(a->value.raw()[j]), 1e-6);
    }
  }
  EXPECT_DOUBLE_EQ(gates.Penalty(), lambda * gates.ExpectedL0());
}

// The scale multiplies the whole log_alpha gradient (data term and penalty)
// and leaves the weights' gradients alone: the same step with scale 1 is the
// reference.
TEST(L0GatesTest, GateLrScaleMultipliesOnlyTheLogAlphaGradients) {
  const double scale = 250.0;
  std::vector<std::vector<float>> weight_grads[2], alpha_grads[2];
  for (int scaled = 0; scaled < 2; ++scaled) {
    TinyModel m;
    L0Gates gates(m.params, {.lambda = 0.05, .gate_lr_scale = scaled ? scale : 1.0, .prune_first_last = true});
    SpreadLogAlphas(gates);
    gates.BeforeForward(Mode::kTrain, 3);
    LinearLoss(gates.covered(), true);
    gates.AfterBackward();
    for (Parameter* w : gates.covered()) weight_grads[scaled].push_back(w->grad.ToPlain());
    for (Parameter* a : gates.parameters()) alpha_grads[scaled].push_back(a->grad.ToPlain());
  }
  EXPECT_EQ(weight_grads[1], weight_grads[0]);
  int nonzero = 0;
  for (size_t t = 0; t < alpha_grads[0].size(); ++t) {
    for (size_t j = 0; j < alpha_grads[0][t].size(); ++j) {
      const float reference = alpha_grads[0][t][j];
      EXPECT_NEAR(alpha_grads[1][t][j], scale * reference, 1e-5 * scale * std::fabs(reference)) << t << "[" << j << "]";
      nonzero += reference != 0.0f;
    }
  }
  EXPECT_GT(nonzero, 3);
}

bool IsPositiveZero(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits == 0;
}

TEST(L0GatesTest, EvalGatesAreDeterministicAndPruneClosedGates) {
  TinyModel m;
  L0Gates gates(m.params, {.prune_first_last = true});
  SpreadLogAlphas(gates);
  const ParameterList weights = gates.covered(), alphas = gates.parameters();
  std::vector<std::vector<float>> original;
  for (Parameter* w : weights) original.push_back(w->value.ToPlain());

  std::vector<std::vector<float>> first;
  gates.BeforeForward(Mode::kEval, 3);
  for (Parameter* w : weights) first.push_back(w->value.ToPlain());
  gates.Restore();
  gates.BeforeForward(Mode::kEval, 100);  // the step plays no part
  int64_t closed = 0;
  for (size_t t = 0; t < weights.size(); ++t) {
    EXPECT_EQ(weights[t]->value.ToPlain(), first[t]);
    for (size_t j = 0; j < original[t].size(); ++j) {
      const float z = EvalGate(alphas[t]->value.raw()[j]);
      EXPECT_EQ(first[t][j], original[t][j] * z);
      closed += z == 0.0f;
    }
  }
  gates.Restore();
  for (size_t t = 0; t < weights.size(); ++t) EXPECT_EQ(weights[t]->value.ToPlain(), original[t]);
  ASSERT_GT(closed, 0);

  // Training gates: the same for the same step, others for another.
  gates.BeforeForward(Mode::kTrain, 4);
  const std::vector<float> step4 = weights[1]->value.ToPlain();
  gates.Restore();
  gates.BeforeForward(Mode::kTrain, 4);
  EXPECT_EQ(weights[1]->value.ToPlain(), step4);
  gates.Restore();
  gates.BeforeForward(Mode::kTrain, 5);
  EXPECT_NE(weights[1]->value.ToPlain(), step4);
  gates.Restore();

  // The report and the masks count the closed evaluation gates.
  const std::vector<LayerSparsity> report = gates.Report();
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(report[1].name, "conv2.weight");
  EXPECT_EQ(Total(report).pruned, closed);
  const MaskSet masks = gates.L0Masks();
  ASSERT_EQ(masks.size(), 3);
  gates.FoldEvalGates();
  for (int t = 0; t < masks.size(); ++t) {
    EXPECT_EQ(&masks.parameter(t), weights[t]);
    for (size_t j = 0; j < original[t].size(); ++j) {
      const float z = EvalGate(alphas[t]->value.raw()[j]);
      EXPECT_EQ(masks.mask(t)[j], z == 0.0f ? 0.0f : 1.0f);
      if (z == 0.0f) {
        EXPECT_TRUE(IsPositiveZero(weights[t]->value.raw()[j]));
      } else {
        EXPECT_EQ(weights[t]->value.raw()[j], original[t][j] * z);
      }
    }
  }
}

TEST(L0GatesTest, RejectsBadOptionsAndCallOrder) {
  TinyModel m;
  EXPECT_THAT([&] { L0Gates(m.params, {.lambda = -1}); }, ThrowsInvalidArgument("L0: lambda must be finite and >= 0, got -1"));
  EXPECT_THAT([&] { L0Gates(m.params, {.lambda = std::nan("")}); }, ThrowsInvalidArgument("lambda must be finite"));
  EXPECT_THAT([&] { L0Gates(m.params, {.initial_drop = 0}); },
              ThrowsInvalidArgument("L0: initial drop rate must be in (0, 1), got 0"));
  EXPECT_THAT([&] { L0Gates(m.params, {.initial_drop = 1}); }, ThrowsInvalidArgument("must be in (0, 1), got 1"));
  EXPECT_THAT([&] { L0Gates(m.params, {.gate_lr_scale = 0}); },
              ThrowsInvalidArgument("L0: gate learning-rate scale must be finite and > 0, got 0"));
  L0Gates gates(m.params, {});
  EXPECT_THAT([&] { gates.AfterBackward(); }, ThrowsInvalidArgument("L0: AfterBackward without BeforeForward(kTrain)"));
  EXPECT_THAT([&] { gates.Restore(); }, ThrowsInvalidArgument("L0: Restore without BeforeForward"));
  gates.BeforeForward(Mode::kEval, 0);
  EXPECT_THAT([&] { gates.BeforeForward(Mode::kTrain, 0); }, ThrowsInvalidArgument("BeforeForward twice"));
  EXPECT_THAT([&] { gates.AfterBackward(); }, ThrowsInvalidArgument("AfterBackward without BeforeForward(kTrain)"));
  EXPECT_THAT([&] { gates.FoldEvalGates(); }, ThrowsInvalidArgument("FoldEvalGates while gated"));
  gates.Restore();
}

}  // namespace
}  // namespace psg::prune
