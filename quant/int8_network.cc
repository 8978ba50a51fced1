#include "quant/int8_network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/add.h"
#include "engine/check.h"
#include "engine/context.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/precision.h"
#include "engine/relu.h"
#include "quant/quantizer.h"

namespace psg::quant {

using dnnl::memory;
using engine::Dims;
using compression::GridPoint;
using engine::Node;
using engine::NodeKind;
using engine::Tensor;
using Op = Int8Step::Op;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

constexpr int kNotMaterialized = -3;

// Output grids: u8 levels 0..255 after a ReLU, else s8 with oneDNN's
// saturation bounds -128..127 over the symmetric step max / 127.
GridPoint OutputGrid(bool is_signed, float max_abs) {
  if (!is_signed) return compression::MakeGrid(compression::GridRange::kAsymmetric, 8, 0.0f, max_abs);
  GridPoint g = compression::MakeGrid(compression::GridRange::kRestricted, 8, -max_abs, max_abs);
  if (g.max_level > 0) g.min_level = -128.0f;
  return g;
}

// The integer level of x on `grid`: the grid's own quantizer with step 1.
float Level(const GridPoint& grid, float x) {
  return GridPoint{1.0f, grid.min_level, grid.max_level}(x / grid.step);
}

void FakeQuantizeInPlace(const GridPoint& grid, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = grid(x[i]);
}

// All floats of a tensor's buffer, padding of blocked layouts included
// (padding holds zeros, which every grid keeps).
int64_t BufferFloats(const Tensor& t) { return static_cast<int64_t>(t.desc().get_size() / sizeof(float)); }

float MaxAbsOf(const Tensor& t) {
  return compression::MaxAbs(absl::MakeConstSpan(t.raw(), BufferFloats(t)));
}

// Per-output-channel s8 weights and int32 biases of a conv / linear node.
struct QuantizedWeights {
  std::vector<float> fake;      // step[c] * level, plain
  std::vector<float> codes;     // the levels, as floats (exact), plain
  std::vector<float> steps;     // s_w[c]
  std::vector<int32_t> bias_levels;
  std::vector<float> fake_bias; // s_in * s_w[c] * bias level
};

QuantizedWeights QuantizeWeights(const Node& node, float input_step) {
  const Dims dims = node.weight.dims();
  const std::vector<float> w = node.weight.ToPlain();
  const TensorQuantizer q = TensorQuantizer::FromExactRange(
      {.bits = 8, .range = compression::GridRange::kRestricted, .per_channel = true}, dims, w);
  QuantizedWeights out;
  out.fake.resize(w.size());
  q.FakeQuantize(w, absl::MakeSpan(out.fake));
  std::vector<int8_t> codes(w.size());
  q.ToCodes(w, absl::MakeSpan(codes));
  out.codes.assign(codes.begin(), codes.end());
  const std::vector<float> b =
      node.bias.empty() ? std::vector<float>(dims[0], 0.0f) : node.bias.ToPlain();
  constexpr float kMaxBiasLevel = (1 << 22) - 1;  // RoundHalfEven's exact range
  for (int64_t c = 0; c < dims[0]; ++c) {
    const float step = q.grid(c).step;
    out.steps.push_back(step);
    const GridPoint bias_grid{input_step * step, -kMaxBiasLevel, kMaxBiasLevel};
    PSG_CHECK(std::abs(b[c] / bias_grid.step) < kMaxBiasLevel, "Int8: bias ", b[c],
              " of channel ", c, " of '", node.name, "' is beyond 2^22 steps of the accumulator (",
              bias_grid.step, ")");
    out.bias_levels.push_back(static_cast<int32_t>(Level(bias_grid, b[c])));
    out.fake_bias.push_back(bias_grid(b[c]));
  }
  return out;
}

const GridPoint& SourceGrid(const Int8Plan& plan, int src) {
  return src == -1 ? plan.input_grid : plan.steps[src].output_grid;
}

}  // namespace

