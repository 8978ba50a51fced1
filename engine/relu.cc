#include "engine/relu.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

struct Relu::Plan {
  dnnl::eltwise_forward::primitive_desc fwd_pd;
  dnnl::eltwise_forward fwd;
  Tensor dst;
  bool has_backward = false;
  dnnl::eltwise_backward bwd;
  dnnl::memory::desc diff_dst_desc;
  LayoutAdapter diff_dst_adapter;
  Tensor diff_src;
};

Relu::Relu(std::string name) : Layer(std::move(name)) {}
Relu::~Relu() = default;

const Tensor& Relu::Forward(const Tensor& x, Mode mode) {
  Plan& plan = plans_.Get(x.desc(), [&] {
    auto p = std::make_unique<Plan>();
    p->fwd_pd = dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training,
                                    dnnl::algorithm::eltwise_relu, x.desc(), 0.0f, 0.0f),
        Cpu());
    p->fwd = dnnl::eltwise_forward(p->fwd_pd);
    p->dst = Tensor(p->fwd_pd.dst_desc());
    return p;
  });
  current_ = &plan;
  input_ = mode == Mode::kTrain ? x : Tensor();
  Execute(plan.fwd, {{DNNL_ARG_SRC, x.memory()}, {DNNL_ARG_DST, plan.dst.memory()}});
  return plan.dst;
}

const Tensor& Relu::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && !input_.empty(), "Relu '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "Relu '", name(), "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  if (!plan.has_backward) {
    const dnnl::eltwise_backward::primitive_desc pd(
        dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu, input_.desc(), input_.desc(),
                                     0.0f, 0.0f),
        Cpu(), plan.fwd_pd);
    plan.bwd = dnnl::eltwise_backward(pd);
    plan.diff_dst_desc = pd.diff_dst_desc();
    plan.diff_src = Tensor(pd.diff_src_desc());
    plan.has_backward = true;
  }
  const Tensor& diff_dst = plan.diff_dst_adapter.To(dy, plan.diff_dst_desc);
  Execute(plan.bwd, {{DNNL_ARG_SRC, input_.memory()},
                     {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                     {DNNL_ARG_DIFF_SRC, plan.diff_src.memory()}});
  return plan.diff_src;
}

int Relu::Export(Graph* graph, int input) const {
  Node node;
  node.kind = NodeKind::kRelu;
  node.name = name();
  node.inputs = {input};
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
