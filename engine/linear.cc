#include "engine/linear.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

using dnnl::memory;

struct Linear::Plan {
  Dims input_dims;
  LayoutAdapter to_plain;
  Tensor plain_input;  // {N, features} view of the flattened input
  dnnl::inner_product_forward::primitive_desc fwd_pd;
  dnnl::inner_product_forward fwd;
  LayoutAdapter weight_adapter;   // the weight as the primitives read it (bf16: a copy)
  const Tensor* weights = nullptr;  // ... as the last Forward read it
  Tensor dst;
  bool has_backward = false;
  dnnl::inner_product_backward_data bwd_data;
  dnnl::inner_product_backward_weights bwd_weights;
  LayoutAdapter diff_dst_adapter;
  Tensor diff_src_flat, diff_src;
  memory::desc src2d_desc;
};

Linear::Linear(std::string name, const LinearOptions& options)
    : Layer(std::move(name)), options_(options) {
  PSG_CHECK(options_.in_features > 0 && options_.out_features > 0, "Linear '", this->name(),
            "': feature counts must be positive, got in=", options_.in_features,
            " out=", options_.out_features);
  RequirePrecision(options_.precision);
  weight_ = Parameter::Trainable(this->name() + ".weight", ParamKind::kFcWeight,
                                 {options_.out_features, options_.in_features});
  if (options_.bias) {
    bias_ = Parameter::Trainable(this->name() + ".bias", ParamKind::kFcBias,
                                 {options_.out_features});
  }
}

Linear::~Linear() = default;

const Tensor& Linear::Forward(const Tensor& x, Mode mode) {
  Plan& plan = plans_.Get(x.desc(), [&] {
    const Dims in = x.dims();
    const int64_t features = Product(in) / in[0];
    PSG_CHECK((in.size() == 2 || in.size() == 4) && features == options_.in_features, "Linear '",
              name(), "': expected {N, ", options_.in_features,
              "} or a 4-D input with that many features per sample, got ", DimsToString(in));
    auto p = std::make_unique<Plan>();
    p->input_dims = in;
    const memory::data_type type = ActivationType(options_.precision);
    p->src2d_desc = PlainDesc({in[0], features}, type);
    // fp32 reads the plain weight itself; bf16 a copy in the primitive's layout.
    const memory::desc weight_md =
        options_.precision == Precision::kFp32
            ? weight_.value.desc()
            : memory::desc(weight_.value.dims(), type, memory::format_tag::any);
    const memory::desc dst_md = PlainDesc({in[0], options_.out_features});
    p->fwd_pd = dnnl::inner_product_forward::primitive_desc(
        dnnl::inner_product_forward::desc(
            dnnl::prop_kind::forward_training, p->src2d_desc, weight_md,
            bias_ ? bias_->value.desc() : memory::desc(), dst_md),
        Cpu());
    p->fwd = dnnl::inner_product_forward(p->fwd_pd);
    p->dst = Tensor(p->fwd_pd.dst_desc());
    p->plain_input = Tensor(memory(p->src2d_desc, Cpu(), DNNL_MEMORY_NONE));
    return p;
  });
  current_ = &plan;
  trained_forward_ = mode == Mode::kTrain;
  // Re-point the cached 2-D view instead of building a new memory object.
  plan.plain_input.memory().set_data_handle(
      plan.to_plain.To(x, PlainDesc(plan.input_dims, plan.src2d_desc.data_type()))
          .memory()
          .get_data_handle());
  plan.weights = &plan.weight_adapter.To(weight_.value, plan.fwd_pd.weights_desc());
  Execute(plan.fwd, {{DNNL_ARG_SRC, plan.plain_input.memory()},
                     {DNNL_ARG_WEIGHTS, plan.weights->memory()},
                     {DNNL_ARG_BIAS, bias_ ? bias_->value.memory() : empty_.memory()},
                     {DNNL_ARG_DST, plan.dst.memory()}});
  return plan.dst;
}

const Tensor& Linear::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && trained_forward_, "Linear '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "Linear '", name(), "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  const memory::desc diff_dst_md = PlainDesc(plan.dst.dims(), plan.src2d_desc.data_type());
  if (!plan.has_backward) {
    // Both passes read the forward's weight (copy), in the forward's layout.
    plan.bwd_data = dnnl::inner_product_backward_data(
        dnnl::inner_product_backward_data::primitive_desc(
            dnnl::inner_product_backward_data::desc(plan.src2d_desc, plan.fwd_pd.weights_desc(),
                                                    diff_dst_md),
            Cpu(), plan.fwd_pd));
    plan.bwd_weights = dnnl::inner_product_backward_weights(
        dnnl::inner_product_backward_weights::primitive_desc(
            dnnl::inner_product_backward_weights::desc(
                plan.src2d_desc, weight_.grad.desc(),
                bias_ ? bias_->grad.desc() : memory::desc(), diff_dst_md),
            Cpu(), plan.fwd_pd));
    plan.diff_src_flat = Tensor(plan.src2d_desc);
    plan.diff_src = Tensor(memory(PlainDesc(plan.input_dims, plan.src2d_desc.data_type()), Cpu(),
                                  plan.diff_src_flat.memory().get_data_handle()));
    plan.has_backward = true;
  }
  const Tensor& diff_dst = plan.diff_dst_adapter.To(dy, diff_dst_md);
  Execute(plan.bwd_data, {{DNNL_ARG_DIFF_DST, diff_dst.memory()},
                          {DNNL_ARG_WEIGHTS, plan.weights->memory()},
                          {DNNL_ARG_DIFF_SRC, plan.diff_src_flat.memory()}});
  Execute(plan.bwd_weights, {{DNNL_ARG_SRC, plan.plain_input.memory()},
                             {DNNL_ARG_DIFF_DST, diff_dst.memory()},
                             {DNNL_ARG_DIFF_WEIGHTS, weight_.grad.memory()},
                             {DNNL_ARG_DIFF_BIAS, bias_ ? bias_->grad.memory() : empty_.memory()}});
  return plan.diff_src;
}

void Linear::CollectParameters(ParameterList* out) {
  out->push_back(&weight_);
  if (bias_) out->push_back(&*bias_);
}

int Linear::Export(Graph* graph, int input) const {
  Node node;
  node.kind = NodeKind::kLinear;
  node.name = name();
  node.inputs = {input};
  node.weight = weight_.value;
  if (bias_) node.bias = bias_->value;
  node.in_channels = options_.in_features;
  node.out_channels = options_.out_features;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
