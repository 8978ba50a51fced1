#include "engine/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::engine {

using dnnl::memory;
using flags = dnnl::normalization_flags;

// With synchronized statistics: a statistics-only forward of the local batch,
// and the backward's correction dx += x * scale + shift (per channel) as one
// oneDNN binary primitive (x * scale, then + shift and + dx as post-ops).
struct BatchNorm2d::SyncPlan {
  dnnl::batch_normalization_forward::primitive_desc stats_pd;
  dnnl::batch_normalization_forward stats;
  Tensor stats_dst, local_mean, local_var;
  int64_t global_count = 0;

  bool has_correction = false;
  dnnl::binary correction;
  Tensor correction_scale, correction_shift;  // {1, C, 1, 1}
};

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

// A {1, C, 1, 1} descriptor in x's layout family (channel c at offset c):
// oneDNN's JIT binary kernels need the per-channel operand blocked like the
// data (a plain one runs the reference kernel, ~100x slower).
memory::desc PerChannelLike(const memory::desc& x, int64_t channels) {
  using tag = memory::format_tag;
  for (tag t : {tag::nChw16c, tag::nChw8c, tag::nhwc, tag::nchw}) {
    if (memory::desc(x.dims(), x.data_type(), t) == x) {
      return memory::desc({1, channels, 1, 1}, memory::data_type::f32, t);
    }
  }
  return PlainDesc({1, channels, 1, 1});
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
  std::unique_ptr<SyncPlan> sync;  // training with synchronized statistics only

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
    const bool sync = train && options_.cross_replica != nullptr;
    auto f = flags::use_scale | flags::use_shift;
    // Synchronized training normalizes with the global statistics, given.
    if (!train || sync) f = f | flags::use_global_stats;
    if (options_.fuse_relu) f = f | flags::fuse_norm_relu;
    auto plan = std::make_unique<Plan>();
    const memory::desc compute = ComputeDesc(x.desc());
    if (sync) {
      plan->sync = std::make_unique<SyncPlan>();
      SyncPlan& s = *plan->sync;
      s.stats_pd = dnnl::batch_normalization_forward::primitive_desc(
          dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, x.desc(),
                                                  options_.epsilon, flags::none),
          Cpu());
      s.stats = dnnl::batch_normalization_forward(s.stats_pd);
      s.stats_dst = Tensor(s.stats_pd.dst_desc());
      s.local_mean = Tensor(s.stats_pd.mean_desc());
      s.local_var = Tensor(s.stats_pd.variance_desc());
    }
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
      // (Inputs with synchronized statistics: the same descriptors.)
      plan->batch_mean = Tensor(plan->fwd_pd.mean_desc());
      plan->batch_var = Tensor(plan->fwd_pd.variance_desc());
      if (options_.fuse_relu) {
        plan->workspace = Tensor(memory(plan->fwd_pd.workspace_desc(), Cpu()));
      }
    }
    return plan;
  });
}

int64_t BatchNorm2d::GlobalStatistics(Plan& plan, const Tensor& x) {
  SyncPlan& s = *plan.sync;
  Execute(s.stats, {{DNNL_ARG_SRC, x.memory()},
                    {DNNL_ARG_MEAN, s.local_mean.memory()},
                    {DNNL_ARG_VARIANCE, s.local_var.memory()},
                    {DNNL_ARG_DST, s.stats_dst.memory()}});
  Stream().wait();
  // Per channel n * mean and n * E[x^2] (in double: E[x^2] - mean^2 loses
  // nothing that matters there), then the count, summed over the replicas.
  const Dims d = x.dims();
  const int64_t c_count = options_.channels;
  const double n = static_cast<double>(d[0] * d[2] * d[3]);
  sums_.resize(2 * c_count + 1);
  const float* mean = s.local_mean.raw();
  const float* var = s.local_var.raw();
  for (int64_t c = 0; c < c_count; ++c) {
    sums_[c] = n * mean[c];
    sums_[c_count + c] = n * (var[c] + static_cast<double>(mean[c]) * mean[c]);
  }
  sums_[2 * c_count] = n;
  options_.cross_replica->SumInPlace(absl::MakeSpan(sums_));
  const double total = sums_[2 * c_count];
  float* global_mean = plan.batch_mean.raw();
  float* global_var = plan.batch_var.raw();
  for (int64_t c = 0; c < c_count; ++c) {
    const double m = sums_[c] / total;
    global_mean[c] = static_cast<float>(m);
    global_var[c] = static_cast<float>(std::max(0.0, sums_[c_count + c] / total - m * m));
  }
  s.global_count = static_cast<int64_t>(total);
  return s.global_count;
}

