// SNIP (Lee, Ajanthan, Torr, ICLR 2019): single-shot pruning at
// initialization by connection sensitivity. For each covered weight w_j the
// saliency is |g_j * w_j| with g_j = dL/dw_j summed over a few batches (the
// paper's |dL/dc_j| at c = 1 for the mask c, on the batch-summed gradient;
// its normalization by sum_k |g_k w_k| does not change the ranking, so it is
// left out). The round(sparsity * n) least salient weights are masked, with
// prune/magnitude's exact selection (one threshold over all covered tensors
// with Scope::kGlobal, as in the paper; per tensor with kLayer), and the
// network is then trained from its initialization with the masks
// (prune/masked_optimizer.h).
//
//   SnipSaliency snip(params, /*prune_first_last=*/false);
//   for (each of a few batches) { Forward; Backward; snip.Accumulate(); }
//   MaskSet masks = snip.Masks({.sparsity = 0.9, .scope = Scope::kGlobal});
//   masks.Apply();
//   MaskedOptimizer optimizer(std::move(sgd), std::move(masks));
#ifndef PSG_PRUNE_SNIP_H_
#define PSG_PRUNE_SNIP_H_

#include <cstdint>
#include <vector>

#include "engine/parameter.h"
#include "prune/magnitude.h"
#include "prune/mask.h"

namespace psg::prune {

struct SnipOptions {
  double sparsity = 0.5;  // fraction pruned, in [0, 1)
  Scope scope = Scope::kGlobal;
};

class SnipSaliency {
 public:
  // Over the covered weights of `params` (the model's whole list; coverage
  // as in MagnitudeOptions), which must outlive this object.
  SnipSaliency(const engine::ParameterList& params, bool prune_first_last);

  // After a backward: adds each covered weight's gradient to its running sum.
  void Accumulate();
  int64_t batches() const { return batches_; }

  // The covered parameters, in order.
  const engine::ParameterList& parameters() const { return covered_; }
  // |w * sum of gradients| per weight of parameters()[i], one pass.
  std::vector<float> Saliency(int i) const;

  // Masks with the least salient weights marked 0; the weights are not
  // changed. Throws std::invalid_argument before any Accumulate() or for a
  // sparsity outside [0, 1).
  MaskSet Masks(const SnipOptions& options) const;

 private:
  engine::ParameterList covered_;
  std::vector<std::vector<float>> gradient_sums_;
  int64_t batches_ = 0;
};

}  // namespace psg::prune

#endif  // PSG_PRUNE_SNIP_H_
