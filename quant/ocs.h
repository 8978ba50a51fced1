// Outlier channel splitting (OCS; Zhao et al. 2019, "Improving Neural Network
// Quantization without Retraining using Outlier Channel Splitting"), a
// post-training baseline of the PSG paper, for weights. Splitting input
// channel c of a layer duplicates it with both copies halved, and the layer
// before duplicates its output channel c: the network computes the same
// function while the largest |w| halves, so the grid gets finer. OCS splits,
// one at a time, the copy holding the layer's largest |w|, until the layer has
// ceil(expand_ratio * in_channels) more input channels.
//
// Simulated here without changing the network: the expanded weight tensor is
// quantized as any other (same grid rules and calibrators), then the copies'
// quantized values are summed back into the original shape, which is what the
// expanded network computes.
//
//   const ChannelSplit plan = PlanOutlierSplits(dims, w, OcsSplitCount(dims[1], 0.05));
//   std::vector<float> expanded = ExpandChannels(dims, w, plan);
//   ... fake-quantize `expanded` (dims ExpandedDims(dims, plan)) ...
//   MergeChannels(dims, expanded, plan, absl::MakeSpan(w_quantized));
#ifndef PSG_QUANT_OCS_H_
#define PSG_QUANT_OCS_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace psg::quant {

// The copies of a layer's input channels after splitting: copy k reads input
// channel `channel[k]` with its weights times `scale[k]` (a power of 1/2).
struct ChannelSplit {
  std::vector<int64_t> channel;
  std::vector<float> scale;
};

// ceil(expand_ratio * in_channels); throws std::invalid_argument unless
// 0 <= expand_ratio <= 1.
int64_t OcsSplitCount(int64_t in_channels, double expand_ratio);

// `splits` splits of the weights `w` of shape `dims` (out, in, spatial...),
// each of the copy holding the largest |w| (ties: the lowest copy).
ChannelSplit PlanOutlierSplits(absl::Span<const int64_t> dims, absl::Span<const float> w, int64_t splits);

// The expanded tensor's shape: (out, copies, spatial...).
std::vector<int64_t> ExpandedDims(absl::Span<const int64_t> dims, const ChannelSplit& plan);
// The expanded weights, row-major in ExpandedDims.
std::vector<float> ExpandChannels(absl::Span<const int64_t> dims, absl::Span<const float> w,
                                  const ChannelSplit& plan);
// The sum of each input channel's copies of `expanded`, in the original shape.
void MergeChannels(absl::Span<const int64_t> dims, absl::Span<const float> expanded,
                   const ChannelSplit& plan, absl::Span<float> out);

}  // namespace psg::quant

#endif  // PSG_QUANT_OCS_H_
