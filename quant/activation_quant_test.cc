#include "quant/activation_quant.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

#include "engine/graph.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::quant {
namespace {

using engine::Mode;
using engine::Tensor;
using engine::testing::InLayout;
using engine::testing::RandomPlain;
using engine::testing::RandomVector;

// The scalar reference: step * round(clip(x / step, 0, levels)), written with
// the C library's rounding (ties to even in the default mode).
float Reference(float x, float step, float levels) {
  return step * std::nearbyint(std::min(std::max(x / step, 0.0f), levels));
}

// {2, 3, 5, 7}: no dimension a multiple of a vector width, so loops have tails;
// 3 channels padded to 16 in nChw16c.
const engine::Dims kDims = {2, 3, 5, 7};

TEST(FakeQuantActivationTest, ForwardMatchesTheScalarReferenceInPlainAndBlockedLayouts) {
  FakeQuantActivation act("act", /*bits=*/3, /*range=*/2.0f);
  const Tensor x = RandomPlain(kDims, 1, -1.0f, 3.0f);
  const std::vector<float> in = x.ToPlain();
  for (const Tensor& input : {x, InLayout(x, dnnl::memory::format_tag::nChw16c)}) {
    const std::vector<float> y = act.Forward(input, Mode::kEval).ToPlain();
    ASSERT_EQ(y.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(y[i], Reference(in[i], 2.0f / 7, 7)) << i;
  }
}

TEST(FakeQuantActivationTest, BackwardPassesTheGradientInsideTheRangeInAnyLayout) {
  FakeQuantActivation act("act", 4, 1.5f);
  const Tensor x = RandomPlain(kDims, 2, -1.0f, 2.5f);
  const std::vector<float> in = x.ToPlain();
  const Tensor dy = RandomPlain(kDims, 3);
  const std::vector<float> g = dy.ToPlain();
  for (const Tensor& input : {x, InLayout(x, dnnl::memory::format_tag::nChw16c)}) {
    act.Forward(input, Mode::kTrain);
    const std::vector<float> dx = act.Backward(dy).ToPlain();  // dy plain, x maybe blocked
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(dx[i], in[i] >= 0.0f && in[i] <= 1.5f ? g[i] : 0.0f) << i;
    }
  }
}

TEST(FakeQuantActivationTest, CalibrationRecordsTheExactMaxOverBatchesAndPassesThrough) {
  FakeQuantActivation act("act", 8);
  act.StartCalibration();
  const Tensor a = RandomPlain(kDims, 4, -1.0f, 1.0f);
  const Tensor b = RandomPlain({3, 3, 4, 4}, 5, -2.0f, 3.0f);
  EXPECT_EQ(act.Forward(a, Mode::kEval).ToPlain(), a.ToPlain());
  act.Forward(InLayout(b, dnnl::memory::format_tag::nChw16c), Mode::kEval);
  float expected = 0;
  for (const Tensor& t : {a, b}) {
    for (float v : t.ToPlain()) expected = std::max(expected, v);
  }
  EXPECT_EQ(act.observed_max(), expected);
  act.FinishCalibration();
  EXPECT_FALSE(act.calibrating());
  EXPECT_EQ(act.range(), expected);
  const std::vector<float> y = act.Forward(b, Mode::kEval).ToPlain();
  const std::vector<float> in = b.ToPlain();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(y[i], Reference(in[i], expected / 255, 255));
}

TEST(FakeQuantActivationTest, CalibrationKeepsStridedSamplesInLogicalOrder) {
  FakeQuantActivation act("act", 8);
  act.StartCalibration(0.0f, /*samples_per_batch=*/10);
  const Tensor b = RandomPlain({3, 3, 4, 4}, 6, -2.0f, 3.0f);  // 144 values: every 14th
  act.Forward(InLayout(b, dnnl::memory::format_tag::nChw16c), Mode::kEval);
  const std::vector<float> in = b.ToPlain();
  std::vector<float> expected;
  for (size_t i = 0; i < in.size(); i += 14) expected.push_back(in[i]);
  EXPECT_EQ(act.samples(), expected);
  act.StartCalibration();
  EXPECT_TRUE(act.samples().empty());
}

TEST(FakeQuantActivationTest, RunningMaxCalibrationIsTheReleasedMovingAverage) {
  // quant_module.py post_training_weight.update_range: the first batch's max,
  // then x_max = 0.1 * max + 0.9 * x_max per batch.
  FakeQuantActivation act("act", 4);
  act.StartCalibration(0.1f);
  double expected = 0;
  for (int batch = 0; batch < 4; ++batch) {
    const Tensor x = RandomPlain(kDims, 10 + batch, -1.0f, 1.0f + batch);
    float high = 0;
    for (float v : x.ToPlain()) high = std::max(high, v);
    expected = batch == 0 ? high : 0.1 * high + 0.9 * expected;
    act.Forward(x, Mode::kEval);
  }
  act.FinishCalibration();
  EXPECT_NEAR(act.range(), expected, 1e-6 * expected);
  EXPECT_THAT([&] { act.StartCalibration(1.5f); }, ThrowsInvalidArgument("momentum must be in [0, 1]"));
}

TEST(FakeQuantActivationTest, RejectsBadBitsRangesAndCalls) {
  EXPECT_THAT([] { FakeQuantActivation("a", 0); }, ThrowsInvalidArgument("must be in [2, 8], got 0"));
  EXPECT_THAT([] { FakeQuantActivation("a", 9); }, ThrowsInvalidArgument("must be in [2, 8], got 9"));
  EXPECT_THAT([] { PactActivation("a", 9); }, ThrowsInvalidArgument("must be in [2, 8], got 9"));
  EXPECT_THAT([] { LsqActivation("a", 0); }, ThrowsInvalidArgument("must be in [2, 8], got 0"));
  EXPECT_THAT([] { FakeQuantActivation("a", 4, -1.0f); },
              ThrowsInvalidArgument("'a': range must be > 0, got -1"));
  EXPECT_THAT([] { PactActivation("a", 4, -2.0f); }, ThrowsInvalidArgument("alpha must be > 0"));
  FakeQuantActivation act("act", 4);
  const Tensor x = RandomPlain(kDims, 6);
  EXPECT_THAT([&] { act.Forward(x, Mode::kEval); }, ThrowsInvalidArgument("no range"));
  EXPECT_THAT([&] { act.Backward(x); }, ThrowsInvalidArgument("needs a preceding Forward"));
  act.StartCalibration();
  act.Forward(RandomPlain(kDims, 6, -2.0f, -1.0f), Mode::kEval);
  EXPECT_THAT([&] { act.FinishCalibration(); }, ThrowsInvalidArgument("no positive activation"));
}

TEST(PactActivationTest, ForwardClipsAtAlphaAndQuantizes) {
  PactActivation act("pact", 4, /*initial_alpha=*/1.25f);
  ASSERT_EQ(act.alpha(), 1.25f);
  const Tensor x = RandomPlain(kDims, 7, -1.0f, 2.0f);
  const std::vector<float> in = x.ToPlain();
  const std::vector<float> y =
      act.Forward(InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kEval).ToPlain();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(y[i], Reference(in[i], 1.25f / 15, 15));
}

TEST(PactActivationTest, AlphaGradientIsTheSumAboveAlphaAndMatchesFiniteDifferences) {
  PactActivation act("pact", 3, 0.8f);
  engine::ParameterList params;
  act.CollectParameters(&params);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0]->name, "pact.alpha");
  EXPECT_EQ(params[0]->kind, engine::ParamKind::kActivationClip);
  // Values kept 0.05 away from alpha, so the clip is differentiable there.
  const Tensor x = engine::testing::DistinctPlain(kDims, 8, 0.01f);
  std::vector<float> in = x.ToPlain();
  for (float& v : in) v = std::fabs(v - 0.8f) < 0.05f ? v + 0.1f : v;
  x.CopyFromPlain(in);
  const Tensor dy = RandomPlain(kDims, 9);
  const std::vector<float> g = dy.ToPlain();
  act.Forward(InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kTrain);
  const std::vector<float> dx = act.Backward(dy).ToPlain();
  double closed_form = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] >= 0.8f) closed_form += g[i];
    EXPECT_EQ(dx[i], in[i] >= 0.0f && in[i] < 0.8f ? g[i] : 0.0f) << i;
  }
  EXPECT_NEAR(params[0]->grad.raw()[0], closed_form, 1e-4);
  // The STE takes quantization as the identity, so the gradient is that of
  // L(alpha) = sum(dy * clip(x, 0, alpha)), by central differences.
  auto loss = [&](double alpha) {
    double sum = 0;
    for (size_t i = 0; i < in.size(); ++i) sum += g[i] * std::min(std::max(double{in[i]}, 0.0), alpha);
    return sum;
  };
  const double eps = 1e-3;
  EXPECT_NEAR(params[0]->grad.raw()[0], (loss(0.8 + eps) - loss(0.8 - eps)) / (2 * eps), 1e-3);
}

