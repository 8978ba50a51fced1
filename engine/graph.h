// Graph: an inference description of a network, exported from its layers, for
// transformations (batch-norm folding) and other executors (the int8 network
// of quant/). Nodes are in topological order; each names its inputs by node id
// and holds handles to its parameter tensors (the layer's own buffers, not
// copies: read-only by contract, valid while the model lives) and its
// attributes.
//
//   Graph graph;
//   int out = model.Export(&graph, graph.AddInput("input"));
//   for (const Node& node : graph.nodes()) Visit(node.kind, node.name, node.inputs);
//
// A layer that cannot be exported throws std::invalid_argument naming it.
// An activation quantizer (quant/activation_quant.h) adds no node: it sets
// the output_grid of the node it follows, whose consumers then read the
// quantized value.
#ifndef PSG_ENGINE_GRAPH_H_
#define PSG_ENGINE_GRAPH_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/pool_options.h"
#include "engine/grid_point.h"
#include "engine/tensor.h"

namespace psg::engine {

enum class NodeKind {
  kInput,
  kConv,             // weight {O, I/groups, K, K}, optional bias {O}; fused relu after folding
  kBatchNorm,        // eval statistics; relu: fused ReLU
  kRelu,
  kPool,             // pool: kind and geometry
  kLinear,           // weight {O, I}, optional bias {O}; a 4-D input is flattened in NCHW order
  kAdd,              // inputs[0] + inputs[1]; relu: fused ReLU
  kZeroPadShortcut,  // x[:, :, ::stride, ::stride] with (out - in) / 2 zero channels each side
};

const char* NodeKindName(NodeKind kind);

struct Node {
  NodeKind kind = NodeKind::kInput;
  std::string name;
  std::vector<int> inputs;

  // Parameters: handles sharing the layer's buffers (empty when absent).
  Tensor weight, bias;                    // kConv, kLinear
  Tensor gamma, beta, mean, var;          // kBatchNorm
  float epsilon = 0.0f;                   // kBatchNorm

  // Attributes.
  int64_t in_channels = 0, out_channels = 0;  // kConv, kLinear (features), kBatchNorm, kZeroPadShortcut
  int64_t kernel = 0, stride = 1, padding = 0, groups = 1;  // kConv; stride also kZeroPadShortcut
  PoolOptions pool;                       // kPool
  bool relu = false;                      // kConv, kBatchNorm, kAdd: ReLU fused after the op
  // Any kind: every consumer reads output_grid(y) instead of the output y
  // (after the fused ReLU), as set by an activation quantizer's Export.
  // Executors that compute activations in floating point ignore it.
  std::optional<GridPoint> output_grid;
};

class Graph {
 public:
  // Adds an input node and returns its id.
  int AddInput(std::string name);
  // Adds `node` (its inputs must be earlier nodes) and returns its id.
  int AddNode(Node node);

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(int id) const;
  Node& mutable_node(int id);
  int size() const { return static_cast<int>(nodes_.size()); }
  // The last node: the network's output.
  int output() const;
  // How many nodes are of `kind`.
  int Count(NodeKind kind) const;
  // Ids of the nodes that read node `id`, in order.
  std::vector<int> Consumers(int id) const;

  // One line per node ("3 conv layer1.0.conv1 <- 2 [k3 s1 p1 relu]"), for tests and logs.
  std::string ToString() const;

 private:
  std::vector<Node> nodes_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_GRAPH_H_
