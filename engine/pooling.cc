#include "engine/pooling.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

using dnnl::memory;

struct Pool2d::Plan {
  dnnl::algorithm algorithm;
  Dims kernel, strides, padding;
  dnnl::pooling_forward::primitive_desc fwd_pd;
  dnnl::pooling_forward fwd;
  Tensor dst, workspace;
  memory::desc src_desc;
  bool has_backward = false;
  dnnl::pooling_backward bwd;
  memory::desc diff_dst_desc;
  LayoutAdapter diff_dst_adapter;
  Tensor diff_src;
};

Pool2d::Pool2d(std::string name, const PoolOptions& options)
    : Layer(std::move(name)), options_(options) {
  if (options_.kind != PoolKind::kGlobalAverage) {
    PSG_CHECK(options_.kernel > 0 && options_.stride > 0 && options_.padding >= 0 &&
                  2 * options_.padding <= options_.kernel,
              "Pool2d '", this->name(), "': need kernel > 0, stride > 0, 0 <= padding <= kernel/2;",
              " got kernel=", options_.kernel, " stride=", options_.stride,
              " padding=", options_.padding);
  }
}

Pool2d::~Pool2d() = default;

const Tensor& Pool2d::Forward(const Tensor& x, Mode mode) {
  Plan& plan = plans_.Get(x.desc(), [&] {
    const Dims in = x.dims();
    PSG_CHECK(in.size() == 4, "Pool2d '", name(), "': input must be 4-D NCHW, got ",
              DimsToString(in));
    auto p = std::make_unique<Plan>();
    PoolOptions o = options_;
    if (o.kind == PoolKind::kGlobalAverage) {
      PSG_CHECK(in[2] == in[3], "Pool2d '", name(), "': global pooling of a non-square input ",
                DimsToString(in), " is not supported");
      o = {PoolKind::kAverage, in[2], in[2], 0};
    }
    const int64_t oh = (in[2] + 2 * o.padding - o.kernel) / o.stride + 1;
    const int64_t ow = (in[3] + 2 * o.padding - o.kernel) / o.stride + 1;
    PSG_CHECK(oh > 0 && ow > 0, "Pool2d '", name(), "': input ", DimsToString(in),
              " is smaller than kernel ", o.kernel);
    p->algorithm = o.kind == PoolKind::kMax ? dnnl::algorithm::pooling_max
                   : o.kind == PoolKind::kAverage
                       ? dnnl::algorithm::pooling_avg_include_padding
                       : dnnl::algorithm::pooling_avg_exclude_padding;
    p->kernel = {o.kernel, o.kernel};
    p->strides = {o.stride, o.stride};
    p->padding = {o.padding, o.padding};
    p->src_desc = x.desc();
    const memory::desc dst_md({in[0], in[1], oh, ow}, x.data_type(), memory::format_tag::any);
    p->fwd_pd = dnnl::pooling_forward::primitive_desc(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, p->algorithm, x.desc(),
                                    dst_md, p->strides, p->kernel, p->padding, p->padding),
        Cpu());
    p->fwd = dnnl::pooling_forward(p->fwd_pd);
    p->dst = Tensor(p->fwd_pd.dst_desc());
    if (p->algorithm == dnnl::algorithm::pooling_max) {
      p->workspace = Tensor(memory(p->fwd_pd.workspace_desc(), Cpu()));
    }
    return p;
  });
  current_ = &plan;
  trained_forward_ = mode == Mode::kTrain;
  Execute(plan.fwd, {{DNNL_ARG_SRC, x.memory()},
                     {DNNL_ARG_DST, plan.dst.memory()},
                     {DNNL_ARG_WORKSPACE, plan.workspace.memory()}});
  return plan.dst;
}

const Tensor& Pool2d::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && trained_forward_, "Pool2d '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "Pool2d '", name(), "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  if (!plan.has_backward) {
    // The forward input's layout: with format any, oneDNN 2.6 picks a layout
    // (acdB16b for a global pool) that only its reference kernel handles.
    const memory::desc& diff_src_md = plan.src_desc;
    const dnnl::pooling_backward::primitive_desc pd(
        dnnl::pooling_backward::desc(plan.algorithm, diff_src_md, plan.dst.desc(), plan.strides,
                                     plan.kernel, plan.padding, plan.padding),
        Cpu(), plan.fwd_pd);
    plan.bwd = dnnl::pooling_backward(pd);
    plan.diff_dst_desc = pd.diff_dst_desc();
    plan.diff_src = Tensor(pd.diff_src_desc());
    plan.has_backward = true;
  }
  const Tensor& diff_dst = plan.diff_dst_adapter.To(dy, plan.diff_dst_desc);
  Execute(plan.bwd, {{DNNL_ARG_DIFF_DST, diff_dst.memory()},
                     {DNNL_ARG_WORKSPACE, plan.workspace.memory()},
                     {DNNL_ARG_DIFF_SRC, plan.diff_src.memory()}});
  return plan.diff_src;
}

int Pool2d::Export(Graph* graph, int input) const {
  Node node;
  node.kind = NodeKind::kPool;
  node.name = name();
  node.inputs = {input};
  node.pool = options_;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