TEST(LsqActivationTest, StepStartsFromTheFirstBatchAndQuantizes) {
  LsqActivation act("lsq", 4);
  engine::ParameterList params;
  act.CollectParameters(&params);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0]->name, "lsq.step");
  EXPECT_EQ(params[0]->kind, engine::ParamKind::kQuantStep);
  EXPECT_EQ(act.step(), 0.0f);
  const Tensor x = RandomPlain(kDims, 10, -0.5f, 2.0f);
  const std::vector<float> in = x.ToPlain();
  const std::vector<float> y =
      act.Forward(InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kTrain).ToPlain();
  double sum_abs = 0;
  for (float v : in) sum_abs += std::fabs(v);
  const double s = 2 * sum_abs / in.size() / std::sqrt(15.0);
  EXPECT_NEAR(act.step(), s, 1e-6 * s);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(y[i], Reference(in[i], act.step(), 15)) << i;
  // Later batches (and a step restored from a checkpoint) keep the step.
  act.Forward(RandomPlain(kDims, 11, 0.0f, 9.0f), Mode::kTrain);
  EXPECT_NEAR(act.step(), s, 1e-6 * s);
}

TEST(LsqActivationTest, GradientsFollowThePaperComputedByAScalarLoop) {
  for (int bits : {2, 4, 8}) {
    SCOPED_TRACE(bits);
    LsqActivation act("lsq", bits);
    engine::ParameterList params;
    act.CollectParameters(&params);
    params[0]->value.raw()[0] = 0.3f;
    const Tensor x = RandomPlain(kDims, 12, -1.0f, 0.3f * (1 << bits));
    const std::vector<float> in = x.ToPlain();
    const Tensor dy = RandomPlain(kDims, 13);
    const std::vector<float> g = dy.ToPlain();
    act.Forward(InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kTrain);
    const std::vector<float> dx = act.Backward(dy).ToPlain();
    const double qp = (1 << bits) - 1, s = 0.3f;
    double ds = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const double v = in[i] / s;
      const bool inside = v > 0 && v < qp;
      EXPECT_EQ(dx[i], inside ? g[i] : 0.0f) << i;
      ds += g[i] * (v <= 0 ? 0.0 : v >= qp ? qp : std::nearbyint(v) - v);
    }
    ds /= std::sqrt(3.0 * 5 * 7 * qp);  // N_F: features per example
    EXPECT_NEAR(params[0]->grad.raw()[0], ds, 1e-4 * (1 + std::fabs(ds)));
  }
}

