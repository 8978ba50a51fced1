// The post-training quantization flags that //experiments:ptq and
// //experiments:export_onnx share, defined once here, and what they parse to:
//
//   --act_bits=|N|same        activation bits on every ReLU output (empty: none)
//   --granularity=tensor|channel  --range=restricted|full|asymmetric
//   --rounding=half_even|half_away  --calibrator=exact|percentile|mse  --percentile=99.99
//   --ocs_expand_ratio=0  --first_last --widen_first_last
//   --calibration_batches=8  --act_range=ema|max|bn  --act_range_momentum=0.1  --act_clip_n=6
//
//   absl::StatusOr<quant::WeightPtqOptions> wo = WeightPtqOptionsFromFlags();
//   absl::StatusOr<int> bits = ParseBitWidth("bits", "4");
//   absl::StatusOr<int> act = ActBitsFromFlag(*bits);   // 0: activations stay fp32
//   absl::StatusOr<ActRange> rule = ActRangeFromFlags();
#ifndef PSG_CLI_PTQ_FLAGS_H_
#define PSG_CLI_PTQ_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "flags/enum_flag.h"
#include "flags/ranges.h"
#include "pipeline/ptq_network.h"
#include "quant/weight_ptq.h"
#include "train/batches.h"

namespace psg::cli {

// --granularity: one weight grid per tensor or per output channel.
enum class Granularity { kTensor, kChannel };
inline constexpr flags::EnumName<Granularity> kGranularityNames[] = {{"tensor", Granularity::kTensor},
                                                                     {"channel", Granularity::kChannel}};
PSG_ENUM_FLAG(Granularity, kGranularityNames)

}  // namespace psg::cli

ABSL_DECLARE_FLAG(std::string, act_bits);
ABSL_DECLARE_FLAG(psg::cli::Granularity, granularity);
ABSL_DECLARE_FLAG(psg::compression::GridRange, range);
ABSL_DECLARE_FLAG(psg::quant::Rounding, rounding);
ABSL_DECLARE_FLAG(psg::quant::WeightCalibrator, calibrator);
ABSL_DECLARE_FLAG(double, percentile);
ABSL_DECLARE_FLAG(double, ocs_expand_ratio);
ABSL_DECLARE_FLAG(bool, first_last);
ABSL_DECLARE_FLAG(bool, widen_first_last);
ABSL_DECLARE_FLAG(int, calibration_batches);
ABSL_DECLARE_FLAG(psg::pipeline::ActRange::Kind, act_range);
ABSL_DECLARE_FLAG(double, act_range_momentum);
ABSL_DECLARE_FLAG(double, act_clip_n);

namespace psg::cli {

// The weight and activation bit-widths ptq and the export take.
inline const flags::Range kBitWidths = flags::Between(2, 8);

// An integer bit-width in kBitWidths; the error names --<flag>.
absl::StatusOr<int> ParseBitWidth(const std::string& flag, const std::string& text);

// --act_bits for weights of `weight_bits`: 0 when empty, weight_bits for
// 'same', else the bit-width given.
absl::StatusOr<int> ActBitsFromFlag(int weight_bits);

// The numeric flags here have declared ranges (flags/ranges.h), checked at
// start-up by RunCommand.

// The weight grid, granularity, rounding, calibrator, outlier channel
// splitting and layer coverage of the flags; spec.bits is left for the caller.
absl::StatusOr<quant::WeightPtqOptions> WeightPtqOptionsFromFlags();

// How the activation ranges are set: --act_range and its parameters.
absl::StatusOr<pipeline::ActRange> ActRangeFromFlags();

// The activation calibration pass: --calibration_batches batches of --batch_size.
train::BatchPass CalibrationPassFromFlags();

}  // namespace psg::cli

#endif  // PSG_CLI_PTQ_FLAGS_H_
