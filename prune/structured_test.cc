#include "prune/structured.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/testing/graph_reference.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::prune {
namespace {

using engine::Graph;
using engine::Node;
using engine::NodeKind;
using engine::Tensor;
using engine::reference::PlainValues;
using engine::reference::RunGraphReference;
using ::testing::ElementsAre;

// Builds small inference graphs with random parameters (the engine's graph
// directly: prune/ builds on the engine only).
class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed) : rng_(seed) { input_ = graph_.AddInput("input"); }

  int input() const { return input_; }
  Graph& graph() { return graph_; }

  int Conv(const std::string& name, int in, int64_t cin, int64_t cout, int64_t kernel,
           int64_t stride = 1) {
    Node n;
    n.kind = NodeKind::kConv;
    n.name = name;
    n.inputs = {in};
    n.weight = Random({cout, cin, kernel, kernel}, -0.5f, 0.5f);
    n.in_channels = cin;
    n.out_channels = cout;
    n.kernel = kernel;
    n.stride = stride;
    n.padding = kernel / 2;
    return graph_.AddNode(std::move(n));
  }
  int Bn(const std::string& name, int in, int64_t c, bool relu) {
    Node n;
    n.kind = NodeKind::kBatchNorm;
    n.name = name;
    n.inputs = {in};
    n.gamma = Random({c}, 0.5f, 1.5f);
    n.beta = Random({c}, -0.3f, 0.3f);  // some > 0: a zeroed filter alone still outputs ReLU(beta)
    n.mean = Random({c}, -0.2f, 0.2f);
    n.var = Random({c}, 0.5f, 2.0f);
    n.epsilon = 1e-5f;
    n.in_channels = n.out_channels = c;
    n.relu = relu;
    return graph_.AddNode(std::move(n));
  }
  int Add(const std::string& name, int a, int b) {
    Node n;
    n.kind = NodeKind::kAdd;
    n.name = name;
    n.inputs = {a, b};
    n.relu = true;
    return graph_.AddNode(std::move(n));
  }
  int ZeroPad(const std::string& name, int in, int64_t cin, int64_t cout, int64_t stride) {
    Node n;
    n.kind = NodeKind::kZeroPadShortcut;
    n.name = name;
    n.inputs = {in};
    n.in_channels = cin;
    n.out_channels = cout;
    n.stride = stride;
    return graph_.AddNode(std::move(n));
  }
  int Head(int in, int64_t features, int64_t classes) {
    Node pool;
    pool.kind = NodeKind::kPool;
    pool.name = "avgpool";
    pool.inputs = {in};
    pool.pool.kind = engine::PoolKind::kGlobalAverage;
    const int p = graph_.AddNode(std::move(pool));
    Node fc;
    fc.kind = NodeKind::kLinear;
    fc.name = "fc";
    fc.inputs = {p};
    fc.weight = Random({classes, features}, -0.5f, 0.5f);
    fc.bias = Random({classes}, -0.1f, 0.1f);
    fc.in_channels = features;
    fc.out_channels = classes;
    return graph_.AddNode(std::move(fc));
  }
  // A ResNet basic block: conv1-bn1(relu)-conv2-bn2, a shortcut, add(relu).
  // kind: "identity", "projection" or "zeropad".
  int Block(const std::string& name, int in, int64_t cin, int64_t cout, int64_t stride,
            const std::string& kind) {
    int h = Bn(name + ".bn1", Conv(name + ".conv1", in, cin, cout, 3, stride), cout, true);
    h = Bn(name + ".bn2", Conv(name + ".conv2", h, cout, cout, 3), cout, false);
    int shortcut = in;
    if (kind == "projection") {
      shortcut = Bn(name + ".shortcut.1", Conv(name + ".shortcut.0", in, cin, cout, 1, stride), cout,
                    false);
    } else if (kind == "zeropad") {
      shortcut = ZeroPad(name + ".shortcut", in, cin, cout, stride);
    }
    return Add(name + ".add", h, shortcut);
  }

  Tensor Random(const engine::Dims& dims, float lo, float hi) {
    Tensor t = Tensor::Plain(dims);
    std::uniform_real_distribution<float> u(lo, hi);
    for (float& v : t.flat()) v = u(rng_);
    return t;
  }

 private:
  std::mt19937 rng_;
  Graph graph_;
  int input_ = 0;
};

// A small CIFAR-style ResNet: stem, an identity block, a projection block
// (stride 2) and a zero-pad block (stride 2), then pooling and a classifier.
Graph SmallResNet(uint32_t seed) {
  GraphBuilder b(seed);
  int h = b.Bn("bn1", b.Conv("conv1", b.input(), 3, 8, 3), 8, true);
  h = b.Block("layer1.0", h, 8, 8, 1, "identity");
  h = b.Block("layer2.0", h, 8, 12, 2, "projection");
  h = b.Block("layer3.0", h, 12, 16, 2, "zeropad");
  b.Head(h, 16, 5);
  return std::move(b.graph());
}

