#include "engine/add.h"

#include <optional>

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

struct Add::Plan {
  dnnl::binary add;
  LayoutAdapter b_adapter;
  Tensor dst;
  bool has_backward = false;
  dnnl::eltwise_forward::primitive_desc relu_hint;  // for the backward pd
  // Set where the ReLU cannot be a post-op of `add` (see UnfusableRelu).
  std::optional<dnnl::eltwise_forward> separate_relu;
  dnnl::eltwise_backward relu_bwd;
  LayoutAdapter diff_dst_adapter;
  Tensor diff;
};

namespace {

// oneDNN 2.6.3's jit:uni binary kernel on AVX2 writes 32 bytes past its
// destination when the layout blocks channels by 16 with a partial last block
// (e.g. nChw16c, 17 channels) and an eltwise or sum post-op is attached
// (measured: valgrind, and guard bytes after the buffer). Where channels are
// padded the ReLU runs as its own in-place pass instead; ResNets' channel
// counts (multiples of 16) keep the fused post-op.
bool UnfusableRelu(const dnnl::memory::desc& desc) { return desc.data.padded_dims[1] != desc.data.dims[1]; }

}  // namespace

Add::Add(std::string name, bool relu) : name_(std::move(name)), relu_(relu) {}
Add::~Add() = default;

const Tensor& Add::Forward(const Tensor& a, const Tensor& b, Mode mode) {
  PSG_CHECK(a.dims() == b.dims(), "Add '", name_, "': operand dims differ: ",
            DimsToString(a.dims()), " and ", DimsToString(b.dims()));
  Plan& plan = plans_.Get(a.desc(), [&] {
    auto p = std::make_unique<Plan>();
    dnnl::primitive_attr attr;
    if (relu_) {
      p->relu_hint = dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::eltwise_relu_use_dst_for_bwd, a.desc(),
                                      0.0f, 0.0f),
          Cpu());
      if (UnfusableRelu(a.desc())) {
        p->separate_relu = dnnl::eltwise_forward(p->relu_hint);
      } else {
        dnnl::post_ops ops;
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
      }
    }
    const dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_add, a.desc(), a.desc(), a.desc()), attr, Cpu());
    p->add = dnnl::binary(pd);
    p->dst = Tensor(pd.dst_desc());
    return p;
  });
  current_ = &plan;
  trained_forward_ = mode == Mode::kTrain;
  const Tensor& b_same = plan.b_adapter.To(b, a.desc());
  Execute(plan.add, {{DNNL_ARG_SRC_0, a.memory()},
                     {DNNL_ARG_SRC_1, b_same.memory()},
                     {DNNL_ARG_DST, plan.dst.memory()}});
  if (plan.separate_relu) {
    Execute(*plan.separate_relu, {{DNNL_ARG_SRC, plan.dst.memory()}, {DNNL_ARG_DST, plan.dst.memory()}});
  }
  return plan.dst;
}

const Tensor& Add::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && trained_forward_, "Add '", name_,
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "Add '", name_, "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  if (!relu_) return dy;
  if (!plan.has_backward) {
    const dnnl::eltwise_backward::primitive_desc pd(
        dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
                                     plan.dst.desc(), plan.dst.desc(), 0.0f, 0.0f),
        Cpu(), plan.relu_hint);
    plan.relu_bwd = dnnl::eltwise_backward(pd);
    plan.diff = Tensor(pd.diff_src_desc());
    plan.has_backward = true;
  }
  const Tensor& diff_dst = plan.diff_dst_adapter.To(dy, plan.dst.desc());
  Execute(plan.relu_bwd, {{DNNL_ARG_DST, plan.dst.memory()},
                          {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                          {DNNL_ARG_DIFF_SRC, plan.diff.memory()}});
  return plan.diff;
}

int Add::Export(Graph* graph, int a, int b) const {
  Node node;
  node.kind = NodeKind::kAdd;
  node.name = name_;
  node.inputs = {a, b};
  node.relu = relu_;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
