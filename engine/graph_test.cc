#include "engine/graph.h"

#include <cmath>

#include "engine/add.h"
#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/relu.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<NodeKind> Kinds(const Graph& g) {
  std::vector<NodeKind> kinds;
  for (const Node& n : g.nodes()) kinds.push_back(n.kind);
  return kinds;
}

std::unique_ptr<Sequential> SmallNet() {
  auto net = std::make_unique<Sequential>("net");
  net->Emplace<Conv2d>("conv1", Conv2dOptions{.in_channels = 3, .out_channels = 8, .kernel = 3,
                                              .stride = 1, .padding = 1, .bias = true});
  net->Emplace<BatchNorm2d>("bn1", BatchNormOptions{.channels = 8, .fuse_relu = true});
  net->Emplace<Pool2d>("pool", PoolOptions{PoolKind::kMax, 2, 2, 0});
  net->Emplace<Conv2d>("conv2", Conv2dOptions{.in_channels = 8, .out_channels = 8, .kernel = 3,
                                              .stride = 2, .padding = 1, .groups = 2});
  net->Emplace<Relu>("relu");
  net->Emplace<Pool2d>("gap", PoolOptions{PoolKind::kGlobalAverage});
  net->Emplace<Linear>("fc", LinearOptions{8, 5, true});
  return net;
}

TEST(GraphTest, ExportsLayersInOrderWithAttributes) {
  auto net = SmallNet();
  Graph g;
  const int out = net->Export(&g, g.AddInput("input"));
  EXPECT_EQ(out, g.output());
  EXPECT_THAT(Kinds(g), ElementsAre(NodeKind::kInput, NodeKind::kConv, NodeKind::kBatchNorm,
                                    NodeKind::kPool, NodeKind::kConv, NodeKind::kRelu,
                                    NodeKind::kPool, NodeKind::kLinear));
  const Node& conv2 = g.node(4);
  EXPECT_EQ(conv2.name, "conv2");
  EXPECT_THAT(conv2.inputs, ElementsAre(3));
  EXPECT_EQ(conv2.stride, 2);
  EXPECT_EQ(conv2.groups, 2);
  EXPECT_TRUE(conv2.bias.empty());
  EXPECT_FALSE(g.node(1).bias.empty());
  EXPECT_TRUE(g.node(2).relu);
  EXPECT_EQ(g.node(2).epsilon, 1e-5f);
  EXPECT_EQ(g.node(6).pool.kind, PoolKind::kGlobalAverage);
  // Handles share the layer's buffers.
  ParameterList params;
  net->CollectParameters(&params);
  EXPECT_EQ(g.node(1).weight.raw(), params[0]->value.raw());
  EXPECT_THAT(g.Consumers(3), ElementsAre(4));
  EXPECT_THAT(g.ToString(), HasSubstr("4 conv conv2 <- 3 [8->8 k3 s2 p1 g2]"));
}

TEST(GraphTest, ReferenceExecutorMatchesEvalForward) {
  auto net = SmallNet();
  testing::RandomizeParameters(*net, 7);
  reference::RandomizeBatchNorm(*net, 8);
  Graph g;
  net->Export(&g, g.AddInput("input"));
  const Tensor x = testing::RandomPlain({2, 3, 12, 12}, 3);
  const std::vector<float> want = net->Forward(x, Mode::kEval).ToPlain();
  const reference::PlainValues got = reference::RunGraphReference(g, {x.dims(), x.ToPlain()});
  EXPECT_EQ(got.dims, (Dims{2, 5}));
  ASSERT_EQ(got.values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.values[i], want[i], 1e-4f) << i;
}

TEST(GraphTest, AddExportsBothInputs) {
  Graph g;
  const int a = g.AddInput("a");
  Relu relu("relu");
  const int b = relu.Export(&g, a);
  Add add("join", /*relu=*/true);
  const int out = add.Export(&g, b, a);
  EXPECT_THAT(g.node(out).inputs, ElementsAre(b, a));
  EXPECT_TRUE(g.node(out).relu);
  EXPECT_THAT(g.Consumers(a), ElementsAre(b, out));
}

class Opaque : public Layer {
 public:
  Opaque() : Layer("opaque") {}
  const Tensor& Forward(const Tensor& x, Mode) override { return x; }
  const Tensor& Backward(const Tensor& dy) override { return dy; }
};

TEST(GraphTest, LayerWithoutExportThrowsNamingIt) {
  Graph g;
  Opaque layer;
  EXPECT_THAT([&] { layer.Export(&g, g.AddInput("x")); },
              ThrowsInvalidArgument("layer 'opaque' cannot be exported"));
}

TEST(GraphTest, RejectsInputsThatAreNotEarlierNodes) {
  Graph g;
  Node n;
  n.kind = NodeKind::kRelu;
  n.name = "r";
  n.inputs = {0};
  EXPECT_THAT([&] { g.AddNode(n); }, ThrowsInvalidArgument("not an earlier node"));
  g.AddInput("x");
  n.inputs = {0, 0};
  EXPECT_THAT([&] { g.AddNode(n); }, ThrowsInvalidArgument("needs 1 inputs, got 2"));
  EXPECT_THAT([] { Graph().output(); }, ThrowsInvalidArgument("empty graph"));
}

}  // namespace
}  // namespace psg::engine
