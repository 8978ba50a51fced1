#include "prune/l0.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "engine/check.h"
#include "engine/context.h"
#include "engine/rng.h"
#include "prune/magnitude.h"

namespace psg::prune {
namespace {

using engine::kSplitMix64Gamma;
using engine::SplitMix64Mix;

// The per-tensor key of (seed, step, tensor); an element's hash is
// SplitMix64Mix(key + index * kSplitMix64Gamma).
uint64_t TensorKey(uint64_t seed, int64_t step, int tensor) {
  const uint64_t seed_step =
      SplitMix64Mix(SplitMix64Mix(seed) + static_cast<uint64_t>(step) * kSplitMix64Gamma);
  return SplitMix64Mix(seed_step + static_cast<uint64_t>(tensor) * kSplitMix64Gamma);
}

// (k + 1/2) / 2^23 for the top 23 bits k of `h`: exact, in (0, 1), as is 1 - u.
float UnitFromHash(uint64_t h) { return (static_cast<float>(h >> 41) + 0.5f) * 0x1p-23f; }

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// beta * log(-gamma / zeta): P(z != 0) = sigmoid(log_alpha - kKeepShift).
const double kKeepShift = kL0Beta * std::log(-static_cast<double>(kL0Gamma) / kL0Zeta);

// The step of the initial log_alpha's noise: below every optimizer step.
constexpr int64_t kInitStep = -1;

}  // namespace

void CheckL0Options(const L0Options& options) {
  PSG_CHECK(std::isfinite(options.lambda) && options.lambda >= 0, "L0: lambda must be finite and >= 0, got ",
            options.lambda);
  PSG_CHECK(options.initial_drop > 0 && options.initial_drop < 1,
            "L0: initial drop rate must be in (0, 1), got ", options.initial_drop);
  PSG_CHECK(std::isfinite(options.gate_lr_scale) && options.gate_lr_scale > 0,
            "L0: gate learning-rate scale must be finite and > 0, got ", options.gate_lr_scale);
}

GateSample SampleGate(float log_alpha, float u) {
  const float s = Sigmoid((std::log(u) - std::log(1.0f - u) + log_alpha) / kL0Beta);
  const float stretched = s * (kL0Zeta - kL0Gamma) + kL0Gamma;
  if (!(stretched > 0.0f)) return {0.0f, 0.0f};
  if (stretched >= 1.0f) return {1.0f, 0.0f};
  return {stretched, (kL0Zeta - kL0Gamma) * s * (1.0f - s) / kL0Beta};
}

float EvalGate(float log_alpha) {
  return std::min(1.0f, std::max(0.0f, Sigmoid(log_alpha) * (kL0Zeta - kL0Gamma) + kL0Gamma));
}

double GateKeepProbability(float log_alpha) { return 1.0 / (1.0 + std::exp(kKeepShift - log_alpha)); }

double GateKeepProbabilityDerivative(float log_alpha) {
  const double p = GateKeepProbability(log_alpha);
  return p * (1.0 - p);
}

float L0Noise(uint64_t seed, int64_t step, int tensor, int64_t index) {
  return UnitFromHash(
      SplitMix64Mix(TensorKey(seed, step, tensor) + static_cast<uint64_t>(index) * kSplitMix64Gamma));
}

L0Gates::L0Gates(const engine::ParameterList& params, const L0Options& options) : options_(options) {
  CheckL0Options(options);
  const engine::ParameterList covered = PrunableParameters(params, options.prune_first_last);
  const float mean = static_cast<float>(std::log(1.0 - options.initial_drop) - std::log(options.initial_drop));
  entries_.reserve(covered.size());
  for (engine::Parameter* p : covered) {
    PSG_CHECK(p->trainable(), "L0: '", p->name, "' is not trainable");
    const size_t n = p->value.numel();
    Entry e{p, engine::Parameter::Trainable(p->name + ".l0_log_alpha", engine::ParamKind::kGateLogAlpha,
                                            p->value.dims()),
            std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)};
    // N(mean, 0.01^2) by Box-Muller on two counter-based uniforms.
    const uint64_t key = TensorKey(options.seed, kInitStep, static_cast<int>(entries_.size()));
    float* a = e.log_alpha.value.raw();
    for (size_t j = 0; j < n; ++j) {
      const uint64_t h = SplitMix64Mix(key + j * kSplitMix64Gamma);
      const float u1 = UnitFromHash(h), u2 = UnitFromHash(h << 23);
      a[j] = mean + 0.01f * std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
    }
    entries_.push_back(std::move(e));
  }
}

