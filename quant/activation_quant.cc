#include "quant/activation_quant.h"

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"
#include "quant/qat_kernels.h"

namespace psg::quant {

using compression::GridPoint;
using engine::Mode;
using engine::Parameter;
using engine::ParamKind;
using engine::Tensor;

namespace {

int64_t RawSize(const Tensor& t) { return static_cast<int64_t>(t.desc().get_size() / sizeof(float)); }

}  // namespace

struct ActivationQuantizer::Plan {
  Tensor dst;
  Tensor diff_src;
  engine::LayoutAdapter diff_dst_adapter;
};

ActivationQuantizer::ActivationQuantizer(std::string name, int bits)
    : Layer(std::move(name)), bits_(bits) {
  compression::CheckGridBits(bits, this->name().c_str());
  max_level_ = static_cast<float>((1 << bits) - 1);
}

ActivationQuantizer::~ActivationQuantizer() = default;

const Tensor& ActivationQuantizer::Forward(const Tensor& x, Mode mode) {
  Plan& plan = plans_.Get(x.desc(), [&] {
    auto p = std::make_unique<Plan>();
    p->dst = Tensor(x.desc());
    return p;
  });
  current_ = &plan;
  input_ = mode == Mode::kTrain ? x : Tensor();
  engine::Stream().wait();  // x comes from primitives on the stream
  const int64_t n = RawSize(x);
  FakeQuantize(Grid(x.raw(), n, x.numel()), x.raw(), plan.dst.raw(), n);
  return plan.dst;
}

const Tensor& ActivationQuantizer::Backward(const Tensor& dy) {
  PSG_CHECK(current_ != nullptr && !input_.empty(), "activation quantizer '", name(),
            "': Backward needs a preceding Forward in Mode::kTrain");
  Plan& plan = *current_;
  PSG_CHECK(dy.dims() == input_.dims(), "activation quantizer '", name(),
            "': output gradient dims ", engine::DimsToString(dy.dims()),
            " differ from output dims ", engine::DimsToString(input_.dims()));
  if (plan.diff_src.empty()) plan.diff_src = Tensor(input_.desc());
  const Tensor& diff_dst = plan.diff_dst_adapter.To(dy, input_.desc());
  engine::Stream().wait();
  BackwardKernel(input_.raw(), diff_dst.raw(), plan.diff_src.raw(), RawSize(input_),
                 input_.numel() / input_.dims()[0]);
  return plan.diff_src;
}

int ActivationQuantizer::Export(engine::Graph* graph, int input) const {
  engine::Node& node = graph->mutable_node(input);
  PSG_CHECK(!node.output_grid, "activation quantizer '", name(), "': the output of node '",
            node.name, "' is already quantized");
  node.output_grid = InferenceGrid();
  return input;
}

// --- FakeQuantActivation ---

FakeQuantActivation::FakeQuantActivation(std::string name, int bits, float range)
    : ActivationQuantizer(std::move(name), bits) {
  if (range != 0.0f) set_range(range);
}

void FakeQuantActivation::set_range(float range) {
  PSG_CHECK(range > 0.0f, "FakeQuantActivation '", name(), "': range must be > 0, got ", range);
  range_ = range;
}

void FakeQuantActivation::StartCalibration(float momentum, int64_t samples_per_batch) {
  PSG_CHECK(momentum >= 0.0f && momentum <= 1.0f, "FakeQuantActivation '", name(),
            "': calibration momentum must be in [0, 1], got ", momentum);
  calibrating_ = true;
  momentum_ = momentum;
  batches_seen_ = 0;
  observed_max_ = 0.0f;
  samples_per_batch_ = samples_per_batch;
  samples_.clear();
}

void FakeQuantActivation::FinishCalibration() {
  PSG_CHECK(calibrating_, "FakeQuantActivation '", name(),
            "': FinishCalibration without StartCalibration");
  calibrating_ = false;
  PSG_CHECK(observed_max_ > 0.0f, "FakeQuantActivation '", name(),
            "': calibration saw no positive activation, so it has no range");
  range_ = observed_max_;
}

const Tensor& FakeQuantActivation::Forward(const Tensor& x, Mode mode) {
  if (!calibrating_) return ActivationQuantizer::Forward(x, mode);
  engine::Stream().wait();
  float low, high;
  compression::MinMaxWithZero({x.raw(), static_cast<size_t>(RawSize(x))}, &low, &high);
  if (momentum_ == 0.0f || batches_seen_ == 0) {
    observed_max_ = std::max(observed_max_, high);
  } else {
    observed_max_ = momentum_ * high + (1 - momentum_) * observed_max_;
  }
  ++batches_seen_;
  if (samples_per_batch_ > 0) {
    const std::vector<float> values = x.ToPlain();  // logical order: no layout padding
    const size_t stride = std::max<size_t>(1, values.size() / samples_per_batch_);
    for (size_t i = 0; i < values.size(); i += stride) samples_.push_back(values[i]);
  }
  return x;
}

GridPoint FakeQuantActivation::InferenceGrid() const {
  PSG_CHECK(range_ > 0.0f, "FakeQuantActivation '", name(),
            "': no range; call set_range or calibrate first");
  return compression::MakeGrid(compression::GridRange::kAsymmetric, bits(), 0.0f, range_);
}

GridPoint FakeQuantActivation::Grid(const float*, int64_t, int64_t) { return InferenceGrid(); }

void FakeQuantActivation::BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                                         int64_t) {
  ClipBackward(range_, /*top_inside=*/true, x, dy, dx, n);
}

