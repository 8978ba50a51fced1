#include "quant/weight_qat.h"

#include <algorithm>
#include <cmath>

#include "compression/quant_grid.h"
#include "engine/check.h"
#include "engine/context.h"
#include "quant/qat_kernels.h"

namespace psg::quant {

using compression::GridPoint;
using engine::ParamKind;

namespace {

bool IsWeight(ParamKind kind) { return kind == ParamKind::kConvWeight || kind == ParamKind::kFcWeight; }

float Qp(int bits) { return static_cast<float>((1 << (bits - 1)) - 1); }

// DoReFa's grid of u in [0, 1]: levels k / (2^b - 1), k = 0..2^b - 1.
GridPoint DoReFaGrid(int bits) {
  const float levels = static_cast<float>((1 << bits) - 1);
  return {1.0f / levels, 0.0f, levels};
}

void DoReFaForward(int bits, const float* w, float* q, int64_t n) {
  const float m = std::tanh(compression::MaxAbs({w, static_cast<size_t>(n)}));  // tanh is monotone
  if (m == 0.0f) {
    std::fill(q, q + n, 0.0f);
    return;
  }
  const float half_over_m = 0.5f / m;
  for (int64_t i = 0; i < n; ++i) q[i] = std::tanh(w[i]) * half_over_m + 0.5f;
  FakeQuantize(DoReFaGrid(bits), q, q, n);
  for (int64_t i = 0; i < n; ++i) q[i] = m * (2.0f * q[i] - 1.0f);
}

}  // namespace

WeightFakeQuantizer::WeightFakeQuantizer(const engine::ParameterList& params,
                                         const WeightQatOptions& options)
    : kind_(options.kind) {
  compression::CoverageOptions coverage = options.coverage;
  coverage.cover_conv_bias = false;
  const std::vector<compression::Coverage> resolved = compression::ResolveCoverage(params, coverage);
  int64_t count = 0;
  for (size_t i = 0; i < params.size(); ++i) count += resolved[i].covered && IsWeight(params[i]->kind);
  entries_.reserve(count);
  for (size_t i = 0; i < params.size(); ++i) {
    engine::Parameter* p = params[i];
    if (!resolved[i].covered || !IsWeight(p->kind)) continue;
    PSG_CHECK(p->trainable(), "weight QAT: '", p->name, "' is not trainable");
    engine::Parameter step;
    if (kind_ == WeightQatKind::kLsq) {
      step = engine::Parameter::Trainable(p->name + ".lsq_step", ParamKind::kQuantStep, {1});
    }
    entries_.push_back({p, resolved[i].bits, std::vector<float>(p->value.numel()), std::move(step)});
  }
}

void WeightFakeQuantizer::BeforeForward() {
  PSG_CHECK(!quantized_, "weight QAT: BeforeForward twice without AfterBackward or Restore");
  engine::Stream().wait();  // the weights may still be written by the stream
  for (Entry& e : entries_) {  // first the checks, so a throw changes no weight
    if (kind_ != WeightQatKind::kLsq) break;
    float& s = e.step.value.raw()[0];
    const int64_t n = static_cast<int64_t>(e.saved.size());
    if (s == 0.0f) s = LsqInitialStep(e.weight->value.raw(), n, n, Qp(e.bits));
    PSG_CHECK(s > 0.0f, "weight QAT: LSQ step of '", e.weight->name, "' must be > 0, got ", s,
              s == 0.0f ? " (the weights are all zero)" : " (lower the learning rate)");
  }
  for (Entry& e : entries_) {
    float* w = e.weight->value.raw();
    const int64_t n = static_cast<int64_t>(e.saved.size());
    std::copy(w, w + n, e.saved.begin());
    if (kind_ == WeightQatKind::kDoReFa) {
      DoReFaForward(e.bits, e.saved.data(), w, n);
    } else {
      FakeQuantize({e.step.value.raw()[0], -Qp(e.bits), Qp(e.bits)}, e.saved.data(), w, n);
    }
  }
  quantized_ = true;
}

void WeightFakeQuantizer::AfterBackward() {
  PSG_CHECK(quantized_, "weight QAT: AfterBackward without BeforeForward");
  engine::Stream().wait();  // gradients come from primitives on the stream
  for (Entry& e : entries_) {
    const float* w = e.saved.data();
    float* g = e.weight->grad.raw();
    const int64_t n = static_cast<int64_t>(e.saved.size());
    if (kind_ == WeightQatKind::kDoReFa) {
      for (int64_t i = 0; i < n; ++i) {
        const float t = std::tanh(w[i]);
        g[i] *= 1.0f - t * t;
      }
    } else {
      const float qp = Qp(e.bits);
      const GridPoint grid{e.step.value.raw()[0], -qp, qp};
      e.step.grad.raw()[0] = static_cast<float>(LsqBackward(grid, w, g, g, n) * LsqGradScale(n, qp));
    }
  }
  Restore();
}

void WeightFakeQuantizer::Restore() {
  PSG_CHECK(quantized_, "weight QAT: Restore without BeforeForward");
  engine::Stream().wait();
  for (Entry& e : entries_) std::copy(e.saved.begin(), e.saved.end(), e.weight->value.raw());
  quantized_ = false;
}

engine::ParameterList WeightFakeQuantizer::parameters() {
  engine::ParameterList out;
  if (kind_ != WeightQatKind::kLsq) return out;
  for (Entry& e : entries_) out.push_back(&e.step);
  return out;
}

std::vector<std::pair<std::string, int>> WeightFakeQuantizer::covered() const {
  std::vector<std::pair<std::string, int>> out;
  for (const Entry& e : entries_) out.emplace_back(e.weight->name, e.bits);
  return out;
}

}  // namespace psg::quant
