#include "engine/conv2d.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// The weight as oneDNN sees it: {O, I, K, K}, or {G, O/G, I/G, K, K} for groups.
Dims PrimitiveWeightDims(const Conv2dOptions& o) {
  if (o.groups == 1) return {o.out_channels, o.in_channels, o.kernel, o.kernel};
  return {o.groups, o.out_channels / o.groups, o.in_channels / o.groups, o.kernel, o.kernel};
}

}  // namespace

struct Conv2d::Plan {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_forward fwd;
  LayoutAdapter src_adapter;
  LayoutAdapter weight_adapter;
  Tensor dst;
  const Tensor* forward_src = nullptr;  // the input as the last Forward read it

  bool has_backward = false;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd;
  dnnl::convolution_backward_weights bwd_weights;
  LayoutAdapter diff_dst_adapter_data;
  LayoutAdapter diff_dst_adapter_weights;
  LayoutAdapter src_adapter_weights;
  LayoutAdapter weight_adapter_data;
  Tensor diff_src;
  Tensor diff_weights;
  Reorderer diff_weights_to_grad;
};

Conv2d::Conv2d(std::string name, const Conv2dOptions& options)
    : Layer(std::move(name)), options_(options) {
  const auto& o = options_;
  PSG_CHECK(o.in_channels > 0 && o.out_channels > 0, "Conv2d '", this->name(),
            "': channel counts must be positive, got in=", o.in_channels, " out=", o.out_channels);
  PSG_CHECK(o.kernel > 0 && o.stride > 0 && o.padding >= 0, "Conv2d '", this->name(),
            "': need kernel > 0, stride > 0, padding >= 0; got kernel=", o.kernel,
            " stride=", o.stride, " padding=", o.padding);
  PSG_CHECK(o.input_grad || o.weight_grad, "Conv2d '", this->name(),
            "': a layer with neither input nor weight gradients cannot train; use Mode::kEval");
  PSG_CHECK(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
            "Conv2d '", this->name(), "': groups=", o.groups, " must divide in=", o.in_channels,
            " and out=", o.out_channels);
  RequirePrecision(o.precision);
  weight_ = Parameter::Trainable(this->name() + ".weight", ParamKind::kConvWeight,
                                 {o.out_channels, o.in_channels / o.groups, o.kernel, o.kernel});
  if (o.bias) {
    bias_ = Parameter::Trainable(this->name() + ".bias", ParamKind::kConvBias, {o.out_channels});
  }
  weight_view_ = Tensor::View(weight_.value.raw(), PrimitiveWeightDims(o));
  weight_grad_view_ = Tensor::View(weight_.grad.raw(), PrimitiveWeightDims(o));
}

Conv2d::~Conv2d() = default;

int64_t Conv2d::OutputSize(int64_t input_size) const {
  return (input_size + 2 * options_.padding - options_.kernel) / options_.stride + 1;
}

Conv2d::Plan& Conv2d::PlanFor(const Tensor& x) {
  return plans_.Get(x.desc(), [&] {
    const auto& o = options_;
    const Dims in = x.dims();
    PSG_CHECK(in.size() == 4, "Conv2d '", name(), "': input must be 4-D NCHW, got ",
              DimsToString(in));
    PSG_CHECK(in[1] == o.in_channels, "Conv2d '", name(), "': expected ", o.in_channels,
              " input channels, got input ", DimsToString(in));
    const int64_t oh = OutputSize(in[2]), ow = OutputSize(in[3]);
    PSG_CHECK(oh > 0 && ow > 0, "Conv2d '", name(), "': input ", DimsToString(in),
              " is smaller than kernel ", o.kernel, " with padding ", o.padding);
    const tag act = o.plain_layout ? tag::nchw : tag::any;
    const dt type = ActivationType(o.precision);
    const memory::desc src_md(in, type, act);
    const memory::desc dst_md({in[0], o.out_channels, oh, ow}, type, act);
    const memory::desc wei_md(PrimitiveWeightDims(o), type, tag::any);
    const memory::desc bias_md = o.bias ? memory::desc({o.out_channels}, dt::f32, tag::a)
                                        : memory::desc();
    const Dims strides = {o.stride, o.stride}, pad = {o.padding, o.padding};

    auto plan = std::make_unique<Plan>();
    plan->fwd_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        dnnl::algorithm::convolution_direct, src_md, wei_md,
                                        bias_md, dst_md, strides, pad, pad),
        Cpu());
    plan->fwd = dnnl::convolution_forward(plan->fwd_pd);
    plan->dst = Tensor(plan->fwd_pd.dst_desc());
    return plan;
  });
}

