#include "quant/bn_fold.h"

#include <algorithm>
#include <cmath>

#include "engine/batch_norm.h"
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