Int8Plan MakeInt8Plan(const engine::Graph& g, const ActivationRanges* ranges) {
  PSG_CHECK(ranges == nullptr || static_cast<int>(ranges->max_abs.size()) == g.size(),
            "Int8: ranges for ", ranges ? ranges->max_abs.size() : 0, " nodes, graph has ", g.size());
  Int8Plan plan;
  std::vector<int> value_step(g.size(), kNotMaterialized);
  std::vector<bool> fused(g.size(), false);
  auto source = [&](const Node& node, int input) {
    PSG_CHECK(value_step[input] != kNotMaterialized, "Int8: node '", node.name,
              "' reads node ", input, " ('", g.node(input).name, "'), which is not materialized");
    return value_step[input];
  };
  auto max_of = [&](int node) { return ranges ? ranges->max_abs[node] : 0.0f; };
  int inputs = 0;
  for (int i = 0; i < g.size(); ++i) {
    const Node& node = g.node(i);
    if (fused[i]) continue;
    Int8Step step;
    step.node = step.output_node = i;
    switch (node.kind) {
      case NodeKind::kInput:
        PSG_CHECK(inputs++ == 0, "Int8: more than one input node");
        value_step[i] = -1;
        plan.input_grid = compression::MakeGrid(compression::GridRange::kRestricted, 8, -max_of(i), max_of(i));
        continue;
      case NodeKind::kConv: {
        step.op = Op::kConv;
        step.src = source(node, node.inputs[0]);
        step.relu = node.relu;
        std::vector<int> consumers = g.Consumers(step.output_node);
        if (!step.relu && consumers.size() == 1 && g.node(consumers[0]).kind == NodeKind::kRelu) {
          step.relu = true;
          step.output_node = consumers[0];
          fused[consumers[0]] = true;
          consumers = g.Consumers(step.output_node);
        }
        if (!step.relu && consumers.size() == 1 && g.node(consumers[0]).kind == NodeKind::kAdd) {
          const Node& add = g.node(consumers[0]);
          const int other = add.inputs[0] == step.output_node ? add.inputs[1] : add.inputs[0];
          if (value_step[other] != kNotMaterialized) {  // else the add fuses into `other`
            step.sum = value_step[other];
            step.relu = add.relu;
            step.output_node = consumers[0];
            fused[consumers[0]] = true;
          }
        }
        step.output_signed = !step.relu;
        step.output_grid = OutputGrid(step.output_signed, max_of(step.output_node));
        break;
      }
      case NodeKind::kPool:
        step.op = Op::kPool;
        step.src = source(node, node.inputs[0]);
        step.output_signed = step.src == -1 || plan.steps[step.src].output_signed;
        step.output_grid = SourceGrid(plan, step.src);
        break;
      case NodeKind::kLinear:
        PSG_CHECK(i == g.output(), "Int8: linear layer '", node.name,
                  "' is not the network's output; only a final linear layer is supported");
        step.op = Op::kLinear;
        step.src = source(node, node.inputs[0]);
        break;
      default:
        PSG_CHECK(false, "Int8: node '", node.name, "' (", engine::NodeKindName(node.kind),
                  ") is not supported here", node.kind == NodeKind::kBatchNorm
                  ? "; fold batch norms into their convolutions first (quant/bn_fold.h)"
                  : node.kind == NodeKind::kRelu || node.kind == NodeKind::kAdd
                  ? "; it must follow a convolution it can be fused into" : "");
    }
    value_step[step.output_node] = static_cast<int>(plan.steps.size());
    plan.steps.push_back(step);
  }
  PSG_CHECK(!plan.steps.empty() && plan.steps.back().op == Op::kLinear,
            "Int8: the graph must end with a linear layer (logits)");
  return plan;
}

// ---------------------------------------------------------------------------
// fp32 execution of a plan: calibration (no quantization) and simulation.

