#include "prune/magnitude.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compression/coverage.h"
#include "engine/check.h"
#include "engine/context.h"

namespace psg::prune {
namespace {

// m = 1 where key >= threshold, 0 below; returns how many are below.
int64_t MaskBelow(const uint32_t* __restrict keys, uint32_t threshold, float* __restrict m, size_t n) {
  int64_t below = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool keep = keys[i] >= threshold;
    m[i] = keep ? 1.0f : 0.0f;
    below += keep ? 0 : 1;
  }
  return below;
}

int64_t PrunedCount(double sparsity, int64_t n) {
  return std::min<int64_t>(n, std::llround(sparsity * static_cast<double>(n)));
}

}  // namespace

void MagnitudeKeys(absl::Span<const float> v, uint32_t* __restrict keys) {
  const float* __restrict vp = v.data();
  const size_t n = v.size();
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, vp + i, sizeof bits);
    keys[i] = bits & 0x7fffffffu;
  }
}

namespace {

// MagnitudeKeys of all `values`, one after the other.
std::vector<uint32_t> ConcatenatedKeys(const std::vector<absl::Span<const float>>& values) {
  size_t n = 0;
  for (const absl::Span<const float>& v : values) n += v.size();
  std::vector<uint32_t> keys(n);
  size_t offset = 0;
  for (const absl::Span<const float>& v : values) {
    MagnitudeKeys(v, keys.data() + offset);
    offset += v.size();
  }
  return keys;
}

}  // namespace

const char* ScopeName(Scope scope) {
  for (const auto& [name, value] : kScopeNames) {
    if (value == scope) return name.data();  // the names are literals: terminated
  }
  return "layer";
}

void CheckSparsity(double sparsity) {
  PSG_CHECK(!std::isnan(sparsity), "pruning: sparsity is NaN");
  PSG_CHECK(sparsity >= 0.0 && sparsity < 1.0, "pruning: sparsity must be in [0, 1), got ", sparsity);
}

engine::ParameterList PrunableParameters(const engine::ParameterList& params, bool prune_first_last) {
  const std::vector<compression::Coverage> coverage = compression::ResolveCoverage(
      params, {.cover_first_last = prune_first_last, .cover_conv_bias = false});
  engine::ParameterList covered;
  for (size_t i = 0; i < params.size(); ++i) {
    const engine::ParamKind kind = params[i]->kind;
    if (coverage[i].covered && (kind == engine::ParamKind::kConvWeight || kind == engine::ParamKind::kFcWeight)) {
      covered.push_back(params[i]);
    }
  }
  return covered;
}

void SelectSmallest(const std::vector<absl::Span<const float>>& values, int64_t k,
                    const std::vector<absl::Span<float>>& masks) {
  PSG_CHECK(values.size() == masks.size(), "SelectSmallest: ", values.size(), " value spans but ",
            masks.size(), " masks");
  for (size_t t = 0; t < values.size(); ++t) {
    PSG_CHECK(values[t].size() == masks[t].size(), "SelectSmallest: tensor ", t, " has ", values[t].size(),
              " values but a mask of ", masks[t].size());
  }
  SelectSmallestKeys(ConcatenatedKeys(values), k, masks);
}

void SelectSmallestKeys(absl::Span<const uint32_t> keys, int64_t k, const std::vector<absl::Span<float>>& masks) {
  int64_t mask_total = 0;
  for (const absl::Span<float>& m : masks) mask_total += static_cast<int64_t>(m.size());
  const int64_t n = static_cast<int64_t>(keys.size());
  PSG_CHECK(mask_total == n, "SelectSmallestKeys: ", n, " keys but masks of ", mask_total, " entries");
  PSG_CHECK(k >= 0 && k <= n, "SelectSmallest: k = ", k, " outside [0, ", n, "]");
  // The k-th smallest key: everything below it is pruned, and of the keys
  // equal to it the first (k - below) in position order.
  uint32_t threshold = 0;
  if (k == n) {
    threshold = 0xffffffffu;  // above every magnitude key: all pruned
  } else {
    std::vector<uint32_t> scratch(keys.begin(), keys.end());
    std::nth_element(scratch.begin(), scratch.begin() + k, scratch.end());
    threshold = scratch[k];  // the smallest kept key
  }
  int64_t below = 0;
  int64_t offset = 0;
  for (size_t t = 0; t < masks.size(); ++t) {
    below += MaskBelow(keys.data() + offset, threshold, masks[t].data(), masks[t].size());
    offset += static_cast<int64_t>(masks[t].size());
  }
  int64_t ties = k - below;  // keys equal to the threshold still to prune
  offset = 0;
  for (size_t t = 0; t < masks.size() && ties > 0; ++t) {
    const uint32_t* key = keys.data() + offset;
    for (size_t i = 0; i < masks[t].size() && ties > 0; ++i) {
      if (key[i] == threshold) {
        masks[t][i] = 0.0f;
        --ties;
      }
    }
    offset += static_cast<int64_t>(masks[t].size());
  }
}

void MaskSmallestKeys(absl::Span<const uint32_t> keys, double sparsity, Scope scope,
                      const std::vector<absl::Span<float>>& masks) {
  CheckSparsity(sparsity);
  if (scope == Scope::kGlobal) {
    SelectSmallestKeys(keys, PrunedCount(sparsity, static_cast<int64_t>(keys.size())), masks);
    return;
  }
  size_t offset = 0;
  for (const absl::Span<float>& m : masks) {
    PSG_CHECK(offset + m.size() <= keys.size(), "MaskSmallestKeys: fewer keys than mask entries");
    SelectSmallestKeys(keys.subspan(offset, m.size()), PrunedCount(sparsity, static_cast<int64_t>(m.size())), {m});
    offset += m.size();
  }
  PSG_CHECK(offset == keys.size(), "MaskSmallestKeys: ", keys.size(), " keys but masks of ", offset, " entries");
}

MaskSet MasksBySmallestScore(const engine::ParameterList& covered,
                             const std::vector<absl::Span<const float>>& scores, double sparsity, Scope scope) {
  PSG_CHECK(covered.size() == scores.size(), "pruning: ", covered.size(), " tensors but ", scores.size(),
            " score spans");
  MaskSet masks;
  std::vector<absl::Span<float>> mask_spans;
  for (size_t t = 0; t < covered.size(); ++t) {
    PSG_CHECK(scores[t].size() == static_cast<size_t>(covered[t]->value.numel()), "pruning: '",
              covered[t]->name, "' has ", covered[t]->value.numel(), " weights but ", scores[t].size(), " scores");
    mask_spans.push_back(masks.Add(covered[t]));
  }
  MaskSmallestKeys(ConcatenatedKeys(scores), sparsity, scope, mask_spans);
  return masks;
}

MaskSet MagnitudeMasks(const engine::ParameterList& params, const MagnitudeOptions& options) {
  CheckSparsity(options.sparsity);
  engine::Stream().wait();
  const engine::ParameterList covered = PrunableParameters(params, options.prune_first_last);
  std::vector<absl::Span<const float>> values;
  for (engine::Parameter* p : covered) values.push_back(p->value.flat());
  return MasksBySmallestScore(covered, values, options.sparsity, options.scope);
}

std::vector<LayerSparsity> PruneByMagnitude(const engine::ParameterList& params,
                                            const MagnitudeOptions& options) {
  const MaskSet masks = MagnitudeMasks(params, options);
  masks.Apply();
  return masks.Report();
}

}  // namespace psg::prune
