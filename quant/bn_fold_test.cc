#include "quant/bn_fold.h"

#include <algorithm>
#include <cmath>

#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/pooling.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/zoo.h"

namespace psg::quant {
namespace {

using engine::Graph;
using engine::NodeKind;

TEST(BnFoldTest, FoldedResNet20MatchesEvalForward) {
  auto model = models::BuildModel({.name = "resnet20"});
  models::InitializeParameters(*model, 11);
  engine::reference::RandomizeBatchNorm(*model, 12);
  Graph graph;
  model->Export(&graph, graph.AddInput("input"));
  const Graph folded = FoldBatchNorm(graph);
  EXPECT_EQ(folded.Count(NodeKind::kBatchNorm), 0);
  EXPECT_EQ(folded.size(), graph.size() - 21);
  EXPECT_THAT(folded.ToString(), ::testing::HasSubstr("2 conv layer1.0.conv1 <- 1 [16->16 k3 s1 p1 bias] +relu"));
  // The model's parameters are untouched: folded tensors are new.
  EXPECT_NE(folded.node(1).weight.raw(), graph.node(1).weight.raw());

  const engine::Tensor x = engine::testing::RandomPlain({2, 3, 32, 32}, 13);
  const std::vector<float> want = model->Forward(x, engine::Mode::kEval).ToPlain();
  const auto got = engine::reference::RunGraphReference(folded, {x.dims(), x.ToPlain()});
  float scale = 0;
  for (float v : want) scale = std::max(scale, std::abs(v));
  ASSERT_EQ(got.values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.values[i], want[i], 2e-5f * scale) << i;
}

// A small conv -> BN (+ReLU) -> conv -> BN net whose BN outputs have grids as
// an activation quantizer's Export sets them.
Graph ConvBnConvBn(bool quantize_first_conv) {
  engine::Sequential net("net");
  net.Emplace<engine::Conv2d>("conv1", engine::Conv2dOptions{.in_channels = 3, .out_channels = 4});
  net.Emplace<engine::BatchNorm2d>("bn1", engine::BatchNormOptions{.channels = 4, .fuse_relu = true});
  net.Emplace<engine::Conv2d>("conv2", engine::Conv2dOptions{.in_channels = 4, .out_channels = 4});
  net.Emplace<engine::BatchNorm2d>("bn2", engine::BatchNormOptions{.channels = 4});
  Graph graph;
  net.Export(&graph, graph.AddInput("input"));
  if (quantize_first_conv) graph.mutable_node(1).output_grid = engine::GridPoint{0.25f, -7, 7};
  graph.mutable_node(2).output_grid = engine::GridPoint{0.5f, 0, 15};
  return graph;
}

TEST(BnFoldTest, TheBatchNormsOutputGridMovesToTheFoldedConvolution) {
  const Graph folded = FoldBatchNorm(ConvBnConvBn(false));
  ASSERT_EQ(folded.size(), 3);
  ASSERT_TRUE(folded.node(1).output_grid.has_value());
  EXPECT_EQ(folded.node(1).output_grid->step, 0.5f);
  EXPECT_EQ(folded.node(1).output_grid->max_level, 15.0f);
  EXPECT_TRUE(folded.node(1).relu);
  EXPECT_FALSE(folded.node(2).output_grid.has_value());
}

TEST(BnFoldTest, KeepsABatchNormWhoseConvolutionOutputIsQuantized) {
  const Graph graph = ConvBnConvBn(true);
  const Graph folded = FoldBatchNorm(graph);
  ASSERT_EQ(folded.size(), 4);  // input, conv1, bn1 kept; conv2 + bn2 folded
  EXPECT_EQ(folded.node(2).kind, NodeKind::kBatchNorm);
  EXPECT_EQ(folded.node(1).output_grid->step, 0.25f);
  EXPECT_EQ(folded.node(2).output_grid->step, 0.5f);
}

TEST(BnFoldTest, KeepsBatchNormNotAfterAConvolution) {
  engine::Sequential net("net");
  net.Emplace<engine::Pool2d>("pool", engine::PoolOptions{});
  net.Emplace<engine::BatchNorm2d>("bn", engine::BatchNormOptions{.channels = 3});
  Graph graph;
  net.Export(&graph, graph.AddInput("input"));
  const Graph folded = FoldBatchNorm(graph);
  EXPECT_EQ(folded.ToString(), graph.ToString());
}

}  // namespace
}  // namespace psg::quant