// --- PactActivation ---

PactActivation::PactActivation(std::string name, int bits, float initial_alpha)
    : ActivationQuantizer(name, bits),
      alpha_(Parameter::Trainable(name + ".alpha", ParamKind::kActivationClip, {1})) {
  PSG_CHECK(initial_alpha > 0.0f, "PactActivation '", name, "': alpha must be > 0, got ",
            initial_alpha);
  alpha_.value.Fill(initial_alpha);
}

GridPoint PactActivation::InferenceGrid() const {
  PSG_CHECK(alpha() > 0.0f, "PactActivation '", name(), "': alpha must stay > 0, got ", alpha(),
            " (lower the learning rate or the weight decay)");
  return {alpha() / max_level(), 0.0f, max_level()};
}

GridPoint PactActivation::Grid(const float*, int64_t, int64_t) { return InferenceGrid(); }

void PactActivation::BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                                    int64_t) {
  alpha_.grad.raw()[0] =
      static_cast<float>(ClipBackward(alpha(), /*top_inside=*/false, x, dy, dx, n));
}

// --- LsqActivation ---

LsqActivation::LsqActivation(std::string name, int bits)
    : ActivationQuantizer(name, bits),
      step_(Parameter::Trainable(name + ".step", ParamKind::kQuantStep, {1})) {}

GridPoint LsqActivation::Grid(const float* x, int64_t n, int64_t numel) {
  float& s = step_.value.raw()[0];
  if (s == 0.0f) {
    s = LsqInitialStep(x, n, numel, max_level());
    PSG_CHECK(s > 0.0f, "LsqActivation '", name(),
              "': the first batch is all zero, so it cannot set the step");
  }
  return InferenceGrid();
}

GridPoint LsqActivation::InferenceGrid() const {
  PSG_CHECK(step() > 0.0f, "LsqActivation '", name(), "': the step must stay > 0, got ", step(),
            " (lower the learning rate; a step of 0 is set by the first training batch)");
  return {step(), 0.0f, max_level()};
}

void LsqActivation::BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                                   int64_t per_example) {
  const GridPoint grid{step(), 0.0f, max_level()};
  step_.grad.raw()[0] = static_cast<float>(LsqBackward(grid, x, dy, dx, n) *
                                           LsqGradScale(per_example, max_level()));
}

}  // namespace psg::quant