class FloatExecutor {
 public:
  FloatExecutor(const engine::Graph& g, const ActivationRanges* ranges)
      : plan_(MakeInt8Plan(g, ranges)), quantize_(ranges != nullptr) {
    for (const Int8Step& step : plan_.steps) {
      const Node& node = g.node(step.node);
      Layers layers;
      if (step.op == Op::kPool) {
        layers.pool = std::make_unique<engine::Pool2d>(node.name, node.pool);
      } else {
        std::vector<float> w = node.weight.ToPlain();
        std::vector<float> b = node.bias.empty() ? std::vector<float>(node.out_channels, 0.0f)
                                                 : node.bias.ToPlain();
        if (quantize_) {
          QuantizedWeights q = QuantizeWeights(node, SourceGrid(plan_, step.src).step);
          w = std::move(q.fake);
          b = std::move(q.fake_bias);
        }
        engine::Parameter* weight = nullptr;
        engine::Parameter* bias = nullptr;
        if (step.op == Op::kConv) {
          layers.conv = std::make_unique<engine::Conv2d>(
              node.name, engine::Conv2dOptions{.in_channels = node.in_channels,
                                               .out_channels = node.out_channels,
                                               .kernel = node.kernel, .stride = node.stride,
                                               .padding = node.padding, .groups = node.groups,
                                               .bias = true});
          weight = &layers.conv->weight();
          bias = layers.conv->bias();
          if (step.sum != -2) layers.add = std::make_unique<engine::Add>(node.name + ".add", step.relu);
          else if (step.relu) layers.relu = std::make_unique<engine::Relu>(node.name + ".relu");
        } else {
          layers.linear = std::make_unique<engine::Linear>(
              node.name, engine::LinearOptions{node.in_channels, node.out_channels, true});
          weight = &layers.linear->weight();
          bias = layers.linear->bias();
        }
        weight->value.CopyFromPlain(w);
        bias->value.CopyFromPlain(b);
      }
      layers_.push_back(std::move(layers));
    }
    outputs_.resize(plan_.steps.size());
  }

  const Int8Plan& plan() const { return plan_; }

  // Runs the batch; `observe(node, tensor)` sees every materialized value.
  template <typename Observe>
  const Tensor& Run(const Tensor& x, Observe observe) {
    const Tensor* input = &x;
    if (quantize_) {
      input_.EnsureDesc(engine::PlainDesc(x.dims()));
      input_.CopyFromPlain(x.ToPlain());
      FakeQuantizeInPlace(plan_.input_grid, input_.raw(), input_.numel());
      input = &input_;
    }
    observe(-1, *input);
    auto value = [&](int step) -> const Tensor& { return step == -1 ? *input : *outputs_[step]; };
    for (size_t s = 0; s < plan_.steps.size(); ++s) {
      const Int8Step& step = plan_.steps[s];
      Layers& l = layers_[s];
      const Tensor& in = value(step.src);
      const Tensor* y = nullptr;
      if (step.op == Op::kConv) {
        y = &l.conv->Forward(in, engine::Mode::kEval);
        if (l.add) y = &l.add->Forward(*y, value(step.sum), engine::Mode::kEval);
        if (l.relu) y = &l.relu->Forward(*y, engine::Mode::kEval);
      } else if (step.op == Op::kPool) {
        y = &l.pool->Forward(in, engine::Mode::kEval);
      } else {
        y = &l.linear->Forward(in, engine::Mode::kEval);
      }
      engine::Stream().wait();
      if (quantize_ && step.op != Op::kLinear) {
        FakeQuantizeInPlace(step.output_grid, y->raw(), BufferFloats(*y));
      }
      outputs_[s] = y;
      observe(step.output_node, *y);
    }
    return *outputs_.back();
  }

 private:
  struct Layers {
    std::unique_ptr<engine::Conv2d> conv;
    std::unique_ptr<engine::Add> add;
    std::unique_ptr<engine::Relu> relu;
    std::unique_ptr<engine::Pool2d> pool;
    std::unique_ptr<engine::Linear> linear;
  };
  Int8Plan plan_;
  bool quantize_;
  std::vector<Layers> layers_;
  std::vector<const Tensor*> outputs_;
  Tensor input_;
};

class Calibrator::Impl : public FloatExecutor {
 public:
  using FloatExecutor::FloatExecutor;
};

Calibrator::Calibrator(const engine::Graph& folded)
    : impl_(std::make_unique<Impl>(folded, nullptr)) {
  ranges_.max_abs.assign(folded.size(), 0.0f);
  for (int i = 0; i < folded.size(); ++i) {
    if (folded.node(i).kind == NodeKind::kInput) input_node_ = i;
  }
}

