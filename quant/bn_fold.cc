#include "quant/bn_fold.h"

#include <cmath>
#include <vector>

#include "engine/check.h"

namespace psg::quant {

using engine::Graph;
using engine::Node;
using engine::NodeKind;

namespace {

// The folded copy of `conv` followed by `bn`, computed in double.
Node Fold(const Node& conv, const Node& bn) {
  PSG_CHECK(conv.out_channels == bn.in_channels, "FoldBatchNorm: '", bn.name, "' has ",
            bn.in_channels, " channels, its convolution '", conv.name, "' ", conv.out_channels);
  const std::vector<float> gamma = bn.gamma.ToPlain(), beta = bn.beta.ToPlain();
  const std::vector<float> mean = bn.mean.ToPlain(), var = bn.var.ToPlain();
  const std::vector<float> w = conv.weight.ToPlain();
  const std::vector<float> b = conv.bias.empty() ? std::vector<float>(conv.out_channels, 0.0f)
                                                 : conv.bias.ToPlain();
  Node out = conv;
  out.weight = engine::Tensor::Plain(conv.weight.dims());
  out.bias = engine::Tensor::Plain({conv.out_channels});
  float* wf = out.weight.raw();
  float* bf = out.bias.raw();
  const int64_t row = static_cast<int64_t>(w.size()) / conv.out_channels;
  for (int64_t o = 0; o < conv.out_channels; ++o) {
    const double g = gamma[o] / std::sqrt(static_cast<double>(var[o]) + bn.epsilon);
    for (int64_t i = o * row; i < (o + 1) * row; ++i) wf[i] = static_cast<float>(w[i] * g);
    bf[o] = static_cast<float>(beta[o] + (static_cast<double>(b[o]) - mean[o]) * g);
  }
  out.relu = conv.relu || bn.relu;
  out.output_grid = bn.output_grid;  // the BN's output is now the convolution's
  return out;
}

}  // namespace

Graph FoldBatchNorm(const Graph& graph) {
  Graph out;
  std::vector<int> new_id(graph.size(), -1);
  std::vector<bool> folded(graph.size(), false);  // conv folded into the next BN
  for (int i = 0; i < graph.size(); ++i) {
    const Node& node = graph.node(i);
    if (node.kind == NodeKind::kConv && !node.relu && !node.output_grid) {
      const std::vector<int> consumers = graph.Consumers(i);
      if (consumers.size() == 1 && graph.node(consumers[0]).kind == NodeKind::kBatchNorm) {
        folded[i] = true;  // emitted with its BN
        continue;
      }
    }
    Node copy = node;
    if (node.kind == NodeKind::kBatchNorm && folded[node.inputs[0]]) {
      copy = Fold(graph.node(node.inputs[0]), node);
      copy.inputs = graph.node(node.inputs[0]).inputs;
    }
    for (int& input : copy.inputs) input = new_id[input];
    new_id[i] = out.AddNode(std::move(copy));
  }
  return out;
}

}  // namespace psg::quant