const Tensor& BatchNorm2d::Forward(const Tensor& x, Mode mode) {
  Plan& plan = PlanFor(x, mode);
  current_ = &plan;
  const bool train = mode == Mode::kTrain;
  input_ = train ? x : Tensor();
  plan.src_view.set_data_handle(x.memory().get_data_handle());
  const int64_t global_count = plan.sync ? GlobalStatistics(plan, x) : 0;
  Execute(plan.fwd, {{DNNL_ARG_SRC, plan.src_view},
                     {DNNL_ARG_MEAN, train ? plan.batch_mean.memory() : running_mean_.value.memory()},
                     {DNNL_ARG_VARIANCE, train ? plan.batch_var.memory() : running_var_.value.memory()},
                     {DNNL_ARG_SCALE, gamma_.value.memory()},
                     {DNNL_ARG_SHIFT, beta_.value.memory()},
                     {DNNL_ARG_WORKSPACE, plan.workspace.memory()},
                     {DNNL_ARG_DST, plan.dst_view}});
  if (train) {
    const Dims d = x.dims();
    UpdateRunningStatistics(plan, plan.sync ? global_count : d[0] * d[2] * d[3]);
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
    if (plan.sync) f = f | flags::use_global_stats;
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
  if (plan.sync) AddGlobalStatisticsGradient(plan);
  return plan.diff_src;
}

// With statistics as constants oneDNN gives dx = gamma / sigma * dy' (dy' = dy
// after the fused ReLU's mask) and the local sums d_gamma = sum dy' xhat,
// d_beta = sum dy'. The statistics' own gradient, over the global batch of M
// values per channel, adds -gamma / sigma * (sum d_beta / M + xhat sum d_gamma / M)
// with both sums over every replica: per channel, x * (-b) + (b mean - a) with
// a = gamma sum d_beta / (sigma M), b = gamma sum d_gamma / (sigma^2 M).
void BatchNorm2d::AddGlobalStatisticsGradient(Plan& plan) {
  SyncPlan& s = *plan.sync;
  const int64_t c_count = options_.channels;
  if (!s.has_correction) {
    const memory::desc per_channel = PerChannelLike(input_.desc(), c_count);
    s.correction_scale = Tensor(per_channel);
    s.correction_shift = Tensor(per_channel);
    s.correction_scale.Fill(0.0f);  // blocked padding stays zero
    s.correction_shift.Fill(0.0f);
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, per_channel);
    ops.append_sum(1.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    s.correction = dnnl::binary(dnnl::binary::primitive_desc(
        dnnl::binary::desc(dnnl::algorithm::binary_mul, input_.desc(), per_channel,
                           plan.diff_src.desc()),
        attr, Cpu()));
    s.has_correction = true;
  }
  Stream().wait();
  sums_.resize(2 * c_count);
  const float* d_gamma = gamma_.grad.raw();
  const float* d_beta = beta_.grad.raw();
  for (int64_t c = 0; c < c_count; ++c) {
    sums_[c] = d_beta[c];
    sums_[c_count + c] = d_gamma[c];
  }
  options_.cross_replica->SumInPlace(absl::MakeSpan(sums_));
  const float* gamma = gamma_.value.raw();
  const float* mean = plan.batch_mean.raw();
  const float* var = plan.batch_var.raw();
  float* scale = s.correction_scale.raw();
  float* shift = s.correction_shift.raw();
  const double m = static_cast<double>(s.global_count);
  for (int64_t c = 0; c < c_count; ++c) {
    const double inv_sigma = 1.0 / std::sqrt(static_cast<double>(var[c]) + options_.epsilon);
    const double a = gamma[c] * sums_[c] * inv_sigma / m;
    const double b = gamma[c] * sums_[c_count + c] * inv_sigma * inv_sigma / m;
    scale[c] = static_cast<float>(-b);
    shift[c] = static_cast<float>(b * mean[c] - a);
  }
  Execute(s.correction,
          {{DNNL_ARG_SRC_0, input_.memory()},
           {DNNL_ARG_SRC_1, s.correction_scale.memory()},
           {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, s.correction_shift.memory()},
           {DNNL_ARG_DST, plan.diff_src.memory()}});
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
