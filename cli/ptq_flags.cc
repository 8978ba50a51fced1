#include "cli/ptq_flags.h"

#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/common_flags.h"
#include "compression/released_defaults.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"

ABSL_FLAG(std::string, act_bits, "",
          "activation bit-width on every ReLU output: empty (weights only), N (2..8), or 'same' "
          "(as the weights)");
ABSL_FLAG(psg::cli::Granularity, granularity, psg::cli::Granularity::kTensor,
          "weight grids: tensor or channel (per output channel)");
ABSL_FLAG(psg::compression::GridRange, range, psg::compression::GridRange::kRestricted,
          "weight grid: restricted (-qmax..qmax), full, asymmetric");
ABSL_FLAG(psg::quant::Rounding, rounding, psg::quant::Rounding::kHalfEven,
          "half_even (torch.round) or half_away");
ABSL_FLAG(psg::quant::WeightCalibrator, calibrator, psg::quant::WeightCalibrator::kExact,
          "weight range: exact (max), percentile, mse");
ABSL_FLAG(double, percentile, 99.99, "percentile of |w| for --calibrator=percentile");
PSG_FLAG_RANGE(percentile, (psg::flags::Range{0, 100, true, false}));
ABSL_FLAG(double, ocs_expand_ratio, 0.0,
          "outlier channel splitting (Zhao et al. 2019) before rounding: ceil(ratio * in_channels) "
          "input channels split per layer, in [0, 1] (0: off; the OCS paper uses 0.01-0.1)");
PSG_FLAG_RANGE(ocs_expand_ratio, psg::flags::Between(0, 1));
ABSL_FLAG(bool, first_last, true, "quantize the first convolution and the last linear layer");
ABSL_FLAG(bool, widen_first_last, true, "first/last layer at 8 bits when bits < 4");
ABSL_FLAG(int, calibration_batches, 8, "training batches for the activation ranges");
PSG_FLAG_RANGE(calibration_batches, psg::flags::AtLeast(1));
ABSL_FLAG(psg::pipeline::ActRange::Kind, act_range, psg::pipeline::ActRange::kRunningMax,
          "activation range: ema (running max, first batch exact then momentum "
          "--act_range_momentum: the released code's), max (exact max over the calibration "
          "batches) or bn (max_c beta_c + n gamma_c of the batch norm before each ReLU, signed "
          "gamma as released; no data)");
ABSL_FLAG(double, act_range_momentum, psg::compression::kReleasedRangeMomentum,
          "--act_range=ema: the running max's momentum (released: 0.1)");
PSG_FLAG_RANGE(act_range_momentum, (psg::flags::Range{0, 1, true, false}));
ABSL_FLAG(double, act_clip_n, psg::compression::kReleasedBnRangeN,
          "--act_range=bn: n in beta + n gamma (released default: 6)");
PSG_FLAG_RANGE(act_clip_n, psg::flags::GreaterThan(0));

namespace psg::cli {

absl::StatusOr<int> ParseBitWidth(const std::string& flag, const std::string& text) {
  absl::StatusOr<std::vector<int>> bits = flags::ParseIntegers(flag, {text}, kBitWidths);
  if (!bits.ok()) return bits.status();
  return bits->front();
}

absl::StatusOr<int> ActBitsFromFlag(int weight_bits) {
  const std::string text = absl::GetFlag(FLAGS_act_bits);
  if (text.empty()) return 0;
  if (text == "same") return weight_bits;
  absl::StatusOr<int> bits = ParseBitWidth("act_bits", text);
  if (!bits.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(bits.status().message(), " (or 'same', or empty)"));
  }
  return bits;
}

absl::StatusOr<quant::WeightPtqOptions> WeightPtqOptionsFromFlags() {
  quant::WeightPtqOptions wo;
  wo.spec.per_channel = absl::GetFlag(FLAGS_granularity) == Granularity::kChannel;
  wo.spec.range = absl::GetFlag(FLAGS_range);
  wo.spec.rounding = absl::GetFlag(FLAGS_rounding);
  wo.calibrator = absl::GetFlag(FLAGS_calibrator);
  wo.percentile = absl::GetFlag(FLAGS_percentile);
  wo.ocs_expand_ratio = absl::GetFlag(FLAGS_ocs_expand_ratio);
  wo.coverage.cover_first_last = absl::GetFlag(FLAGS_first_last);
  wo.coverage.widen_first_last = absl::GetFlag(FLAGS_widen_first_last);
  return wo;
}

absl::StatusOr<pipeline::ActRange> ActRangeFromFlags() {
  return pipeline::ActRange{absl::GetFlag(FLAGS_act_range),
                            static_cast<float>(absl::GetFlag(FLAGS_act_range_momentum)),
                            static_cast<float>(absl::GetFlag(FLAGS_act_clip_n))};
}

train::BatchPass CalibrationPassFromFlags() {
  const int batch = absl::GetFlag(FLAGS_batch_size);
  return {batch, int64_t{absl::GetFlag(FLAGS_calibration_batches)} * batch, absl::GetFlag(FLAGS_workers)};
}

}  // namespace psg::cli