TEST(LsqActivationTest, RejectsAnAllZeroFirstBatch) {
  LsqActivation act("lsq", 4);
  EXPECT_THAT([&] { act.Forward(engine::Tensor::Plain(kDims), Mode::kTrain); },
              ThrowsInvalidArgument("'lsq': the first batch is all zero"));
}

// Export marks the ReLU output it follows with the grid of its own eval-mode
// Forward: the graph reference then computes what the layer computes.
TEST(ActivationQuantizerTest, ExportSetsTheGridOfTheNodeItFollows) {
  FakeQuantActivation fixed("fixed", 3, 2.0f);
  PactActivation pact("pact", 4, 1.25f);
  LsqActivation lsq("lsq", 5);
  lsq.Forward(RandomPlain(kDims, 14, 0.0f, 3.0f), Mode::kTrain);  // sets the step
  const Tensor x = RandomPlain(kDims, 15, -1.0f, 3.0f);
  std::vector<float> relu_x = x.ToPlain();
  for (float& v : relu_x) v = std::max(v, 0.0f);
  Tensor relu_out = Tensor::Plain(kDims);
  relu_out.CopyFromPlain(relu_x);
  for (ActivationQuantizer* act : std::initializer_list<ActivationQuantizer*>{&fixed, &pact, &lsq}) {
    SCOPED_TRACE(act->name());
    engine::Graph graph;
    engine::Node relu;
    relu.kind = engine::NodeKind::kRelu;
    relu.name = "relu";
    relu.inputs = {graph.AddInput("input")};
    const int r = graph.AddNode(relu);
    EXPECT_EQ(act->Export(&graph, r), r);
    ASSERT_TRUE(graph.node(r).output_grid.has_value());
    EXPECT_EQ(graph.node(r).output_grid->step, act->InferenceGrid().step);
    EXPECT_EQ(graph.node(r).output_grid->min_level, 0.0f);
    EXPECT_EQ(graph.node(r).output_grid->max_level, act->max_level());
    EXPECT_EQ(engine::reference::RunGraphReference(graph, {kDims, x.ToPlain()}).values,
              act->Forward(relu_out, Mode::kEval).ToPlain());
    EXPECT_THAT([&] { act->Export(&graph, r); }, ThrowsInvalidArgument("is already quantized"));
  }
}

TEST(ActivationQuantizerTest, ExportNeedsAGrid) {
  engine::Graph graph;
  const int input = graph.AddInput("input");
  EXPECT_THAT([&] { FakeQuantActivation("act", 4).Export(&graph, input); },
              ThrowsInvalidArgument("'act': no range"));
  EXPECT_THAT([&] { LsqActivation("lsq", 4).Export(&graph, input); },
              ThrowsInvalidArgument("a step of 0 is set by the first training batch"));
}

}  // namespace
}  // namespace psg::quant
