#include "engine/batch_norm.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

using dnnl::memory;
using flags = dnnl::normalization_flags;

namespace {

// The layout the primitives compute in. A channels-last tensor of 16 channels
// (what AMX's bf16 convolutions produce at ResNet widths) holds the very bytes
// of nChw16c, where oneDNN 2.6's batch norm runs 2-3x faster than in its
// channels-last kernels (bf16, 128 x 16 x 32 x 32, one thread: forward 0.63
// vs 1.39 ms, backward 0.77 vs 2.40 ms); other layouts stay as they are.
memory::desc ComputeDesc(const memory::desc& x) {
  const Dims d = x.dims();
  if (d.size() == 4 && d[1] == 16 &&
      x == memory::desc(d, x.data_type(), memory::format_tag::nhwc)) {
    return memory::desc(d, x.data_type(), memory::format_tag::nChw16c);
  }
  return x;
}

// A memory of `desc` over the buffer of `t` (or of nothing yet).
memory View(const memory::desc& desc, const Tensor* t) {
  return memory(desc, Cpu(), t != nullptr ? t->memory().get_data_handle() : DNNL_MEMORY_NONE);
}

}  // namespace

// Activations and gradients keep the input's layout outside the layer; the
// primitives read and write them through views in the compute layout.
struct BatchNorm2d::Plan {
  dnnl::batch_normalization_forward::primitive_desc fwd_pd;
  dnnl::batch_normalization_forward fwd;
  Tensor dst;
  memory src_view, dst_view;
  Tensor batch_mean, batch_var, workspace;

  bool has_backward = false;
  dnnl::batch_normalization_backward::primitive_desc bwd_pd;
  dnnl::batch_normalization_backward bwd;
  LayoutAdapter diff_dst_adapter;
  Tensor diff_src;
  memory diff_dst_view, diff_src_view;
};

BatchNorm2d::BatchNorm2d(std::string name, const BatchNormOptions& options)
    : Layer(std::move(name)), options_(options) {
  const int64_t c = options_.channels;
  PSG_CHECK(c > 0, "BatchNorm2d '", this->name(), "': channels must be positive, got ", c);
  PSG_CHECK(options_.epsilon > 0 && options_.momentum >= 0 && options_.momentum <= 1,
            "BatchNorm2d '", this->name(), "': need epsilon > 0 and momentum in [0, 1]");
  gamma_ = Parameter::Trainable(this->name() + ".weight", ParamKind::kBnGamma, {c});
  gamma_.value.Fill(1.0f);
  beta_ = Parameter::Trainable(this->name() + ".bias", ParamKind::kBnBeta, {c});
  running_mean_ = Parameter::State(this->name() + ".running_mean", ParamKind::kBnRunningMean, {c}, 0);
  running_var_ = Parameter::State(this->name() + ".running_var", ParamKind::kBnRunningVar, {c}, 1);
}

BatchNorm2d::~BatchNorm2d() = default;

BatchNorm2d::Plan& BatchNorm2d::PlanFor(const Tensor& x, Mode mode) {
  const bool train = mode == Mode::kTrain;
  return (train ? train_plans_ : eval_plans_).Get(x.desc(), [&] {
    const Dims in = x.dims();
    PSG_CHECK(in.size() == 4 && in[1] == options_.channels, "BatchNorm2d '", name(),
              "': expected NCHW input with ", options_.channels, " channels, got ",
              DimsToString(in));
    auto f = flags::use_scale | flags::use_shift;
    if (!train) f = f | flags::use_global_stats;
    if (options_.fuse_relu) f = f | flags::fuse_norm_relu;
    auto plan = std::make_unique<Plan>();
    const memory::desc compute = ComputeDesc(x.desc());
    plan->fwd_pd = dnnl::batch_normalization_forward::primitive_desc(
        dnnl::batch_normalization_forward::desc(
            train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            compute, options_.epsilon, f),
        Cpu());
    plan->fwd = dnnl::batch_normalization_forward(plan->fwd_pd);
    plan->dst = Tensor(x.desc());
    plan->src_view = View(compute, nullptr);
    plan->dst_view = View(compute, &plan->dst);
    if (train) {
      plan->batch_mean = Tensor(plan->fwd_pd.mean_desc());
      plan->batch_var = Tensor(plan->fwd_pd.variance_desc());
      if (options_.fuse_relu) {
        plan->workspace = Tensor(memory(plan->fwd_pd.workspace_desc(), Cpu()));
      }
    }
    return plan;
  });
}