void L0Gates::BeforeForward(engine::Mode mode, int64_t step) {
  PSG_CHECK(!gated_, "L0: BeforeForward twice without AfterBackward or Restore");
  engine::Stream().wait();  // the weights may still be written by the stream
  training_ = mode == engine::Mode::kTrain;
  for (size_t t = 0; t < entries_.size(); ++t) {
    Entry& e = entries_[t];
    float* w = e.weight->value.raw();
    const float* a = e.log_alpha.value.raw();
    const int64_t n = static_cast<int64_t>(e.saved.size());
    std::copy(w, w + n, e.saved.begin());
    if (training_) {
      const uint64_t key = TensorKey(options_.seed, step, static_cast<int>(t));
      for (int64_t j = 0; j < n; ++j) {
        const float u = UnitFromHash(SplitMix64Mix(key + static_cast<uint64_t>(j) * kSplitMix64Gamma));
        const GateSample g = SampleGate(a[j], u);
        e.z[j] = g.z;
        e.dz[j] = g.dz;
        w[j] = e.saved[j] * g.z;
      }
    } else {
      for (int64_t j = 0; j < n; ++j) w[j] = e.saved[j] * EvalGate(a[j]);
    }
  }
  gated_ = true;
}

void L0Gates::AfterBackward() {
  PSG_CHECK(gated_ && training_, "L0: AfterBackward without BeforeForward(kTrain)");
  engine::Stream().wait();  // gradients come from primitives on the stream
  const double lambda = options_.lambda, scale = options_.gate_lr_scale;
  for (Entry& e : entries_) {
    const float* w = e.saved.data();
    const float* a = e.log_alpha.value.raw();
    float* g = e.weight->grad.raw();
    float* ga = e.log_alpha.grad.raw();
    const int64_t n = static_cast<int64_t>(e.saved.size());
    for (int64_t j = 0; j < n; ++j) {
      ga[j] = static_cast<float>(scale * (g[j] * w[j] * e.dz[j] + lambda * GateKeepProbabilityDerivative(a[j])));
      g[j] *= e.z[j];
    }
  }
  Restore();
}

void L0Gates::Restore() {
  PSG_CHECK(gated_, "L0: Restore without BeforeForward");
  engine::Stream().wait();
  for (Entry& e : entries_) std::copy(e.saved.begin(), e.saved.end(), e.weight->value.raw());
  gated_ = false;
}

engine::ParameterList L0Gates::parameters() {
  engine::ParameterList out;
  for (Entry& e : entries_) out.push_back(&e.log_alpha);
  return out;
}

engine::ParameterList L0Gates::covered() const {
  engine::ParameterList out;
  for (const Entry& e : entries_) out.push_back(e.weight);
  return out;
}

double L0Gates::ExpectedL0() const {
  double sum = 0;
  for (const Entry& e : entries_) {
    for (float a : e.log_alpha.value.flat()) sum += GateKeepProbability(a);
  }
  return sum;
}

MaskSet L0Gates::L0Masks() const {
  MaskSet masks;
  for (const Entry& e : entries_) {
    const absl::Span<const float> a = e.log_alpha.value.flat();
    const absl::Span<float> m = masks.Add(e.weight);
    for (size_t j = 0; j < a.size(); ++j) m[j] = EvalGate(a[j]) == 0.0f ? 0.0f : 1.0f;
  }
  return masks;
}

std::vector<LayerSparsity> L0Gates::Report() const { return L0Masks().Report(); }

void L0Gates::FoldEvalGates() {
  PSG_CHECK(!gated_, "L0: FoldEvalGates while gated");
  engine::Stream().wait();
  for (Entry& e : entries_) {
    const absl::Span<const float> a = e.log_alpha.value.flat();
    const absl::Span<float> w = e.weight->value.flat();
    for (size_t j = 0; j < a.size(); ++j) {
      const float z = EvalGate(a[j]);
      w[j] = z == 0.0f ? 0.0f : w[j] * z;  // a pruned weight is +0, as MaskSet::Apply writes
    }
  }
}

}  // namespace psg::prune
