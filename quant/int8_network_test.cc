// The int8 network against the fake-quant simulation of the same scheme.
//
// Tolerance: the two agree up to the rounding of the activations. The int8
// network accumulates exact int32 sums; the simulation sums the same products
// of grid values in fp32 (relative error ~1e-6) and divides by the step
// again, so where the exact value lies within that error of a rounding tie
// (k + 0.5 steps) the two may pick neighbouring levels; average pooling's
// ties likewise. Such a one-level difference in an activation moves the
// logits by about step * |w| of the layers after it; a tie in a global
// average pooling channel moves all logits of its image. So: all logits agree
// to 2 % of the logit range (measured: 3e-7 and 0.5 %), at least half to 1e-4
// of it (measured: all, and 81 %), and the predicted classes agree.
#include "quant/int8_network.h"

#include <algorithm>
#include <cmath>

#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/precision.h"
#include "engine/relu.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/basic_block.h"
#include "models/zoo.h"
#include "quant/bn_fold.h"

namespace psg::quant {
namespace {

using engine::Dims;
using engine::Graph;
using engine::Tensor;

std::unique_ptr<engine::Sequential> ConvBnReluPoolLinear() {
  auto net = std::make_unique<engine::Sequential>("small");
  net->Emplace<engine::Conv2d>("conv1", engine::Conv2dOptions{.in_channels = 3, .out_channels = 8,
                                                               .kernel = 3, .padding = 1});
  net->Emplace<engine::BatchNorm2d>("bn1", engine::BatchNormOptions{.channels = 8});
  net->Emplace<engine::Relu>("relu1");
  net->Emplace<engine::Pool2d>("pool", engine::PoolOptions{engine::PoolKind::kMax, 2, 2, 0});
  net->Emplace<engine::Linear>("fc", engine::LinearOptions{8 * 4 * 4, 10, true});
  return net;
}

std::unique_ptr<engine::Sequential> SmallResNet() {
  auto net = std::make_unique<engine::Sequential>("small_resnet");
  net->Emplace<engine::Conv2d>("conv1", engine::Conv2dOptions{.in_channels = 3, .out_channels = 16,
                                                               .kernel = 3, .padding = 1});
  net->Emplace<engine::BatchNorm2d>("bn1", engine::BatchNormOptions{.channels = 16, .fuse_relu = true});
  net->Emplace<models::BasicBlock>("layer1.0", models::BasicBlockOptions{16, 16, 1});
  net->Emplace<models::BasicBlock>("layer2.0", models::BasicBlockOptions{16, 32, 2});
  net->Emplace<engine::Pool2d>("avgpool", engine::PoolOptions{engine::PoolKind::kGlobalAverage});
  net->Emplace<engine::Linear>("fc", engine::LinearOptions{32, 10, true});
  return net;
}

struct Compared {
  double max_diff = 0, range = 0, fraction_close = 0, argmax_agree = 0, max_diff_fp32 = 0;
};

Compared Compare(engine::Layer& model, const Dims& sample) {
  Graph graph;
  model.Export(&graph, graph.AddInput("input"));
  const Graph folded = FoldBatchNorm(graph);
  Calibrator calibrator(folded);
  for (uint32_t seed : {21u, 22u}) {
    calibrator.Observe(engine::testing::RandomPlain({8, sample[0], sample[1], sample[2]}, seed));
  }
  FakeQuantNetwork sim(folded, calibrator.ranges());
  Int8Network net(folded, calibrator.ranges(), sample);
  const int64_t n = 16;
  const Tensor x = engine::testing::RandomPlain({n, sample[0], sample[1], sample[2]}, 23, -0.9f, 0.9f);
  const std::vector<float> want = sim.Forward(x).ToPlain();
  const std::vector<float> fp32 = model.Forward(x, engine::Mode::kEval).ToPlain();
  const float* got = net.Forward(x);
  // Twice, to exercise the reused primitives and buffers.
  got = net.Forward(x.raw(), n);
  const int64_t classes = net.num_classes();
  Compared c;
  for (float v : want) c.range = std::max<double>(c.range, std::abs(v));
  int64_t close = 0, agree = 0;
  for (int64_t i = 0; i < n * classes; ++i) {
    const double d = std::abs(got[i] - want[i]);
    c.max_diff = std::max(c.max_diff, d);
    c.max_diff_fp32 = std::max<double>(c.max_diff_fp32, std::abs(fp32[i] - want[i]));
    close += d <= 1e-4 * c.range;
  }
  for (int64_t i = 0; i < n; ++i) {
    const auto arg = [&](const float* p) { return std::max_element(p, p + classes) - p; };
    agree += arg(got + i * classes) == arg(want.data() + i * classes);
  }
  c.fraction_close = static_cast<double>(close) / (n * classes);
  c.argmax_agree = static_cast<double>(agree) / n;
  std::printf("max |int8 - sim| %.3g, |fp32 - sim| %.3g, logit range %.3g, close %.3f, argmax %.3f\n",
              c.max_diff, c.max_diff_fp32, c.range, c.fraction_close, c.argmax_agree);
  return c;
}

void ExpectClose(const Compared& c) {
  EXPECT_LE(c.max_diff, 0.02 * c.range);
  // Without VNNI oneDNN's sums are not exact (engine::Int8DotProductsExact);
  // measured on AVX2: 1.0 % and 1.7 % of the range, 3 % and 1 % close.
  if (engine::Int8DotProductsExact()) {
    EXPECT_GE(c.fraction_close, 0.5);
  } else {
    std::printf("no VNNI (oneDNN ISA %s): the 1e-4 agreement is not asserted\n",
                engine::EffectiveIsaName().c_str());
  }
  EXPECT_EQ(c.argmax_agree, 1.0);
  // The scheme itself is sane: the simulation stays near fp32.
  EXPECT_LE(c.max_diff_fp32, 0.15 * c.range);
}

TEST(Int8NetworkTest, ConvBnReluPoolLinearMatchesSimulation) {
  auto model = ConvBnReluPoolLinear();
  engine::testing::RandomizeParameters(*model, 1);
  engine::reference::RandomizeBatchNorm(*model, 2);
  ExpectClose(Compare(*model, {3, 8, 8}));
}

TEST(Int8NetworkTest, SmallResNetMatchesSimulation) {
  auto model = SmallResNet();
  models::InitializeParameters(*model, 3);
  engine::reference::RandomizeBatchNorm(*model, 4);
  ExpectClose(Compare(*model, {3, 16, 16}));
}

// The fused fp32 network computes the unfolded model in evaluation mode: BN
// folding and the fusions only reorder float operations (relative error
// ~1e-6 per layer), so the logits agree to 1e-4 of their range.
void ExpectFusedFp32MatchesModel(engine::Layer& model, const Dims& sample) {
  Graph graph;
  model.Export(&graph, graph.AddInput("input"));
  FusedFloatNetwork net(FoldBatchNorm(graph), sample);
  const int64_t n = 5;  // not a multiple of any vector width
  const Tensor x = engine::testing::RandomPlain({n, sample[0], sample[1], sample[2]}, 31);
  const std::vector<float> want = model.Forward(x, engine::Mode::kEval).ToPlain();
  net.Forward(x);
  const float* got = net.Forward(x.raw(), n);  // again: reused primitives and buffers
  ASSERT_EQ(static_cast<int64_t>(want.size()), n * net.num_classes());
  double range = 0;
  for (float v : want) range = std::max<double>(range, std::abs(v));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4 * range) << i;
}

TEST(FusedFloatNetworkTest, ConvBnReluPoolLinearMatchesTheModel) {
  auto model = ConvBnReluPoolLinear();
  engine::testing::RandomizeParameters(*model, 1);
  engine::reference::RandomizeBatchNorm(*model, 2);
  ExpectFusedFp32MatchesModel(*model, {3, 8, 8});
}

TEST(FusedFloatNetworkTest, ResNet20MatchesTheModel) {
  auto model = models::BuildModel({.name = "resnet20"});
  models::InitializeParameters(*model, 5);
  engine::reference::RandomizeBatchNorm(*model, 6);
  ExpectFusedFp32MatchesModel(*model, {3, 32, 32});
}

// The fused bf16 network against the unfolded fp32 model. It rounds each
// layer's folded weights and output to bf16 (relative error up to u = 2^-8
// each; Higham 3.1 for the sums, engine/testing/bf16.h), about 2u per layer,
// which compounds over ResNet-20's 21 weight layers into a few percent of the
// logits' size at worst: a relative L2 error of 1/16 = 6.25 % is the bound
// (a wrong layout or fusion gives 100 %).
TEST(FusedFloatNetworkTest, ResNet20MatchesTheFp32Model) {
  if (!engine::Bf16Supported()) {
    GTEST_SKIP() << "this CPU has no AVX512-BF16 (oneDNN's ISA: " << engine::EffectiveIsaName()
                 << ")";
  }
  auto model = models::BuildModel({.name = "resnet20"});
  models::InitializeParameters(*model, 5);
  engine::reference::RandomizeBatchNorm(*model, 6);
  Graph graph;
  model->Export(&graph, graph.AddInput("input"));
  FusedFloatNetwork net(FoldBatchNorm(graph), {3, 32, 32}, engine::Precision::kBf16);
  const int64_t n = 5;
  const Tensor x = engine::testing::RandomPlain({n, 3, 32, 32}, 31);
  const std::vector<float> want = model->Forward(x, engine::Mode::kEval).ToPlain();
  net.Forward(x);
  const float* got = net.Forward(x.raw(), n);
  ASSERT_EQ(static_cast<int64_t>(want.size()), n * net.num_classes());
  double diff2 = 0, norm2 = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff2 += (got[i] - want[i]) * double(got[i] - want[i]);
    norm2 += want[i] * double(want[i]);
  }
  std::printf("fused bf16 vs fp32 model: relative L2 error %.4f\n", std::sqrt(diff2 / norm2));
  EXPECT_LE(std::sqrt(diff2 / norm2), 1.0 / 16);
}

