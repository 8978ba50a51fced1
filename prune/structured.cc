#include "prune/structured.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "absl/strings/str_join.h"
#include "engine/check.h"

namespace psg::prune {

using engine::Graph;
using engine::Node;
using engine::NodeKind;
using engine::Tensor;

namespace {

bool PerChannel(NodeKind kind) {
  return kind == NodeKind::kBatchNorm || kind == NodeKind::kRelu || kind == NodeKind::kPool;
}

bool PlainConv(const Node& node) { return node.kind == NodeKind::kConv && node.groups == 1; }

// The group rooted at convolution `id`, or the reason it is not prunable.
struct Traced {
  FilterGroup group;
  std::string not_prunable;  // empty when prunable
};

Traced Trace(const Graph& graph, int id) {
  Traced t;
  const Node& conv = graph.node(id);
  t.group.conv = conv.name;
  const size_t dot = conv.name.rfind('.');
  t.group.block = dot == std::string::npos ? conv.name : conv.name.substr(0, dot);
  t.group.channels = conv.out_channels;
  if (conv.groups != 1) {
    t.not_prunable = "it is a grouped convolution";
    return t;
  }
  std::vector<int> frontier = graph.Consumers(id);
  if (frontier.empty()) t.not_prunable = "it is the network's output";
  std::set<int> seen;
  while (!frontier.empty() && t.not_prunable.empty()) {
    const int next = frontier.back();
    frontier.pop_back();
    if (!seen.insert(next).second) continue;
    const Node& node = graph.node(next);
    if (PlainConv(node)) {
      t.group.consumers.push_back(node.name);
    } else if (PerChannel(node.kind)) {
      t.group.channel_ops.push_back(node.name);
      const std::vector<int> more = graph.Consumers(next);
      if (more.empty()) t.not_prunable = "its channels are the network's output";
      frontier.insert(frontier.end(), more.begin(), more.end());
    } else {
      t.not_prunable = absl::StrCat("its channels reach ", engine::NodeKindName(node.kind), " '",
                                    node.name, "'",
                                    node.kind == NodeKind::kAdd ? " (a residual stream)" : "");
    }
  }
  std::sort(t.group.consumers.begin(), t.group.consumers.end());
  std::sort(t.group.channel_ops.begin(), t.group.channel_ops.end());
  return t;
}

std::vector<double> FilterL1Norms(const Node& conv) {
  const std::vector<float> w = conv.weight.ToPlain();
  const int64_t row = static_cast<int64_t>(w.size()) / conv.out_channels;
  std::vector<double> norms(conv.out_channels, 0.0);
  for (int64_t o = 0; o < conv.out_channels; ++o) {
    for (int64_t i = o * row; i < (o + 1) * row; ++i) norms[o] += std::fabs(w[i]);
  }
  return norms;
}

// The `keep` largest norms' indices (ties: the lower index), ascending.
std::vector<int64_t> TopByNorm(const std::vector<double>& norms, int64_t keep) {
  std::vector<int64_t> order(norms.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return norms[a] > norms[b]; });
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

// A plain copy of `t` with its dimension `axis` (0 or 1) restricted to `kept`.
Tensor Slice(const Tensor& t, int axis, const std::vector<int64_t>& kept) {
  const std::vector<float> v = t.ToPlain();
  engine::Dims dims = t.dims();
  const int64_t outer = axis == 0 ? 1 : dims[0];
  const int64_t n = dims[axis];
  const int64_t inner = static_cast<int64_t>(v.size()) / (outer * n);
  dims[axis] = static_cast<int64_t>(kept.size());
  Tensor out = Tensor::Plain(dims);
  float* dst = out.flat().data();
  for (int64_t a = 0; a < outer; ++a) {
    for (int64_t k : kept) {
      const float* src = v.data() + (a * n + k) * inner;
      dst = std::copy(src, src + inner, dst);
    }
  }
  return out;
}

// The channel indices of [0, channels) not in `kept`.
std::vector<int64_t> Removed(const FilterGroup& g) {
  std::vector<int64_t> removed;
  size_t next = 0;
  for (int64_t c = 0; c < g.channels; ++c) {
    if (next < g.kept.size() && g.kept[next] == c) {
      ++next;
    } else {
      removed.push_back(c);
    }
  }
  return removed;
}

// Sets rows `removed` of dimension `axis` (0 or 1) of the plain tensor `t` to 0.
void ZeroSlices(const Tensor& t, int axis, const std::vector<int64_t>& removed) {
  if (t.empty()) return;
  const absl::Span<float> v = t.flat();
  const engine::Dims dims = t.dims();
  const int64_t outer = axis == 0 ? 1 : dims[0];
  const int64_t n = dims[axis];
  const int64_t inner = static_cast<int64_t>(v.size()) / (outer * n);
  for (int64_t a = 0; a < outer; ++a) {
    for (int64_t r : removed) {
      std::fill_n(v.data() + (a * n + r) * inner, inner, 0.0f);
    }
  }
}

// Per node name, the group whose channels it slices: as the pruned
// convolution (outputs), a per-channel node, or a consumer (inputs).
struct GroupIndex {
  std::map<std::string, const FilterGroup*> outputs, channel_ops, inputs;
};

GroupIndex Index(const Graph& graph, const StructuredPlan& plan) {
  std::map<std::string, const Node*> by_name;
  for (const Node& node : graph.nodes()) by_name[node.name] = &node;
  GroupIndex index;
  for (const FilterGroup& g : plan.groups) {
    const auto conv = by_name.find(g.conv);
    PSG_CHECK(conv != by_name.end() && conv->second->kind == NodeKind::kConv &&
                  conv->second->out_channels == g.channels,
              "structured plan: group '", g.conv, "' (", g.channels,
              " channels) is not a convolution of this graph");
    PSG_CHECK(!g.kept.empty() && std::is_sorted(g.kept.begin(), g.kept.end()) &&
                  std::adjacent_find(g.kept.begin(), g.kept.end()) == g.kept.end() &&
                  g.kept.front() >= 0 && g.kept.back() < g.channels,
              "structured plan: group '", g.conv,
              "' must keep a non-empty ascending set of channels in [0, ", g.channels, ")");
    index.outputs[g.conv] = &g;
    for (const std::string& name : g.channel_ops) index.channel_ops[name] = &g;
    for (const std::string& name : g.consumers) index.inputs[name] = &g;
  }
  return index;
}

const FilterGroup* Find(const std::map<std::string, const FilterGroup*>& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? nullptr : it->second;
}

}  // namespace

std::map<std::string, int64_t> StructuredPlan::Widths() const {
  std::map<std::string, int64_t> widths;
  for (const FilterGroup& g : groups) widths[g.block] = static_cast<int64_t>(g.kept.size());
  return widths;
}

int64_t StructuredPlan::RemovedChannels() const {
  int64_t removed = 0;
  for (const FilterGroup& g : groups) removed += g.channels - static_cast<int64_t>(g.kept.size());
  return removed;
}

StructuredPlan PlanFilterPruning(const Graph& graph, const FilterPruningOptions& options) {
  PSG_CHECK(options.ratio >= 0.0 && options.ratio < 1.0,
            "filter pruning: ratio must be in [0, 1), got ", options.ratio);
  PSG_CHECK(options.channel_multiple >= 1, "filter pruning: channel_multiple must be >= 1, got ",
            options.channel_multiple);
  StructuredPlan plan;
  std::map<std::string, std::string> not_prunable;  // conv name -> why
  for (int id = 0; id < graph.size(); ++id) {
    if (graph.node(id).kind != NodeKind::kConv) continue;
    Traced t = Trace(graph, id);
    if (t.not_prunable.empty()) {
      plan.groups.push_back(std::move(t.group));
    } else {
      not_prunable[t.group.conv] = t.not_prunable;
    }
  }
  std::vector<std::string> prunable;
  for (const FilterGroup& g : plan.groups) prunable.push_back(g.block);
  for (const std::string& name : options.skip) {
    bool found = false;
    for (FilterGroup& g : plan.groups) {
      if (name == g.block || name == g.conv) g.skipped = found = true;
    }
    if (found) continue;
    const auto why = not_prunable.find(name);
    PSG_CHECK(why == not_prunable.end(), "filter pruning: cannot skip '", name,
              "': it is not prunable (", why->second,
              "; residual streams are not pruned); prunable: ", absl::StrJoin(prunable, ", "));
    PSG_CHECK(false, "filter pruning: skip name '", name,
              "' names no prunable block or convolution; prunable: ", absl::StrJoin(prunable, ", "));
  }
  std::map<std::string, const Node*> by_name;
  for (const Node& node : graph.nodes()) by_name[node.name] = &node;
  for (FilterGroup& g : plan.groups) {
    g.l1_norms = FilterL1Norms(*by_name.at(g.conv));
    const int64_t removed =
        g.skipped ? 0 : static_cast<int64_t>(std::floor(options.ratio * g.channels + 1e-9));
    const int64_t m = options.channel_multiple;
    g.kept = TopByNorm(g.l1_norms, std::min(g.channels, (g.channels - removed + m - 1) / m * m));
  }
  return plan;
}

Graph ApplyPlan(const Graph& graph, const StructuredPlan& plan) {
  const GroupIndex index = Index(graph, plan);
  Graph out;
  for (Node node : graph.nodes()) {
    if (const FilterGroup* g = Find(index.outputs, node.name)) {
      node.weight = Slice(node.weight, 0, g->kept);
      if (!node.bias.empty()) node.bias = Slice(node.bias, 0, g->kept);
      node.out_channels = static_cast<int64_t>(g->kept.size());
    }
    if (const FilterGroup* g = Find(index.inputs, node.name)) {
      node.weight = Slice(node.weight, 1, g->kept);
      node.in_channels = static_cast<int64_t>(g->kept.size());
    }
    if (const FilterGroup* g = Find(index.channel_ops, node.name);
        g != nullptr && node.kind == NodeKind::kBatchNorm) {
      for (Tensor* t : {&node.gamma, &node.beta, &node.mean, &node.var}) *t = Slice(*t, 0, g->kept);
      node.in_channels = node.out_channels = static_cast<int64_t>(g->kept.size());
    }
    if (node.kind == NodeKind::kInput) {
      out.AddInput(node.name);
    } else {
      out.AddNode(std::move(node));
    }
  }
  return out;
}

void ZeroRemovedChannels(const Graph& graph, const StructuredPlan& plan) {
  const GroupIndex index = Index(graph, plan);
  for (const Node& node : graph.nodes()) {
    if (const FilterGroup* g = Find(index.outputs, node.name)) {
      ZeroSlices(node.weight, 0, Removed(*g));
      ZeroSlices(node.bias, 0, Removed(*g));
    }
    if (const FilterGroup* g = Find(index.inputs, node.name)) ZeroSlices(node.weight, 1, Removed(*g));
    if (const FilterGroup* g = Find(index.channel_ops, node.name);
        g != nullptr && node.kind == NodeKind::kBatchNorm) {
      ZeroSlices(node.gamma, 0, Removed(*g));
      ZeroSlices(node.beta, 0, Removed(*g));
    }
  }
}

std::map<std::string, Tensor> ParametersByName(const Graph& graph) {
  std::map<std::string, Tensor> params;
  for (const Node& node : graph.nodes()) {
    const auto add = [&](const char* suffix, const Tensor& t) {
      if (!t.empty()) params[node.name + suffix] = t;
    };
    if (node.kind == NodeKind::kConv || node.kind == NodeKind::kLinear) {
      add(".weight", node.weight);
      add(".bias", node.bias);
    } else if (node.kind == NodeKind::kBatchNorm) {
      add(".weight", node.gamma);
      add(".bias", node.beta);
      add(".running_mean", node.mean);
      add(".running_var", node.var);
    }
  }
  return params;
}

void CopyParameters(const std::map<std::string, Tensor>& source, const engine::ParameterList& params) {
  for (const engine::Parameter* p : params) {
    const auto it = source.find(p->name);
    PSG_CHECK(it != source.end(), "CopyParameters: no source tensor for parameter '", p->name, "'");
    PSG_CHECK(it->second.dims() == p->value.dims(), "CopyParameters: '", p->name, "' is ",
              engine::DimsToString(p->value.dims()), ", its source ",
              engine::DimsToString(it->second.dims()));
    p->value.CopyFromPlain(it->second.ToPlain());
  }
}

GraphCost CountCost(const Graph& graph, const engine::Dims& input_chw) {
  PSG_CHECK(input_chw.size() == 3, "CountCost: input dims must be {C, H, W}, got ",
            engine::DimsToString(input_chw));
  GraphCost cost;
  std::vector<engine::Dims> shape(graph.size());
  const auto numel = [](const Tensor& t) { return t.empty() ? int64_t{0} : t.numel(); };
  const auto window = [](int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
    return (size + 2 * padding - kernel) / stride + 1;
  };
  for (int id = 0; id < graph.size(); ++id) {
    const Node& node = graph.node(id);
    const engine::Dims in = node.inputs.empty() ? input_chw : shape[node.inputs[0]];
    engine::Dims& s = shape[id];
    s = in;
    switch (node.kind) {
      case NodeKind::kConv:
        s = {node.out_channels, window(in[1], node.kernel, node.stride, node.padding),
             window(in[2], node.kernel, node.stride, node.padding)};
        cost.multiply_adds += node.out_channels * (node.in_channels / node.groups) * node.kernel *
                              node.kernel * s[1] * s[2];
        cost.parameters += numel(node.weight) + numel(node.bias);
        break;
      case NodeKind::kLinear:
        s = {node.out_channels, 1, 1};
        cost.multiply_adds += node.in_channels * node.out_channels;
        cost.parameters += numel(node.weight) + numel(node.bias);
        break;
      case NodeKind::kBatchNorm:
        cost.parameters += numel(node.gamma) + numel(node.beta);
        break;
      case NodeKind::kPool:
        if (node.pool.kind == engine::PoolKind::kGlobalAverage) {
          s = {in[0], 1, 1};
        } else {
          s = {in[0], window(in[1], node.pool.kernel, node.pool.stride, node.pool.padding),
               window(in[2], node.pool.kernel, node.pool.stride, node.pool.padding)};
        }
        break;
      case NodeKind::kZeroPadShortcut:
        s = {node.out_channels, (in[1] - 1) / node.stride + 1, (in[2] - 1) / node.stride + 1};
        break;
      case NodeKind::kInput:
      case NodeKind::kRelu:
      case NodeKind::kAdd:
        break;
    }
  }
  return cost;
}

}  // namespace psg::prune
