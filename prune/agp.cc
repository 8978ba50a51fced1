#include "prune/agp.h"

#include <cmath>

#include "engine/check.h"
#include "engine/context.h"

namespace psg::prune {
namespace {

// Sort keys for monotone pruning: 0 for a pruned weight, |w|'s key + 1 (at
// most 0x80000000) for the others, so every pruned weight ranks first.
void MonotoneKeys(absl::Span<const float> w, absl::Span<const float> m, uint32_t* __restrict keys) {
  MagnitudeKeys(w, keys);
  const float* __restrict mp = m.data();
  const size_t n = m.size();
  for (size_t i = 0; i < n; ++i) keys[i] = mp[i] != 0.0f ? keys[i] + 1u : 0u;
}

// All-ones masks over the covered weights of `params`.
MaskSet UnprunedMasks(const engine::ParameterList& params, bool prune_first_last) {
  MaskSet masks;
  for (engine::Parameter* p : PrunableParameters(params, prune_first_last)) masks.Add(p);
  PSG_CHECK(masks.size() > 0, "AGP: no covered weights to prune");
  return masks;
}

}  // namespace

void CheckAgpOptions(const AgpOptions& o) {
  CheckSparsity(o.final_sparsity);
  PSG_CHECK(!std::isnan(o.initial_sparsity) && o.initial_sparsity >= 0.0 &&
                o.initial_sparsity <= o.final_sparsity,
            "AGP: initial sparsity must be in [0, final sparsity ", o.final_sparsity, "], got ",
            o.initial_sparsity);
  PSG_CHECK(o.start_step >= 0, "AGP: start step must be >= 0, got ", o.start_step);
  PSG_CHECK(o.end_step >= o.start_step, "AGP: end step (", o.end_step, ") must be >= start step (",
            o.start_step, ")");
  PSG_CHECK(o.frequency >= 1, "AGP: frequency must be >= 1 step, got ", o.frequency);
  PSG_CHECK((o.end_step - o.start_step) % o.frequency == 0, "AGP: frequency (", o.frequency,
            ") must divide end step - start step (", o.end_step - o.start_step, ")");
}

bool IsAgpPruningStep(const AgpOptions& o, int64_t step) {
  return step >= o.start_step && step <= o.end_step && (step - o.start_step) % o.frequency == 0;
}

double AgpSparsity(const AgpOptions& o, int64_t step) {
  if (step >= o.end_step) return o.final_sparsity;
  if (step <= o.start_step) return o.initial_sparsity;
  const double remaining = 1.0 - static_cast<double>(step - o.start_step) / static_cast<double>(o.end_step - o.start_step);
  return o.final_sparsity + (o.initial_sparsity - o.final_sparsity) * remaining * remaining * remaining;
}

AgpOptimizer::AgpOptimizer(std::unique_ptr<engine::Optimizer> inner, const engine::ParameterList& params,
                           const AgpOptions& options)
    : options_((CheckAgpOptions(options), options)),
      masked_(std::move(inner), UnprunedMasks(params, options.prune_first_last)) {
  for (const LayerSparsity& l : masks().Report()) total_ += l.size;
}

void AgpOptimizer::PruneTo(double sparsity) {
  engine::Stream().wait();
  MaskSet& masks = masked_.mutable_masks();
  std::vector<uint32_t> keys(total_);
  std::vector<absl::Span<float>> spans;
  int64_t offset = 0;
  for (int i = 0; i < masks.size(); ++i) {
    MonotoneKeys(masks.parameter(i).value.flat(), masks.mask(i), keys.data() + offset);
    spans.push_back(masks.mutable_mask(i));
    offset += static_cast<int64_t>(spans.back().size());
  }
  MaskSmallestKeys(keys, sparsity, options_.scope, spans);
  offset = 0;  // a lower sparsity than before still unprunes nothing
  for (const absl::Span<float>& m : spans) {
    const uint32_t* __restrict key = keys.data() + offset;
    float* __restrict mp = m.data();
    for (size_t i = 0; i < m.size(); ++i) mp[i] = key[i] == 0u ? 0.0f : mp[i];
    offset += static_cast<int64_t>(m.size());
  }
  masks.Apply();
  masks.ZeroMaskedOptimizerState(masked_.inner());
}

void AgpOptimizer::Step(float lr) {
  if (IsAgpPruningStep(options_, steps())) PruneTo(AgpSparsity(options_, steps()));
  masked_.Step(lr);
}

std::vector<std::pair<std::string, engine::Tensor>> AgpOptimizer::State() { return masked_.State(); }

}  // namespace psg::prune