Calibrator::~Calibrator() = default;

void Calibrator::Observe(const Tensor& batch) {
  impl_->Run(batch, [&](int node, const Tensor& t) {
    float& m = ranges_.max_abs[node == -1 ? input_node_ : node];
    m = std::max(m, MaxAbsOf(t));
  });
}

class FakeQuantNetwork::Impl : public FloatExecutor {
 public:
  using FloatExecutor::FloatExecutor;
};

FakeQuantNetwork::FakeQuantNetwork(const engine::Graph& folded, const ActivationRanges& ranges)
    : impl_(std::make_unique<Impl>(folded, &ranges)) {}

FakeQuantNetwork::~FakeQuantNetwork() = default;

const Tensor& FakeQuantNetwork::Forward(const Tensor& x) {
  return impl_->Run(x, [](int, const Tensor&) {});
}

// ---------------------------------------------------------------------------
// The int8 network on oneDNN.

// The fused network in one arithmetic: fp32 or bf16 (floating point, no
// ranges), or int8 (with calibrated ranges).
enum class Arithmetic { kFp32, kBf16, kInt8 };

class FusedNetworkImpl {
 public:
  FusedNetworkImpl(const engine::Graph& g, Arithmetic arithmetic, const ActivationRanges* ranges,
                   const Dims& sample_dims)
      : arithmetic_(arithmetic),
        float_(arithmetic != Arithmetic::kInt8),
        plan_(MakeInt8Plan(g, ranges)),
        sample_(sample_dims) {
    PSG_CHECK(sample_dims.size() == 3, "fused network: sample dims must be {C, H, W}, got ",
              engine::DimsToString(sample_dims));
    PSG_CHECK(float_ == (ranges == nullptr), "fused network: int8 needs ranges, fp32/bf16 none");
    if (arithmetic == Arithmetic::kBf16) engine::RequirePrecision(engine::Precision::kBf16);
    for (const Int8Step& step : plan_.steps) {
      nodes_.push_back(g.node(step.node));
      const Node& node = nodes_.back();
      Weights w;
      if (step.op != Op::kPool && float_) {
        w.codes = node.weight.ToPlain();
        std::vector<float> bias =
            node.bias.empty() ? std::vector<float>(node.out_channels, 0.0f) : node.bias.ToPlain();
        w.bias = memory(memory::desc({node.out_channels}, dt::f32, tag::a), engine::Cpu());
        std::memcpy(w.bias.get_data_handle(), bias.data(), bias.size() * sizeof(float));
      } else if (step.op != Op::kPool) {
        QuantizedWeights q = QuantizeWeights(node, SourceGrid(plan_, step.src).step);
        w.codes = std::move(q.codes);
        w.bias = memory(memory::desc({static_cast<int64_t>(q.bias_levels.size())}, dt::s32, tag::a),
                        engine::Cpu());
        std::memcpy(w.bias.get_data_handle(), q.bias_levels.data(),
                    q.bias_levels.size() * sizeof(int32_t));
        const float in_step = SourceGrid(plan_, step.src).step;
        for (float s : q.steps) {
          w.scales.push_back(step.op == Op::kLinear ? in_step * s
                                                    : in_step * s / step.output_grid.step);
        }
      }
      weights_.push_back(std::move(w));
    }
  }

  const float* Forward(const float* x, int64_t batch) {
    Batch& b = BatchFor(batch);
    if (arithmetic_ == Arithmetic::kFp32) {
      b.input.set_data_handle(const_cast<float*>(x));  // read only
    } else if (arithmetic_ == Arithmetic::kBf16) {
      b.user_input.set_data_handle(const_cast<float*>(x));
      engine::Execute(b.to_bf16, {{DNNL_ARG_FROM, b.user_input}, {DNNL_ARG_TO, b.input}});
    } else {
      QuantizeInput(x, batch, b.input);
    }
    for (size_t s = 0; s < plan_.steps.size(); ++s) {
      const Int8Step& step = plan_.steps[s];
      Prim& p = b.prims[s];
      const memory& src = step.src == -1 ? b.input : b.prims[step.src].dst;
      if (step.sum != -2 && !p.sums_in_place) {
        const memory& other = step.sum == -1 ? b.input : b.prims[step.sum].dst;
        engine::Stream().wait();
        std::memcpy(p.dst.get_data_handle(), other.get_data_handle(), p.dst.get_desc().get_size());
      }
      engine::Execute(p.primitive, {{DNNL_ARG_SRC, src},
                                    {DNNL_ARG_WEIGHTS, p.weights},
                                    {DNNL_ARG_BIAS, weights_[s].bias},
                                    {DNNL_ARG_DST, p.dst}});
    }
    engine::Stream().wait();
    return static_cast<const float*>(b.prims.back().dst.get_data_handle());
  }