PlainValues RandomImages(int64_t n, uint32_t seed) {
  PlainValues x{{n, 3, 8, 8}, std::vector<float>(n * 3 * 8 * 8)};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : x.values) v = u(rng);
  return x;
}

const Node& NodeNamed(const Graph& graph, const std::string& name) {
  for (const Node& node : graph.nodes()) {
    if (node.name == name) return node;
  }
  throw std::invalid_argument("no node " + name);
}

TEST(StructuredTest, PrunesExactlyTheBlocksInternalChannels) {
  const Graph graph = SmallResNet(1);
  const StructuredPlan plan = PlanFilterPruning(graph, {.ratio = 0.5});
  ASSERT_EQ(plan.groups.size(), 3u);
  const FilterGroup& g = plan.groups[1];
  EXPECT_EQ(g.block, "layer2.0");
  EXPECT_EQ(g.conv, "layer2.0.conv1");
  EXPECT_THAT(g.channel_ops, ElementsAre("layer2.0.bn1"));
  EXPECT_THAT(g.consumers, ElementsAre("layer2.0.conv2"));
  EXPECT_EQ(g.channels, 12);
  EXPECT_EQ(g.kept.size(), 6u);
  EXPECT_EQ(plan.Widths(), (std::map<std::string, int64_t>{
                               {"layer1.0", 4}, {"layer2.0", 6}, {"layer3.0", 8}}));
  EXPECT_EQ(plan.RemovedChannels(), 4 + 6 + 8);

  // Kept counts rounded up to a multiple of 8, at most the full width.
  const StructuredPlan rounded = PlanFilterPruning(graph, {.ratio = 0.5, .channel_multiple = 8});
  EXPECT_EQ(rounded.Widths(), (std::map<std::string, int64_t>{
                                  {"layer1.0", 8}, {"layer2.0", 8}, {"layer3.0", 8}}));
  const StructuredPlan capped = PlanFilterPruning(graph, {.ratio = 0.25, .channel_multiple = 16});
  EXPECT_EQ(capped.Widths(), (std::map<std::string, int64_t>{
                                 {"layer1.0", 8}, {"layer2.0", 12}, {"layer3.0", 16}}));
  EXPECT_EQ(capped.RemovedChannels(), 0);
}

// Residual consistency: every channel that reaches an Add (the stem, each
// block's conv2 and projection) keeps its width, so both inputs of every Add
// keep the channel count they had.
TEST(StructuredTest, NoResidualStreamChannelIsRemoved) {
  const Graph graph = SmallResNet(2);
  const StructuredPlan plan = PlanFilterPruning(graph, {.ratio = 0.75});
  for (const FilterGroup& g : plan.groups) {
    EXPECT_THAT(g.conv, ::testing::EndsWith(".conv1")) << g.conv;
    EXPECT_NE(g.conv, "conv1");
  }
  const Graph pruned = ApplyPlan(graph, plan);
  ASSERT_EQ(pruned.size(), graph.size());
  for (int id = 0; id < graph.size(); ++id) {
    const Node& before = graph.node(id);
    const Node& after = pruned.node(id);
    EXPECT_EQ(after.name, before.name);
    if (before.kind != NodeKind::kAdd) continue;
    for (int input : before.inputs) {
      const Node& producer = graph.node(input);
      EXPECT_EQ(pruned.node(input).out_channels, producer.out_channels) << producer.name;
    }
  }
  EXPECT_EQ(NodeNamed(pruned, "layer2.0.conv2").in_channels, 3);  // 12 - floor(0.75 * 12)
  EXPECT_EQ(NodeNamed(pruned, "layer2.0.conv2").out_channels, 12);
  EXPECT_EQ(NodeNamed(pruned, "layer2.0.shortcut.0").weight.dims(), (engine::Dims{12, 8, 1, 1}));
}

