#include "prune/snip.h"

#include <cmath>

#include "engine/check.h"
#include "engine/context.h"

namespace psg::prune {

SnipSaliency::SnipSaliency(const engine::ParameterList& params, bool prune_first_last)
    : covered_(PrunableParameters(params, prune_first_last)) {
  PSG_CHECK(!covered_.empty(), "SNIP: no covered weights to prune");
  gradient_sums_.reserve(covered_.size());
  for (const engine::Parameter* p : covered_) {
    PSG_CHECK(p->trainable(), "SNIP: '", p->name, "' has no gradient");
    gradient_sums_.emplace_back(p->value.numel(), 0.0f);
  }
}

void SnipSaliency::Accumulate() {
  engine::Stream().wait();  // gradients come from primitives on the stream
  for (size_t t = 0; t < covered_.size(); ++t) {
    const float* __restrict g = covered_[t]->grad.raw();
    float* __restrict sum = gradient_sums_[t].data();
    const size_t n = gradient_sums_[t].size();
    for (size_t i = 0; i < n; ++i) sum[i] += g[i];
  }
  ++batches_;
}

std::vector<float> SnipSaliency::Saliency(int i) const {
  PSG_CHECK(i >= 0 && i < static_cast<int>(covered_.size()), "SNIP: no covered tensor ", i);
  engine::Stream().wait();
  const std::vector<float>& sum = gradient_sums_[i];
  std::vector<float> saliency(sum.size());
  const float* __restrict w = covered_[i]->value.raw();
  const float* __restrict g = sum.data();
  float* __restrict s = saliency.data();
  for (size_t j = 0; j < sum.size(); ++j) s[j] = std::fabs(w[j] * g[j]);
  return saliency;
}

MaskSet SnipSaliency::Masks(const SnipOptions& options) const {
  PSG_CHECK(batches_ > 0, "SNIP: no gradients accumulated (call Accumulate after a backward)");
  std::vector<std::vector<float>> saliency;
  std::vector<absl::Span<const float>> scores;
  saliency.reserve(covered_.size());
  for (size_t t = 0; t < covered_.size(); ++t) {
    saliency.push_back(Saliency(static_cast<int>(t)));
    scores.push_back(saliency.back());
  }
  return MasksBySmallestScore(covered_, scores, options.sparsity, options.scope);
}

}  // namespace psg::prune
