// The model of post-training quantization, as //experiments:ptq evaluates it
// and //experiments:export_onnx writes it: a zoo model read from a
// checkpoint, with (act_bits > 0) a FakeQuantActivation on every ReLU output
// whose range an ActRange rule sets: the released running max or the exact
// max over the calibration batches (eval mode, the weights still in floating
// point), or the batch-norm rule (no data). With `dfq` the weights first go
// through data-free quantization's folding, equalization and bias absorption
// (quant/dfq.h); its bias correction then follows each QuantizeWeights.
//
//   auto net = LoadPtqNetwork(options, "run/last.safetensors", {.model = options.name}, /*act_bits=*/8, {},
//                             *data->train_unaugmented, CalibrationPassFromFlags());
//   quant::QuantizeWeights(net->params, weight_options);   // then evaluate
#ifndef PSG_PIPELINE_PTQ_NETWORK_H_
#define PSG_PIPELINE_PTQ_NETWORK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "compression/released_defaults.h"
#include "data/dataset.h"
#include "engine/parameter.h"
#include "engine/sequential.h"
#include "flags/enum_flag.h"
#include "models/zoo.h"
#include "quant/activation_quant.h"
#include "quant/dfq.h"
#include "train/batches.h"
#include "train/training_state.h"

namespace psg::pipeline {

// How the activation ranges are set (--act_range).
struct ActRange {
  enum Kind { kRunningMax, kMax, kBatchNorm } kind = kRunningMax;
  float momentum = static_cast<float>(compression::kReleasedRangeMomentum);  // kRunningMax
  // kBatchNorm: max_c beta_c + n gamma_c of the BN before the ReLU.
  float n = static_cast<float>(compression::kReleasedBnRangeN);
  // > 0: each activation quantizer also keeps this many samples of each
  // calibration batch (for LAPQ's clip search); the pass then always runs.
  int64_t samples_per_batch = 0;
};
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<ActRange::Kind> kActRangeNames[] = {
    {"ema", ActRange::kRunningMax}, {"max", ActRange::kMax}, {"bn", ActRange::kBatchNorm}};
PSG_ENUM_FLAG(ActRange::Kind, kActRangeNames)

struct PtqNetwork {
  std::unique_ptr<engine::Sequential> model;
  engine::ParameterList params;
  std::vector<quant::FakeQuantActivation*> activations;  // owned by `model`
  std::unique_ptr<quant::DataFreeQuantization> dfq;      // set when asked for
};

absl::StatusOr<PtqNetwork> LoadPtqNetwork(models::ModelOptions options, const std::string& checkpoint,
                                          const train::LoadOptions& checks,
                                          int act_bits, const ActRange& rule, const data::Dataset& calibration,
                                          const train::BatchPass& pass,
                                          const quant::DfqOptions* dfq = nullptr);

}  // namespace psg::pipeline

#endif  // PSG_PIPELINE_PTQ_NETWORK_H_
