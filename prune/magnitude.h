// Magnitude pruning: mask the k = round(sparsity * n) smallest-|w| weights,
// either in every covered tensor separately (layer-wise: the same sparsity in
// each) or over all covered tensors at once (global: one threshold). The
// count is exact even with ties: equal magnitudes are pruned in order of
// their position (tensor order, then index). Selection is linear time
// (nth_element over the magnitudes), not a sort.
//
// Covered tensors follow compression/coverage.h: every convolution weight; the
// first convolution and the last fully-connected weight only with
// `prune_first_last`; biases, BatchNorm and everything else never.
//
//   MaskSet masks = MagnitudeMasks(params, {.sparsity = 0.9, .scope = Scope::kGlobal});
//   masks.Apply();
//   // or, in one call, for evaluation without fine-tuning:
//   std::vector<LayerSparsity> report = PruneByMagnitude(params, {.sparsity = 0.9});
#ifndef PSG_PRUNE_MAGNITUDE_H_
#define PSG_PRUNE_MAGNITUDE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "prune/mask.h"

namespace psg::prune {

enum class Scope {
  kLayer,   // the same sparsity in every covered tensor
  kGlobal,  // one magnitude threshold over all covered tensors
};

// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<Scope> kScopeNames[] = {{"layer", Scope::kLayer},
                                                         {"global", Scope::kGlobal}};
PSG_ENUM_FLAG(Scope, kScopeNames)
// "layer" / "global".
const char* ScopeName(Scope scope);

struct MagnitudeOptions {
  double sparsity = 0.5;  // fraction pruned, in [0, 1)
  Scope scope = Scope::kLayer;
  bool prune_first_last = false;  // the first convolution and the last linear layer
};

// Throws std::invalid_argument unless 0 <= sparsity < 1.
void CheckSparsity(double sparsity);

// The covered parameters of `params`, in order.
engine::ParameterList PrunableParameters(const engine::ParameterList& params,
                                         bool prune_first_last);

// Masks over the covered parameters with the smallest magnitudes marked 0;
// the weights are not changed. Magnitudes order as |w| with NaN above +inf
// (never pruned before a finite weight).
MaskSet MagnitudeMasks(const engine::ParameterList& params, const MagnitudeOptions& options);

// MagnitudeMasks, applied to the weights; returns the masks' report.
std::vector<LayerSparsity> PruneByMagnitude(const engine::ParameterList& params,
                                            const MagnitudeOptions& options);

// Masks over `covered` (PrunableParameters) with, per tensor (kLayer) or over
// all of them (kGlobal), round(sparsity * n) entries of smallest |score|
// marked 0, ties by position; scores[t] has one entry per weight of
// covered[t] (the weights themselves for magnitude pruning, a saliency for
// SNIP). Throws std::invalid_argument on a size mismatch or a bad sparsity.
MaskSet MasksBySmallestScore(const engine::ParameterList& covered,
                             const std::vector<absl::Span<const float>>& scores, double sparsity, Scope scope);

// Sort keys of |v|: the float's bits without the sign, an integer that orders
// like the magnitude (-0 == +0, NaN above +inf, every key <= 0x7fffffff).
void MagnitudeKeys(absl::Span<const float> v, uint32_t* keys);

// The selection on keys already computed, concatenated over the tensors in
// order (masks[t] as long as tensor t): the k smallest keys over all tensors
// together, ties by position, are marked 0 and the rest 1.
void SelectSmallestKeys(absl::Span<const uint32_t> keys, int64_t k, const std::vector<absl::Span<float>>& masks);

// SelectSmallestKeys with k = round(sparsity * n), n counted per tensor
// (kLayer: each mask on its own keys) or over all (kGlobal).
void MaskSmallestKeys(absl::Span<const uint32_t> keys, double sparsity, Scope scope,
                      const std::vector<absl::Span<float>>& masks);

// The selection itself, for benchmarks and tests: marks with 0 in `masks`
// (one span per tensor, each as long as its `values`) the k smallest |v| over
// all of `values` together, ties by position; other mask entries become 1.
void SelectSmallest(const std::vector<absl::Span<const float>>& values, int64_t k,
                    const std::vector<absl::Span<float>>& masks);

}  // namespace psg::prune

#endif  // PSG_PRUNE_MAGNITUDE_H_