// Kept channels are the top-k by L1 norm, ties to the lower index, against a
// brute-force reference over every group and several ratios.
TEST(StructuredTest, KeptChannelsAreTheTopKByL1Norm) {
  Graph graph = SmallResNet(3);
  // Ties in layer3.0.conv1: filters 5 and 9 copies of filter 2.
  for (int id = 0; id < graph.size(); ++id) {
    if (graph.node(id).name != "layer3.0.conv1") continue;
    const absl::Span<float> w = graph.mutable_node(id).weight.flat();
    const int64_t row = w.size() / graph.node(id).out_channels;
    for (int64_t o : {5, 9}) std::copy_n(w.data() + 2 * row, row, w.data() + o * row);
  }
  for (double ratio : {0.0, 0.25, 0.3, 0.5, 0.9}) {
    const StructuredPlan plan = PlanFilterPruning(graph, {.ratio = ratio});
    for (const FilterGroup& g : plan.groups) {
      const std::vector<float> w = NodeNamed(graph, g.conv).weight.ToPlain();
      const int64_t row = static_cast<int64_t>(w.size()) / g.channels;
      std::vector<double> norms(g.channels, 0.0);
      for (int64_t o = 0; o < g.channels; ++o) {
        for (int64_t i = 0; i < row; ++i) norms[o] += std::fabs(w[o * row + i]);
      }
      const int64_t keep = g.channels - static_cast<int64_t>(std::floor(ratio * g.channels + 1e-9));
      // Brute force: channel c is kept iff fewer than `keep` channels beat it
      // (a larger norm, or an equal norm at a lower index).
      std::vector<int64_t> expected;
      for (int64_t c = 0; c < g.channels; ++c) {
        int64_t better = 0;
        for (int64_t d = 0; d < g.channels; ++d) {
          better += norms[d] > norms[c] || (norms[d] == norms[c] && d < c);
        }
        if (better < keep) expected.push_back(c);
      }
      EXPECT_EQ(g.kept, expected) << g.conv << " at ratio " << ratio;
      EXPECT_EQ(g.l1_norms, norms);
    }
  }
}

// The pruned (sliced) network computes exactly what the dense network with
// the removed channels zeroed computes. Zeroing gamma and beta matters: with
// only the filter zeroed, BN would still output beta and ReLU(beta) > 0 for
// some channels here (the builder draws beta in [-0.3, 0.3]).
TEST(StructuredTest, PrunedNetworkMatchesTheMaskedDenseOne) {
  for (double ratio : {0.25, 0.5, 0.7}) {
    const Graph dense = SmallResNet(4);
    const StructuredPlan plan = PlanFilterPruning(dense, {.ratio = ratio, .skip = {"layer2.0"}});
    const Graph pruned = ApplyPlan(dense, plan);  // sliced before the dense graph is masked
    ZeroRemovedChannels(dense, plan);
    const PlainValues x = RandomImages(3, 7);
    const PlainValues want = RunGraphReference(dense, x);
    const PlainValues got = RunGraphReference(pruned, x);
    ASSERT_EQ(got.dims, want.dims);
    for (size_t i = 0; i < want.values.size(); ++i) {
      EXPECT_NEAR(got.values[i], want.values[i], 1e-5f * (1 + std::fabs(want.values[i])))
          << "ratio " << ratio << ", logit " << i;
    }
    EXPECT_TRUE(plan.groups[1].skipped);
    EXPECT_EQ(NodeNamed(pruned, "layer2.0.conv1").weight.dims(), (engine::Dims{12, 8, 3, 3}));
  }
}

// Masking only the filters (not BN's gamma and beta) leaves a difference:
// the reason ZeroRemovedChannels zeroes both.
TEST(StructuredTest, ZeroingTheFilterAloneIsNotEnough) {
  Graph dense = SmallResNet(5);
  const StructuredPlan plan = PlanFilterPruning(dense, {.ratio = 0.5});
  const Graph pruned = ApplyPlan(dense, plan);
  Graph filters_only = SmallResNet(5);
  for (const FilterGroup& g : plan.groups) {
    const Node& conv = NodeNamed(filters_only, g.conv);
    const absl::Span<float> w = conv.weight.flat();
    const int64_t row = w.size() / g.channels;
    for (int64_t c = 0; c < g.channels; ++c) {
      if (!std::binary_search(g.kept.begin(), g.kept.end(), c)) {
        std::fill_n(w.data() + c * row, row, 0.0f);
      }
    }
  }
  const PlainValues x = RandomImages(2, 8);
  const PlainValues a = RunGraphReference(filters_only, x);
  const PlainValues b = RunGraphReference(pruned, x);
  double diff = 0;
  for (size_t i = 0; i < a.values.size(); ++i) diff = std::max(diff, double{std::fabs(a.values[i] - b.values[i])});
  EXPECT_GT(diff, 1e-3);
}