const Tensor& Conv2d::Forward(const Tensor& x, Mode mode) {
  Plan& plan = PlanFor(x);
  current_ = &plan;
  input_ = mode == Mode::kTrain ? x : Tensor();
  const Tensor& src = plan.src_adapter.To(x, plan.fwd_pd.src_desc());
  plan.forward_src = &src == &x ? &input_ : &src;
  const Tensor& wei = plan.weight_adapter.To(weight_view_, plan.fwd_pd.weights_desc());
  Execute(plan.fwd, {{DNNL_ARG_SRC, src.memory()},
                     {DNNL_ARG_WEIGHTS, wei.memory()},
                     {DNNL_ARG_BIAS, bias_ ? bias_->value.memory() : empty_.memory()},
                     {DNNL_ARG_DST, plan.dst.memory()}});
  return plan.dst;
}

const Tensor& Conv2d::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && !input_.empty(), "Conv2d '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "Conv2d '", name(), "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  const auto& o = options_;
  const Dims strides = {o.stride, o.stride}, pad = {o.padding, o.padding};
  if (!plan.has_backward) {
    const tag act = o.plain_layout ? tag::nchw : tag::any;
    const dt type = ActivationType(o.precision);
    const memory::desc src_md(input_.dims(), type, act);
    const memory::desc dst_md(plan.dst.dims(), type, act);
    const memory::desc wei_md(PrimitiveWeightDims(o), type, tag::any);
    // The weight gradient stays f32 whatever the precision.
    const memory::desc diff_wei_md(PrimitiveWeightDims(o), dt::f32, tag::any);
    const memory::desc bias_md = o.bias ? memory::desc({o.out_channels}, dt::f32, tag::a)
                                        : memory::desc();
    if (o.input_grad) {
      plan.bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src_md,
                                                wei_md, dst_md, strides, pad, pad),
          Cpu(), plan.fwd_pd);
      plan.bwd_data = dnnl::convolution_backward_data(plan.bwd_data_pd);
      plan.diff_src = Tensor(plan.bwd_data_pd.diff_src_desc());
    }
    if (o.weight_grad) {
      plan.bwd_weights_pd = dnnl::convolution_backward_weights::primitive_desc(
          dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md,
                                                   diff_wei_md, bias_md, dst_md, strides, pad,
                                                   pad),
          Cpu(), plan.fwd_pd);
      plan.bwd_weights = dnnl::convolution_backward_weights(plan.bwd_weights_pd);
      plan.diff_weights = Tensor(plan.bwd_weights_pd.diff_weights_desc());
    }
    plan.has_backward = true;
  }

  if (o.input_grad) {
    const Tensor& diff_dst = plan.diff_dst_adapter_data.To(dy, plan.bwd_data_pd.diff_dst_desc());
    const Tensor& wei = plan.weight_adapter_data.To(weight_view_, plan.bwd_data_pd.weights_desc());
    Execute(plan.bwd_data, {{DNNL_ARG_DIFF_DST, diff_dst.memory()},
                            {DNNL_ARG_WEIGHTS, wei.memory()},
                            {DNNL_ARG_DIFF_SRC, plan.diff_src.memory()}});
  }
  if (!o.weight_grad) return o.input_grad ? plan.diff_src : empty_;
  const Tensor& diff_dst = plan.diff_dst_adapter_weights.To(dy, plan.bwd_weights_pd.diff_dst_desc());
  // The forward's converted input where the layouts agree (a bf16 network's
  // f32 images are converted once per step, not twice).
  const Tensor& src = plan.bwd_weights_pd.src_desc() == plan.fwd_pd.src_desc()
                          ? *plan.forward_src
                          : plan.src_adapter_weights.To(input_, plan.bwd_weights_pd.src_desc());
  Execute(plan.bwd_weights,
          {{DNNL_ARG_SRC, src.memory()},
           {DNNL_ARG_DIFF_DST, diff_dst.memory()},
           {DNNL_ARG_DIFF_WEIGHTS, plan.diff_weights.memory()},
           {DNNL_ARG_DIFF_BIAS, bias_ ? bias_->grad.memory() : empty_.memory()}});
  plan.diff_weights_to_grad.Run(plan.diff_weights, weight_grad_view_);
  return o.input_grad ? plan.diff_src : empty_;
}

void Conv2d::CollectParameters(ParameterList* out) {
  out->push_back(&weight_);
  if (bias_) out->push_back(&*bias_);
}

int Conv2d::Export(Graph* graph, int input) const {
  const auto& o = options_;
  Node node;
  node.kind = NodeKind::kConv;
  node.name = name();
  node.inputs = {input};
  node.weight = weight_.value;
  if (bias_) node.bias = bias_->value;
  node.in_channels = o.in_channels;
  node.out_channels = o.out_channels;
  node.kernel = o.kernel;
  node.stride = o.stride;
  node.padding = o.padding;
  node.groups = o.groups;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