  int64_t num_classes() const { return nodes_.back().out_channels; }
  const Dims& sample() const { return sample_; }

 private:
  struct Weights {
    std::vector<float> codes;   // plain levels (fp32: the weights)
    memory bias;                // s32 levels, fp32: f32 (empty for pooling)
    std::vector<float> scales;  // output scales per channel (int8 only)
  };
  struct Prim {
    dnnl::primitive primitive;
    memory weights;  // in the primitive's layout
    memory dst;
    // A residual add whose other input nothing reads afterwards sums onto
    // that input's buffer (dst is it); else Forward copies it into dst first
    // (a one-thread copy that took 23 % of a bf16 ResNet-20 pass).
    bool sums_in_place = false;
  };
  struct Batch {
    memory input;
    // bf16: the caller's f32 NCHW images and their one-pass conversion into `input`.
    memory user_input;
    dnnl::reorder to_bf16;
    std::vector<Prim> prims;
  };

  // The data type of a value: f32 or bf16 in the floating-point networks, else
  // u8 after a ReLU, s8 otherwise.
  dt TypeOf(bool is_signed) const {
    if (arithmetic_ == Arithmetic::kFp32) return dt::f32;
    if (arithmetic_ == Arithmetic::kBf16) return dt::bf16;
    return is_signed ? dt::s8 : dt::u8;
  }
  // Activation layouts: channels-last for the int8 kernels, oneDNN's choice
  // (blocked for fp32, channels-last for AMX bf16) otherwise.
  tag ActivationTag() const { return float_ ? tag::any : tag::nhwc; }