TEST(StructuredTest, SlicedParametersByNameAndCost) {
  const Graph dense = SmallResNet(6);
  const StructuredPlan plan = PlanFilterPruning(dense, {.ratio = 0.5});
  const Graph pruned = ApplyPlan(dense, plan);
  const std::map<std::string, Tensor> params = ParametersByName(pruned);
  EXPECT_EQ(params.at("layer1.0.conv1.weight").dims(), (engine::Dims{4, 8, 3, 3}));
  EXPECT_EQ(params.at("layer1.0.bn1.weight").dims(), (engine::Dims{4}));
  EXPECT_EQ(params.at("layer1.0.bn1.running_var").dims(), (engine::Dims{4}));
  EXPECT_EQ(params.at("layer1.0.conv2.weight").dims(), (engine::Dims{8, 4, 3, 3}));
  EXPECT_EQ(params.at("fc.bias").dims(), (engine::Dims{5}));
  // Row 0 of the sliced conv1 is the dense filter kept first.
  const int64_t first = plan.groups[0].kept[0];
  const std::vector<float> dense_w = NodeNamed(dense, "layer1.0.conv1").weight.ToPlain();
  const std::vector<float> sliced_w = params.at("layer1.0.conv1.weight").ToPlain();
  EXPECT_TRUE(std::equal(sliced_w.begin(), sliced_w.begin() + 72, dense_w.begin() + first * 72));

  // Stem 3->8 at 8x8, identity block 8->8, and the classifier: by hand.
  GraphBuilder b(1);
  const int h = b.Bn("bn1", b.Conv("conv1", b.input(), 3, 8, 3), 8, true);
  b.Head(b.Block("layer1.0", h, 8, 8, 1, "identity"), 8, 5);
  const GraphCost cost = CountCost(b.graph(), {3, 8, 8});
  EXPECT_EQ(cost.parameters, 8 * 27 + 16 + 2 * (8 * 72 + 16) + 8 * 5 + 5);
  EXPECT_EQ(cost.multiply_adds, 64 * (8 * 27 + 2 * 8 * 72) + 8 * 5);
  const GraphCost small = CountCost(ApplyPlan(b.graph(), PlanFilterPruning(b.graph(), {.ratio = 0.5})),
                                    {3, 8, 8});
  EXPECT_EQ(small.multiply_adds, 64 * (8 * 27 + 2 * 4 * 72) + 8 * 5);
  EXPECT_EQ(small.parameters, 8 * 27 + 16 + 2 * (4 * 72) + 8 + 16 + 8 * 5 + 5);
}

TEST(StructuredTest, CopyParametersChecksNamesAndDims) {
  engine::Parameter p = engine::Parameter::Trainable("a.weight", engine::ParamKind::kConvWeight, {2, 1, 1, 1});
  Tensor t = Tensor::Plain({2, 1, 1, 1});
  t.flat()[1] = 3.0f;
  CopyParameters({{"a.weight", t}}, {&p});
  EXPECT_EQ(p.value.flat()[1], 3.0f);
  EXPECT_THAT([&] { CopyParameters({}, {&p}); }, ThrowsInvalidArgument("no source tensor for parameter 'a.weight'"));
  EXPECT_THAT([&] { CopyParameters({{"a.weight", Tensor::Plain({3})}}, {&p}); },
              ThrowsInvalidArgument("'a.weight' is"));
}

TEST(StructuredTest, BadRequestsAreRejectedClearly) {
  const Graph graph = SmallResNet(7);
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = -0.1}); },
              ThrowsInvalidArgument("ratio must be in [0, 1), got -0.1"));
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = 1.0}); },
              ThrowsInvalidArgument("ratio must be in [0, 1), got 1"));
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = 0.5, .channel_multiple = 0}); },
              ThrowsInvalidArgument("channel_multiple must be >= 1, got 0"));
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = 0.5, .skip = {"layer9.0"}}); },
              ThrowsInvalidArgument(
                  "skip name 'layer9.0' names no prunable block or convolution; prunable: "
                  "layer1.0, layer2.0, layer3.0"));
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = 0.5, .skip = {"layer1.0.conv2"}}); },
              ThrowsInvalidArgument("cannot skip 'layer1.0.conv2': it is not prunable (its "
                                    "channels reach add 'layer1.0.add' (a residual stream)"));
  EXPECT_THAT([&] { PlanFilterPruning(graph, {.ratio = 0.5, .skip = {"conv1"}}); },
              ThrowsInvalidArgument("cannot skip 'conv1'"));
  StructuredPlan plan = PlanFilterPruning(graph, {.ratio = 0.5});
  plan.groups[0].kept = {3, 1};
  EXPECT_THAT([&] { ApplyPlan(graph, plan); }, ThrowsInvalidArgument("ascending"));
  plan.groups[0].kept = {};
  EXPECT_THAT([&] { ZeroRemovedChannels(graph, plan); }, ThrowsInvalidArgument("non-empty"));
}

}  // namespace
}  // namespace psg::prune