TEST(Int8NetworkTest, ResNet20PlanFusesReluAndAdds) {
  auto model = models::BuildModel({.name = "resnet20"});
  Graph graph;
  model->Export(&graph, graph.AddInput("input"));
  const Int8Plan plan = MakeInt8Plan(FoldBatchNorm(graph), nullptr);
  // 21 convolutions (ReLUs and adds fused), the global pooling, fc.
  ASSERT_EQ(plan.steps.size(), 23u);
  int sums = 0;
  for (const Int8Step& s : plan.steps) sums += s.sum != -2;
  EXPECT_EQ(sums, 9);
  // layer2.0: conv1, conv2 (s8 output), then the shortcut conv adds conv2's output.
  const Int8Step& shortcut = plan.steps[9];
  EXPECT_EQ(shortcut.sum, 8);
  EXPECT_TRUE(shortcut.relu);
  EXPECT_TRUE(plan.steps[8].output_signed);
  EXPECT_EQ(plan.steps.back().op, Int8Step::Op::kLinear);
}

TEST(Int8NetworkTest, RejectsUnfoldedBatchNorm) {
  auto model = ConvBnReluPoolLinear();
  Graph graph;
  model->Export(&graph, graph.AddInput("input"));
  EXPECT_THAT([&] { MakeInt8Plan(graph, nullptr); },
              ThrowsInvalidArgument("fold batch norms into their convolutions first"));
}

}  // namespace
}  // namespace psg::quant
