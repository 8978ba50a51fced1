#include "quant/weight_ptq.h"

#include "engine/check.h"
#include "quant/observer.h"
#include "quant/ocs.h"

namespace psg::quant {
namespace {

RowRanges CalibratedRanges(const WeightPtqOptions& options, const QuantizerSpec& spec,
                           absl::Span<const int64_t> dims, absl::Span<const float> w) {
  switch (options.calibrator) {
    case WeightCalibrator::kExact:
      return ExactRanges(spec, dims, w);
    case WeightCalibrator::kPercentile: {
      PercentileObserver observer(spec, dims, options.percentile,
                                  spec.range == engine::GridRange::kAsymmetric
                                      ? PercentileOf::kValue
                                      : PercentileOf::kAbs);
      observer.Observe(w);
      return observer.Range();
    }
    case WeightCalibrator::kMse: {
      MseObserver observer(spec, dims);
      observer.Observe(w);
      return observer.Range();
    }
  }
  PSG_CHECK(false, "QuantizeWeights: unknown calibrator");
  return {};
}

}  // namespace

std::vector<LayerError> QuantizeWeights(const engine::ParameterList& params,
                                        const WeightPtqOptions& options) {
  engine::CoverageOptions coverage_options = options.coverage;
  coverage_options.bits = options.spec.bits;
  const std::vector<engine::Coverage> coverage = engine::ResolveCoverage(params, coverage_options);
  std::vector<LayerError> errors;
  std::vector<float> quantized;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!coverage[i].covered) continue;
    engine::Parameter& p = *params[i];
    QuantizerSpec spec = options.spec;
    spec.bits = coverage[i].bits;
    const engine::Dims& dims = p.value.dims();
    const absl::Span<float> w = p.value.flat();
    quantized.resize(w.size());
    if (options.ocs_expand_ratio > 0 && dims.size() >= 2) {
      // Quantize the split tensor, then sum each channel's copies back.
      const ChannelSplit plan = PlanOutlierSplits(dims, w, OcsSplitCount(dims[1], options.ocs_expand_ratio));
      const std::vector<int64_t> expanded_dims = ExpandedDims(dims, plan);
      std::vector<float> expanded = ExpandChannels(dims, w, plan);
      const RowRanges ranges = CalibratedRanges(options, spec, expanded_dims, expanded);
      TensorQuantizer::FromRanges(spec, expanded_dims, ranges.low, ranges.high)
          .FakeQuantize(expanded, absl::MakeSpan(expanded));
      MergeChannels(dims, expanded, plan, absl::MakeSpan(quantized));
    } else {
      const RowRanges ranges = CalibratedRanges(options, spec, dims, w);
      TensorQuantizer::FromRanges(spec, dims, ranges.low, ranges.high)
          .FakeQuantize(w, absl::MakeSpan(quantized));
    }
    double sum = 0;
    for (size_t j = 0; j < w.size(); ++j) {
      const double d = double{w[j]} - quantized[j];
      sum += d * d;
    }
    std::copy(quantized.begin(), quantized.end(), w.begin());
    errors.push_back({p.name, spec.bits, static_cast<int64_t>(w.size()), sum / w.size()});
  }
  return errors;
}

}  // namespace psg::quant
