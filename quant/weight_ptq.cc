#include "quant/weight_ptq.h"

#include <utility>

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
                                  spec.range == compression::GridRange::kAsymmetric
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

// The covered tensors of `params` with their grids' specs (bits after coverage).
std::vector<std::pair<engine::Parameter*, QuantizerSpec>> CoveredTensors(const engine::ParameterList& params,
                                                                         const WeightPtqOptions& options) {
  compression::CoverageOptions coverage_options = options.coverage;
  coverage_options.bits = options.spec.bits;
  const std::vector<compression::Coverage> coverage = compression::ResolveCoverage(params, coverage_options);
  std::vector<std::pair<engine::Parameter*, QuantizerSpec>> out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!coverage[i].covered) continue;
    QuantizerSpec spec = options.spec;
    spec.bits = coverage[i].bits;
    out.push_back({params[i], spec});
  }
  return out;
}

TensorQuantizer Calibrated(const WeightPtqOptions& options, const QuantizerSpec& spec,
                           absl::Span<const int64_t> dims, absl::Span<const float> w) {
  const RowRanges ranges = CalibratedRanges(options, spec, dims, w);
  return TensorQuantizer::FromRanges(spec, dims, ranges.low, ranges.high);
}

}  // namespace

std::vector<WeightQuantizer> PlanWeightQuantization(const engine::ParameterList& params,
                                                    const WeightPtqOptions& options) {
  PSG_CHECK(options.ocs_expand_ratio == 0, "PlanWeightQuantization: outlier channel splitting (ratio ",
            options.ocs_expand_ratio, ") sums quantized copies back, so the weights are no grid's levels");
  std::vector<WeightQuantizer> plan;
  for (const auto& [p, spec] : CoveredTensors(params, options)) {
    plan.push_back({p, Calibrated(options, spec, p->value.dims(), p->value.flat())});
  }
  return plan;
}

std::vector<LayerError> QuantizeWeights(const engine::ParameterList& params,
                                        const WeightPtqOptions& options) {
  std::vector<LayerError> errors;
  std::vector<float> quantized;
  for (const auto& [p, spec] : CoveredTensors(params, options)) {
    const engine::Dims& dims = p->value.dims();
    const absl::Span<float> w = p->value.flat();
    quantized.resize(w.size());
    if (options.ocs_expand_ratio > 0 && dims.size() >= 2) {
      // Quantize the split tensor, then sum each channel's copies back.
      const ChannelSplit plan = PlanOutlierSplits(dims, w, OcsSplitCount(dims[1], options.ocs_expand_ratio));
      const std::vector<int64_t> expanded_dims = ExpandedDims(dims, plan);
      std::vector<float> expanded = ExpandChannels(dims, w, plan);
      Calibrated(options, spec, expanded_dims, expanded).FakeQuantize(expanded, absl::MakeSpan(expanded));
      MergeChannels(dims, expanded, plan, absl::MakeSpan(quantized));
    } else {
      Calibrated(options, spec, dims, w).FakeQuantize(w, absl::MakeSpan(quantized));
    }
    double sum = 0;
    for (size_t j = 0; j < w.size(); ++j) {
      const double d = double{w[j]} - quantized[j];
      sum += d * d;
    }
    std::copy(quantized.begin(), quantized.end(), w.begin());
    errors.push_back({p->name, spec.bits, static_cast<int64_t>(w.size()), sum / w.size()});
  }
  return errors;
}

}  // namespace psg::quant
