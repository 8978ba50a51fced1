#include "quant/ocs.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/check.h"

namespace psg::quant {
namespace {

struct Shape {
  int64_t out = 0, in = 0, spatial = 1;
};

Shape ShapeOf(absl::Span<const int64_t> dims, size_t size) {
  PSG_CHECK(dims.size() >= 2, "OCS: weights need (out, in, ...) dims, got ", dims.size(), " dims");
  Shape s{dims[0], dims[1], 1};
  for (size_t d = 2; d < dims.size(); ++d) s.spatial *= dims[d];
  PSG_CHECK(static_cast<size_t>(s.out * s.in * s.spatial) == size, "OCS: ", size,
            " weights do not fill the dims");
  return s;
}

}  // namespace

int64_t OcsSplitCount(int64_t in_channels, double expand_ratio) {
  if (!(expand_ratio >= 0 && expand_ratio <= 1)) {
    throw std::invalid_argument("OCS: expand ratio must be in [0, 1], got " + std::to_string(expand_ratio));
  }
  return static_cast<int64_t>(std::ceil(expand_ratio * in_channels));
}

ChannelSplit PlanOutlierSplits(absl::Span<const int64_t> dims, absl::Span<const float> w, int64_t splits) {
  const Shape s = ShapeOf(dims, w.size());
  // The largest |w| of each input channel, over every output row and position.
  std::vector<float> channel_max(s.in, 0.0f);
  for (int64_t o = 0; o < s.out; ++o) {
    for (int64_t c = 0; c < s.in; ++c) {
      for (int64_t k = 0; k < s.spatial; ++k) {
        channel_max[c] = std::max(channel_max[c], std::abs(w[(o * s.in + c) * s.spatial + k]));
      }
    }
  }
  ChannelSplit plan;
  for (int64_t c = 0; c < s.in; ++c) {
    plan.channel.push_back(c);
    plan.scale.push_back(1.0f);
  }
  for (int64_t split = 0; split < splits; ++split) {
    size_t largest = 0;
    for (size_t k = 1; k < plan.channel.size(); ++k) {
      if (channel_max[plan.channel[k]] * plan.scale[k] >
          channel_max[plan.channel[largest]] * plan.scale[largest]) {
        largest = k;
      }
    }
    plan.scale[largest] *= 0.5f;
    plan.channel.push_back(plan.channel[largest]);
    plan.scale.push_back(plan.scale[largest]);
  }
  return plan;
}

std::vector<int64_t> ExpandedDims(absl::Span<const int64_t> dims, const ChannelSplit& plan) {
  std::vector<int64_t> expanded(dims.begin(), dims.end());
  expanded[1] = static_cast<int64_t>(plan.channel.size());
  return expanded;
}

std::vector<float> ExpandChannels(absl::Span<const int64_t> dims, absl::Span<const float> w,
                                  const ChannelSplit& plan) {
  const Shape s = ShapeOf(dims, w.size());
  const int64_t copies = static_cast<int64_t>(plan.channel.size());
  std::vector<float> expanded(s.out * copies * s.spatial);
  for (int64_t o = 0; o < s.out; ++o) {
    for (int64_t k = 0; k < copies; ++k) {
      const float* src = &w[(o * s.in + plan.channel[k]) * s.spatial];
      float* dst = &expanded[(o * copies + k) * s.spatial];
      for (int64_t p = 0; p < s.spatial; ++p) dst[p] = plan.scale[k] * src[p];
    }
  }
  return expanded;
}

void MergeChannels(absl::Span<const int64_t> dims, absl::Span<const float> expanded,
                   const ChannelSplit& plan, absl::Span<float> out) {
  const Shape s = ShapeOf(dims, out.size());
  const int64_t copies = static_cast<int64_t>(plan.channel.size());
  PSG_CHECK(expanded.size() == static_cast<size_t>(s.out * copies * s.spatial),
            "OCS: the expanded tensor does not match the plan");
  std::fill(out.begin(), out.end(), 0.0f);
  for (int64_t o = 0; o < s.out; ++o) {
    for (int64_t k = 0; k < copies; ++k) {
      const float* src = &expanded[(o * copies + k) * s.spatial];
      float* dst = &out[(o * s.in + plan.channel[k]) * s.spatial];
      for (int64_t p = 0; p < s.spatial; ++p) dst[p] += src[p];
    }
  }
}

}  // namespace psg::quant
