// Layer::Export of the zoo's CIFAR ResNets: the node sequence, and an fp32
// scalar executor of the exported graph against the model's eval Forward.
#include <cmath>

#include "engine/graph.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/zoo.h"

namespace psg::models {
namespace {

using engine::Graph;
using engine::NodeKind;

TEST(ExportTest, ResNet20ProjectionNodeSequence) {
  auto model = BuildModel({.name = "resnet20"});
  Graph g;
  model->Export(&g, g.AddInput("input"));
  // input, conv1, bn1, 9 blocks of conv-bn-conv-bn-add, 2 projection
  // shortcuts of conv-bn, avgpool, fc.
  EXPECT_EQ(g.size(), 1 + 2 + 9 * 5 + 2 * 2 + 2);
  EXPECT_EQ(g.Count(NodeKind::kConv), 1 + 9 * 2 + 2);
  EXPECT_EQ(g.Count(NodeKind::kBatchNorm), 1 + 9 * 2 + 2);
  EXPECT_EQ(g.Count(NodeKind::kAdd), 9);
  const std::string text = g.ToString();
  EXPECT_THAT(text, ::testing::HasSubstr("1 conv conv1 <- 0 [3->16 k3 s1 p1]"));
  EXPECT_THAT(text, ::testing::HasSubstr("2 batch_norm bn1 <- 1 +relu"));
  // The first block: main path from bn1's output, the identity shortcut too.
  EXPECT_THAT(text, ::testing::HasSubstr("7 add layer1.0.add <- 6,2 +relu"));
  // layer2.0: conv1 (stride 2), bn1, conv2, bn2, shortcut conv + bn, add.
  EXPECT_THAT(text, ::testing::HasSubstr("18 conv layer2.0.conv1 <- 17 [16->32 k3 s2 p1]"));
  EXPECT_THAT(text, ::testing::HasSubstr("22 conv layer2.0.shortcut.0 <- 17 [16->32 k1 s2 p0]"));
  EXPECT_THAT(text, ::testing::HasSubstr("24 add layer2.0.add <- 21,23 +relu"));
  EXPECT_EQ(g.node(g.output()).kind, NodeKind::kLinear);
  EXPECT_EQ(g.node(g.output() - 1).pool.kind, engine::PoolKind::kGlobalAverage);
}

TEST(ExportTest, ResNet20ZeroPadNodeSequence) {
  auto model = BuildModel({.name = "resnet20", .shortcut = ShortcutKind::kZeroPad});
  Graph g;
  model->Export(&g, g.AddInput("input"));
  EXPECT_EQ(g.size(), 1 + 2 + 9 * 5 + 2 + 2);
  EXPECT_EQ(g.Count(NodeKind::kZeroPadShortcut), 2);
  EXPECT_THAT(g.ToString(), ::testing::HasSubstr("22 zero_pad_shortcut layer2.0.shortcut <- 17"));
}

class ExportForwardTest : public ::testing::TestWithParam<ShortcutKind> {};

TEST_P(ExportForwardTest, ReferenceExecutorMatchesEvalForward) {
  auto model = BuildModel({.name = "resnet20", .shortcut = GetParam()});
  InitializeParameters(*model, 3);
  engine::reference::RandomizeBatchNorm(*model, 4);
  Graph g;
  model->Export(&g, g.AddInput("input"));
  const engine::Tensor x = engine::testing::RandomPlain({2, 3, 32, 32}, 5);
  const std::vector<float> want = model->Forward(x, engine::Mode::kEval).ToPlain();
  const auto got = engine::reference::RunGraphReference(g, {x.dims(), x.ToPlain()});
  ASSERT_EQ(got.dims, (engine::Dims{2, 10}));
  float scale = 0;
  for (float v : want) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.values[i], want[i], 1e-4f * scale) << i;
}

INSTANTIATE_TEST_SUITE_P(Shortcuts, ExportForwardTest,
                         ::testing::Values(ShortcutKind::kProjection, ShortcutKind::kZeroPad));

}  // namespace
}  // namespace psg::models
