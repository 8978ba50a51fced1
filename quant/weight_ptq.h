// Post-training quantization of a model's weights, in place: each tensor the
// coverage policy selects (compression/coverage.h: every convolution, first/last
// layer at 8 bits when b < 4, BN never) is replaced by its fake-quantized
// value, with the grid's range from a weight calibrator. The released
// evaluation protocol is the default: per tensor, restricted symmetric range
// from the exact max-abs, half-to-even rounding.
//
//   engine::WeightSnapshot fp(params);              // to undo afterwards
//   std::vector<LayerError> errors = QuantizeWeights(params, {.bits = 4});
//   ... evaluate ...
//   fp.Restore();
#ifndef PSG_QUANT_WEIGHT_PTQ_H_
#define PSG_QUANT_WEIGHT_PTQ_H_

#include <string>
#include <vector>

#include "compression/coverage.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "quant/quantizer.h"

namespace psg::quant {

enum class WeightCalibrator {
  kExact,       // the exact range (max |w| is a level)
  kPercentile,  // PercentileObserver at `percentile`
  kMse,         // MseObserver: the clip minimizing ||W - Q(W)||^2
};
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<WeightCalibrator> kWeightCalibratorNames[] = {
    {"exact", WeightCalibrator::kExact},
    {"percentile", WeightCalibrator::kPercentile},
    {"mse", WeightCalibrator::kMse}};
PSG_ENUM_FLAG(WeightCalibrator, kWeightCalibratorNames)

struct WeightPtqOptions {
  // Grid, granularity and rounding; `spec.bits` is the target bit-width, which
  // the coverage policy may widen for the first/last layer.
  QuantizerSpec spec = {.bits = 4};
  compression::CoverageOptions coverage;  // its `bits` is overridden by spec.bits
  WeightCalibrator calibrator = WeightCalibrator::kExact;
  double percentile = 99.99;
  // Outlier channel splitting (quant/ocs.h) of every covered tensor with
  // input channels, ceil(ratio * in_channels) splits each; 0: off.
  double ocs_expand_ratio = 0.0;
};

// One quantized tensor: its name, bit-width and mean squared error.
struct LayerError {
  std::string name;
  int bits = 0;
  int64_t size = 0;
  double mse = 0;
};

// The quantizer of one covered tensor, its grids calibrated on its values.
struct WeightQuantizer {
  engine::Parameter* param = nullptr;
  TensorQuantizer quantizer;  // quantizer.spec().bits: the bit-width after coverage
};

// The quantizers QuantizeWeights applies, one per covered tensor of `params`,
// in order: what an exporter needs to write integer weights and their scales.
// Throws std::invalid_argument with outlier channel splitting on (its weights
// are sums of split copies' levels, no single grid's).
std::vector<WeightQuantizer> PlanWeightQuantization(const engine::ParameterList& params,
                                                    const WeightPtqOptions& options);

// Quantizes the covered values of `params` in place; returns one entry per
// quantized tensor, in order.
std::vector<LayerError> QuantizeWeights(const engine::ParameterList& params,
                                        const WeightPtqOptions& options);

}  // namespace psg::quant

#endif  // PSG_QUANT_WEIGHT_PTQ_H_
