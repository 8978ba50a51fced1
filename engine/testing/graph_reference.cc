#include "engine/testing/graph_reference.h"

#include <algorithm>

#include "engine/check.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"

namespace psg::engine::reference {
namespace {

Shape4 ShapeOf(const PlainValues& v, const Node& node) {
  PSG_CHECK(v.dims.size() == 4, "graph reference: node '", node.name, "' needs a 4-D input, got ",
            DimsToString(v.dims));
  return {v.dims[0], v.dims[1], v.dims[2], v.dims[3]};
}

std::vector<float> Values(const Tensor& t) { return t.empty() ? std::vector<float>() : t.ToPlain(); }

void ReluInPlace(std::vector<float>* v) {
  for (float& x : *v) x = std::max(x, 0.0f);
}

PlainValues RunNode(const Node& node, const std::vector<PlainValues>& values) {
  const PlainValues& x = values[node.inputs.at(0)];
  switch (node.kind) {
    case NodeKind::kInput:
      break;
    case NodeKind::kConv: {
      const Shape4 s = ShapeOf(x, node);
      const ConvParams p{node.out_channels, node.kernel, node.stride, node.padding, node.groups};
      PlainValues y{{s.n, node.out_channels, (s.h + 2 * p.padding - p.kernel) / p.stride + 1,
                     (s.w + 2 * p.padding - p.kernel) / p.stride + 1},
                    Conv2d(x.values, s, Values(node.weight), Values(node.bias), p)};
      if (node.relu) ReluInPlace(&y.values);
      return y;
    }
    case NodeKind::kBatchNorm:
      return {x.dims, BatchNormInference(x.values, ShapeOf(x, node), Values(node.gamma),
                                         Values(node.beta), Values(node.mean), Values(node.var),
                                         node.epsilon, node.relu)};
    case NodeKind::kRelu: {
      PlainValues y = x;
      ReluInPlace(&y.values);
      return y;
    }
    case NodeKind::kPool: {
      const Shape4 s = ShapeOf(x, node);
      PoolOptions o = node.pool;
      PoolKind kind = PoolKind::kMax;
      if (o.kind == engine::PoolKind::kGlobalAverage) {
        PSG_CHECK(s.h == s.w, "graph reference: global pooling of a non-square input");
        o = {engine::PoolKind::kAverage, s.h, s.h, 0};
      }
      if (o.kind == engine::PoolKind::kAverage) kind = PoolKind::kAvgIncludePadding;
      if (o.kind == engine::PoolKind::kAverageExcludePad) kind = PoolKind::kAvgExcludePadding;
      const int64_t oh = (s.h + 2 * o.padding - o.kernel) / o.stride + 1;
      const int64_t ow = (s.w + 2 * o.padding - o.kernel) / o.stride + 1;
      return {{s.n, s.c, oh, ow}, Pool2d(x.values, s, kind, o.kernel, o.stride, o.padding)};
    }
    case NodeKind::kLinear: {
      const int64_t n = x.dims[0];
      return {{n, node.out_channels},
              Linear(x.values, n, node.in_channels, Values(node.weight), Values(node.bias),
                     node.out_channels)};
    }
    case NodeKind::kAdd: {
      const PlainValues& b = values[node.inputs.at(1)];
      PSG_CHECK(x.dims == b.dims, "graph reference: add '", node.name, "' of ",
                DimsToString(x.dims), " and ", DimsToString(b.dims));
      PlainValues y = x;
      for (size_t i = 0; i < y.values.size(); ++i) y.values[i] += b.values[i];
      if (node.relu) ReluInPlace(&y.values);
      return y;
    }
    case NodeKind::kZeroPadShortcut: {
      const Shape4 s = ShapeOf(x, node);
      const int64_t st = node.stride, oh = (s.h + st - 1) / st, ow = (s.w + st - 1) / st;
      const int64_t oc = node.out_channels, pad = (oc - s.c) / 2;
      PlainValues y{{s.n, oc, oh, ow}, std::vector<float>(s.n * oc * oh * ow, 0.0f)};
      for (int64_t n = 0; n < s.n; ++n)
        for (int64_t c = 0; c < s.c; ++c)
          for (int64_t i = 0; i < oh; ++i)
            for (int64_t j = 0; j < ow; ++j)
              y.values[((n * oc + c + pad) * oh + i) * ow + j] =
                  x.values[((n * s.c + c) * s.h + i * st) * s.w + j * st];
      return y;
    }
  }
  PSG_CHECK(false, "graph reference: unknown node kind");
  return {};
}

}  // namespace

void RandomizeBatchNorm(Layer& model, uint32_t seed) {
  ParameterList params;
  model.CollectParameters(&params);
  for (Parameter* p : params) {
    float lo = 0, hi = 0;
    switch (p->kind) {
      case ParamKind::kBnGamma: lo = 0.5f, hi = 1.5f; break;
      case ParamKind::kBnBeta:
      case ParamKind::kBnRunningMean: lo = -0.2f, hi = 0.2f; break;
      case ParamKind::kBnRunningVar: lo = 0.5f, hi = 2.0f; break;
      default: continue;
    }
    p->value.CopyFromPlain(testing::RandomVector(p->value.numel(), seed++, lo, hi));
  }
}

PlainValues RunGraphReference(const Graph& graph, const PlainValues& input) {
  std::vector<PlainValues> values(graph.size());
  int inputs = 0;
  for (int i = 0; i < graph.size(); ++i) {
    const Node& node = graph.node(i);
    if (node.kind == NodeKind::kInput) {
      PSG_CHECK(inputs++ == 0, "graph reference: more than one input node");
      values[i] = input;
    } else {
      values[i] = RunNode(node, values);
    }
    if (node.output_grid) {
      for (float& v : values[i].values) v = (*node.output_grid)(v);
    }
  }
  return values[graph.output()];
}

}  // namespace psg::engine::reference