  void QuantizeInput(const float* x, int64_t n, const memory& input) const {
    const int64_t c = sample_[0], hw = sample_[1] * sample_[2];
    int8_t* dst = static_cast<int8_t*>(input.get_data_handle());
    const GridPoint& grid = plan_.input_grid;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t p = 0; p < hw; ++p)
          dst[(i * hw + p) * c + ch] = static_cast<int8_t>(Level(grid, x[(i * c + ch) * hw + p]));
  }

  dt WeightType() const {
    return arithmetic_ == Arithmetic::kInt8 ? dt::s8 : TypeOf(/*is_signed=*/true);
  }

  memory ReorderedWeights(const Weights& w, const Dims& dims, tag plain,
                          const memory::desc& want) const {
    memory src(memory::desc(dims, dt::f32, plain), engine::Cpu(),
               const_cast<float*>(w.codes.data()));
    memory dst(want, engine::Cpu());
    dnnl::reorder(src, dst).execute(engine::Stream(), src, dst);
    engine::Stream().wait();
    return dst;
  }

  // Whether step `reader` is the last step that reads step `value`'s output.
  bool LastRead(int value, size_t reader) const {
    for (size_t t = reader + 1; t < plan_.steps.size(); ++t) {
      if (plan_.steps[t].src == value || plan_.steps[t].sum == value) return false;
    }
    return true;
  }

  Batch& BatchFor(int64_t n) {
    auto it = batches_.find(n);
    if (it != batches_.end()) return it->second;
    Batch& b = batches_[n];
    Dims dims = {n, sample_[0], sample_[1], sample_[2]};
    if (arithmetic_ == Arithmetic::kFp32) {
      b.input = memory(memory::desc(dims, dt::f32, tag::nchw), engine::Cpu(), nullptr);
    } else {
      // Channels-last, as the int8 and AMX bf16 kernels read it.
      b.input = memory(memory::desc(dims, TypeOf(/*is_signed=*/true), tag::nhwc), engine::Cpu());
    }
    if (arithmetic_ == Arithmetic::kBf16) {
      b.user_input = memory(memory::desc(dims, dt::f32, tag::nchw), engine::Cpu(), nullptr);
      b.to_bf16 = dnnl::reorder(b.user_input, b.input);
    }
    std::vector<Dims> out_dims;
    for (size_t s = 0; s < plan_.steps.size(); ++s) {
      const Int8Step& step = plan_.steps[s];
      const Node& node = nodes_[s];
      const Dims in = step.src == -1 ? dims : out_dims[step.src];
      const memory::desc src_md =
          step.src == -1 ? b.input.get_desc() : b.prims[step.src].dst.get_desc();
      Prim p;
      if (step.op == Op::kConv) {
        const int64_t oh = (in[2] + 2 * node.padding - node.kernel) / node.stride + 1;
        const int64_t ow = (in[3] + 2 * node.padding - node.kernel) / node.stride + 1;
        const Dims out = {n, node.out_channels, oh, ow};
        const Dims wdims = node.groups == 1
            ? Dims{node.out_channels, node.in_channels, node.kernel, node.kernel}
            : Dims{node.groups, node.out_channels / node.groups, node.in_channels / node.groups,
                   node.kernel, node.kernel};
        const memory::desc dst_md(out, TypeOf(step.output_signed), ActivationTag());
        dnnl::primitive_attr attr;
        if (!float_) attr.set_output_scales(1 << 1, weights_[s].scales);
        dnnl::post_ops ops;
        if (step.sum != -2 && float_) {
          ops.append_sum(1.0f);
        } else if (step.sum != -2) {
          const bool sum_signed = step.sum == -1 || plan_.steps[step.sum].output_signed;
          ops.append_sum(SourceGrid(plan_, step.sum).step / step.output_grid.step,
                         TypeOf(sum_signed));
        }
        if (step.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
        const Dims strides = {node.stride, node.stride}, pad = {node.padding, node.padding};
        dnnl::convolution_forward::primitive_desc pd(
            dnnl::convolution_forward::desc(
                dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
                memory::desc(wdims, WeightType(), tag::any), weights_[s].bias.get_desc(), dst_md,
                strides, pad, pad),
            attr, engine::Cpu());
        p.primitive = dnnl::convolution_forward(pd);
        p.weights = ReorderedWeights(weights_[s], wdims, node.groups == 1 ? tag::oihw : tag::goihw,
                                     pd.weights_desc());
        p.sums_in_place = step.sum >= 0 && LastRead(step.sum, s);
        p.dst = p.sums_in_place
                    ? memory(pd.dst_desc(), engine::Cpu(), b.prims[step.sum].dst.get_data_handle())
                    : memory(pd.dst_desc(), engine::Cpu());
        if (step.sum != -2) {
          // Forward copies the add's other input into dst byte for byte (int8:
          // the sum post-op reads it as the other's type, s8 or u8).
          const memory::desc other =
              step.sum == -1 ? b.input.get_desc() : b.prims[step.sum].dst.get_desc();
          PSG_CHECK(float_ ? other == pd.dst_desc() : other.get_size() == pd.dst_desc().get_size(),
                    "fused network: the residual add into '", node.name,
                    "' reads a value of another layout");
        }
        out_dims.push_back(out);
      } else if (step.op == Op::kPool) {
        engine::PoolOptions o = node.pool;
        dnnl::algorithm algo = o.kind == engine::PoolKind::kMax ? dnnl::algorithm::pooling_max
            : o.kind == engine::PoolKind::kAverageExcludePad
                ? dnnl::algorithm::pooling_avg_exclude_padding
                : dnnl::algorithm::pooling_avg_include_padding;
        Dims kernel = {o.kernel, o.kernel}, strides = {o.stride, o.stride};
        Dims pad = {o.padding, o.padding};
        if (o.kind == engine::PoolKind::kGlobalAverage) {
          kernel = {in[2], in[3]};
          strides = {1, 1};
          pad = {0, 0};
        }
        const Dims out = {n, in[1], (in[2] + 2 * pad[0] - kernel[0]) / strides[0] + 1,
                          (in[3] + 2 * pad[1] - kernel[1]) / strides[1] + 1};
        const memory::desc dst_md(out, TypeOf(step.output_signed), ActivationTag());
        dnnl::pooling_forward::primitive_desc pd(
            dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, algo, src_md, dst_md,
                                        strides, kernel, pad, pad),
            engine::Cpu());
        p.primitive = dnnl::pooling_forward(pd);
        p.dst = memory(pd.dst_desc(), engine::Cpu());
        out_dims.push_back(out);
      } else {
        const int64_t features = in[1] * in[2] * in[3];
        PSG_CHECK(features == node.in_channels, "Int8Network: linear '", node.name, "' expects ",
                  node.in_channels, " features, its input is ", engine::DimsToString(in));
        const Dims wdims = {node.out_channels, in[1], in[2], in[3]};
        dnnl::primitive_attr attr;
        if (!float_) attr.set_output_scales(1 << 1, weights_[s].scales);
        dnnl::inner_product_forward::primitive_desc pd(
            dnnl::inner_product_forward::desc(
                dnnl::prop_kind::forward_inference, src_md, memory::desc(wdims, WeightType(), tag::any),
                weights_[s].bias.get_desc(), memory::desc({n, node.out_channels}, dt::f32, tag::nc)),
            attr, engine::Cpu());
        p.primitive = dnnl::inner_product_forward(pd);
        p.weights = ReorderedWeights(weights_[s], wdims, tag::oihw, pd.weights_desc());
        p.dst = memory(pd.dst_desc(), engine::Cpu());
        out_dims.push_back({n, node.out_channels});
      }
      b.prims.push_back(std::move(p));
    }
    return b;
  }

  Arithmetic arithmetic_;
  bool float_;  // fp32 or bf16
  Int8Plan plan_;
  Dims sample_;
  std::vector<Node> nodes_;
  std::vector<Weights> weights_;
  std::map<int64_t, Batch> batches_;
};

