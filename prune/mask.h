// Pruning masks: one 0/1 float mask per pruned parameter, the same shape as
// its value. A mask entry of 0 marks a pruned weight: Apply() zeroes it,
// MaskGradients() zeroes its gradient, ZeroMaskedOptimizerState() zeroes its
// momentum (or Adam moments), so that training keeps it exactly at 0.
//
//   MaskSet masks = MagnitudeMasks(params, {.sparsity = 0.9});  // prune/magnitude.h
//   masks.Apply();                                    // prune
//   masks.ZeroMaskedOptimizerState(optimizer);        // at pruning time
//   ... each step: Backward; masks.MaskGradients(); optimizer.Step(lr); masks.Apply();
//   for (const LayerSparsity& s : masks.Report()) Log(s.name, s.sparsity);
//
// (MaskedOptimizer, prune/masked_optimizer.h, does the per-step part and
// checkpoints the masks.)
#ifndef PSG_PRUNE_MASK_H_
#define PSG_PRUNE_MASK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "engine/tensor.h"

namespace psg::prune {

// One masked tensor: its name, number of entries, how many are pruned, and
// pruned / size.
struct LayerSparsity {
  std::string name;
  int64_t size = 0;
  int64_t pruned = 0;
  double sparsity = 0;
};

class MaskSet {
 public:
  MaskSet() = default;
  MaskSet(MaskSet&&) = default;
  MaskSet& operator=(MaskSet&&) = default;

  // Adds an all-ones (nothing pruned) mask for `param`, not owned, which must
  // outlive the set; returns the mask's values to fill with 0 / 1.
  absl::Span<float> Add(engine::Parameter* param);

  int size() const { return static_cast<int>(params_.size()); }
  const engine::Parameter& parameter(int i) const { return *params_[i]; }
  absl::Span<const float> mask(int i) const { return masks_[i].flat(); }
  // Mask i to rewrite (e.g. a gradual schedule pruning further).
  absl::Span<float> mutable_mask(int i) { return masks_[i].flat(); }

  // w = 0 wherever the mask is 0 (exactly +0, whatever w was), one pass per tensor.
  void Apply() const;
  // The same for the gradients (parameters without a gradient are skipped).
  void MaskGradients() const;
  // Zeroes the masked entries of every optimizer state tensor named
  // "<parameter name>/..." that has as many entries as its parameter
  // (momentum, Adam moments; a per-tensor or per-channel range is left alone).
  void ZeroMaskedOptimizerState(engine::Optimizer& optimizer) const;

  // The masks as named tensors, "mask/<parameter name>", viewing the set's own
  // buffers: writing into them (e.g. from a checkpoint) restores the masks.
  std::vector<std::pair<std::string, engine::Tensor>> State() const;

  // One entry per mask, in order.
  std::vector<LayerSparsity> Report() const;

 private:
  std::vector<engine::Parameter*> params_;
  std::vector<engine::Tensor> masks_;
};

// The totals of a report, as one entry named "total".
LayerSparsity Total(const std::vector<LayerSparsity>& layers);

}  // namespace psg::prune

#endif  // PSG_PRUNE_MASK_H_