const Tensor& BatchNorm2d::Forward(const Tensor& x, Mode mode) {
  Plan& plan = PlanFor(x, mode);
  current_ = &plan;
  const bool train = mode == Mode::kTrain;
  input_ = train ? x : Tensor();
  plan.src_view.set_data_handle(x.memory().get_data_handle());
  Execute(plan.fwd, {{DNNL_ARG_SRC, plan.src_view},
                     {DNNL_ARG_MEAN, train ? plan.batch_mean.memory() : running_mean_.value.memory()},
                     {DNNL_ARG_VARIANCE, train ? plan.batch_var.memory() : running_var_.value.memory()},
                     {DNNL_ARG_SCALE, gamma_.value.memory()},
                     {DNNL_ARG_SHIFT, beta_.value.memory()},
                     {DNNL_ARG_WORKSPACE, plan.workspace.memory()},
                     {DNNL_ARG_DST, plan.dst_view}});
  if (train) {
    const Dims d = x.dims();
    UpdateRunningStatistics(plan, d[0] * d[2] * d[3]);
  }
  return plan.dst;
}

void BatchNorm2d::UpdateRunningStatistics(const Plan& plan, int64_t count) {
  Stream().wait();
  const float m = options_.momentum;
  // PyTorch keeps the unbiased variance in the running estimate.
  const float unbias = count > 1 ? static_cast<float>(count) / (count - 1) : 1.0f;
  const float* mean = plan.batch_mean.raw();
  const float* var = plan.batch_var.raw();
  float* running_mean = running_mean_.value.raw();
  float* running_var = running_var_.value.raw();
  for (int64_t c = 0; c < options_.channels; ++c) {
    running_mean[c] = (1 - m) * running_mean[c] + m * mean[c];
    running_var[c] = (1 - m) * running_var[c] + m * var[c] * unbias;
  }
}

const Tensor& BatchNorm2d::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && !input_.empty(), "BatchNorm2d '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == plan.dst.dims(), "BatchNorm2d '", name(), "': output gradient dims ",
            DimsToString(dy.dims()), " differ from output dims ", DimsToString(plan.dst.dims()));
  if (!plan.has_backward) {
    auto f = flags::use_scale | flags::use_shift;
    if (options_.fuse_relu) f = f | flags::fuse_norm_relu;
    const memory::desc compute = plan.fwd_pd.src_desc();
    plan.bwd_pd = dnnl::batch_normalization_backward::primitive_desc(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, compute, compute,
                                                 options_.epsilon, f),
        Cpu(), plan.fwd_pd);
    plan.bwd = dnnl::batch_normalization_backward(plan.bwd_pd);
    plan.diff_src = Tensor(input_.desc());
    plan.diff_dst_view = View(compute, nullptr);
    plan.diff_src_view = View(compute, &plan.diff_src);
    plan.has_backward = true;
  }
  // The gradient in the input's layout (the views reinterpret it, never copy).
  plan.diff_dst_view.set_data_handle(
      plan.diff_dst_adapter.To(dy, input_.desc()).memory().get_data_handle());
  plan.src_view.set_data_handle(input_.memory().get_data_handle());
  Execute(plan.bwd, {{DNNL_ARG_SRC, plan.src_view},
                     {DNNL_ARG_MEAN, plan.batch_mean.memory()},
                     {DNNL_ARG_VARIANCE, plan.batch_var.memory()},
                     {DNNL_ARG_SCALE, gamma_.value.memory()},
                     {DNNL_ARG_SHIFT, beta_.value.memory()},
                     {DNNL_ARG_WORKSPACE, plan.workspace.memory()},
                     {DNNL_ARG_DIFF_DST, plan.diff_dst_view},
                     {DNNL_ARG_DIFF_SRC, plan.diff_src_view},
                     {DNNL_ARG_DIFF_SCALE, gamma_.grad.memory()},
                     {DNNL_ARG_DIFF_SHIFT, beta_.grad.memory()}});
  return plan.diff_src;
}

void BatchNorm2d::CollectParameters(ParameterList* out) {
  out->push_back(&gamma_);
  out->push_back(&beta_);
  out->push_back(&running_mean_);
  out->push_back(&running_var_);
}

int BatchNorm2d::Export(Graph* graph, int input) const {
  Node node;
  node.kind = NodeKind::kBatchNorm;
  node.name = name();
  node.inputs = {input};
  node.gamma = gamma_.value;
  node.beta = beta_.value;
  node.mean = running_mean_.value;
  node.var = running_var_.value;
  node.epsilon = options_.epsilon;
  node.in_channels = node.out_channels = options_.channels;
  node.relu = options_.fuse_relu;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::engine
