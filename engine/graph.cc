#include "engine/graph.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/check.h"

namespace psg::engine {

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kInput: return "input";
    case NodeKind::kConv: return "conv";
    case NodeKind::kBatchNorm: return "batch_norm";
    case NodeKind::kRelu: return "relu";
    case NodeKind::kPool: return "pool";
    case NodeKind::kLinear: return "linear";
    case NodeKind::kAdd: return "add";
    case NodeKind::kZeroPadShortcut: return "zero_pad_shortcut";
  }
  return "?";
}

int Graph::AddInput(std::string name) {
  Node node;
  node.kind = NodeKind::kInput;
  node.name = std::move(name);
  return AddNode(std::move(node));
}

int Graph::AddNode(Node node) {
  const size_t expected = node.kind == NodeKind::kInput ? 0 : node.kind == NodeKind::kAdd ? 2 : 1;
  PSG_CHECK(node.inputs.size() == expected, "Graph: node '", node.name, "' (",
            NodeKindName(node.kind), ") needs ", expected, " inputs, got ", node.inputs.size());
  for (int input : node.inputs) {
    PSG_CHECK(input >= 0 && input < size(), "Graph: node '", node.name, "' reads node ", input,
              ", which is not an earlier node (graph has ", size(), ")");
  }
  nodes_.push_back(std::move(node));
  return size() - 1;
}

const Node& Graph::node(int id) const {
  PSG_CHECK(id >= 0 && id < size(), "Graph: no node ", id, " (graph has ", size(), ")");
  return nodes_[id];
}

Node& Graph::mutable_node(int id) {
  PSG_CHECK(id >= 0 && id < size(), "Graph: no node ", id, " (graph has ", size(), ")");
  return nodes_[id];
}

int Graph::output() const {
  PSG_CHECK(!nodes_.empty(), "Graph: empty graph has no output");
  return size() - 1;
}

int Graph::Count(NodeKind kind) const {
  int n = 0;
  for (const Node& node : nodes_) n += node.kind == kind;
  return n;
}

std::vector<int> Graph::Consumers(int id) const {
  std::vector<int> out;
  for (int i = id + 1; i < size(); ++i) {
    for (int input : nodes_[i].inputs) {
      if (input == id) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

std::string Graph::ToString() const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    const Node& n = nodes_[i];
    absl::StrAppend(&out, i, " ", NodeKindName(n.kind), " ", n.name);
    if (!n.inputs.empty()) absl::StrAppend(&out, " <- ", absl::StrJoin(n.inputs, ","));
    if (n.kind == NodeKind::kConv) {
      absl::StrAppend(&out, " [", n.in_channels, "->", n.out_channels, " k", n.kernel, " s",
                      n.stride, " p", n.padding, n.groups > 1 ? absl::StrCat(" g", n.groups) : "",
                      n.bias.empty() ? "" : " bias", "]");
    }
    if (n.kind == NodeKind::kPool) {
      absl::StrAppend(&out, " [kind ", static_cast<int>(n.pool.kind), " k", n.pool.kernel, " s",
                      n.pool.stride, " p", n.pool.padding, "]");
    }
    if (n.relu) absl::StrAppend(&out, " +relu");
    if (n.output_grid) {
      absl::StrAppend(&out, " +quant[step ", n.output_grid->step, " levels ",
                      n.output_grid->min_level, "..", n.output_grid->max_level, "]");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace psg::engine