namespace {

void CheckSampleInput(const Tensor& x, const Dims& sample, const char* network) {
  const Dims d = x.dims();
  PSG_CHECK(x.is_plain() && d.size() == 4 && Dims(d.begin() + 1, d.end()) == sample, network,
            ": input must be plain NCHW {N, ", engine::DimsToString(sample), "}, got ",
            engine::DimsToString(d));
}

}  // namespace

class Int8Network::Impl : public FusedNetworkImpl {
  using FusedNetworkImpl::FusedNetworkImpl;
};

Int8Network::Int8Network(const engine::Graph& folded, const ActivationRanges& ranges,
                         const Dims& sample_dims)
    : impl_(std::make_unique<Impl>(folded, Arithmetic::kInt8, &ranges, sample_dims)) {}

Int8Network::~Int8Network() = default;

const float* Int8Network::Forward(const float* x, int64_t batch) {
  return impl_->Forward(x, batch);
}

const float* Int8Network::Forward(const Tensor& x) {
  CheckSampleInput(x, impl_->sample(), "Int8Network");
  return impl_->Forward(x.raw(), x.dims()[0]);
}

int64_t Int8Network::num_classes() const { return impl_->num_classes(); }

class FusedFloatNetwork::Impl : public FusedNetworkImpl {
  using FusedNetworkImpl::FusedNetworkImpl;
};

FusedFloatNetwork::FusedFloatNetwork(const engine::Graph& folded, const Dims& sample_dims,
                                     engine::Precision precision)
    : impl_(std::make_unique<Impl>(
          folded, precision == engine::Precision::kBf16 ? Arithmetic::kBf16 : Arithmetic::kFp32,
          nullptr, sample_dims)) {}

FusedFloatNetwork::~FusedFloatNetwork() = default;

const float* FusedFloatNetwork::Forward(const float* x, int64_t batch) {
  return impl_->Forward(x, batch);
}

const float* FusedFloatNetwork::Forward(const Tensor& x) {
  CheckSampleInput(x, impl_->sample(), "FusedFloatNetwork");
  return impl_->Forward(x.raw(), x.dims()[0]);
}

int64_t FusedFloatNetwork::num_classes() const { return impl_->num_classes(); }

}  // namespace psg::quant
