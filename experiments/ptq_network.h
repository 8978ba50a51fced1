// The model of post-training quantization, as //experiments:ptq evaluates it
// and //experiments:export_onnx writes it: a zoo model read from a
// checkpoint, with (act_bits > 0) a FakeQuantActivation on every ReLU output
// whose range an ActRange rule sets: the released running max or the exact
// max over the calibration batches (eval mode, the weights still in floating
// point), or the batch-norm rule (no data).
//
//   auto net = LoadPtqNetwork(options, "run/last.safetensors", /*act_bits=*/8, {},
//                             *data->train_unaugmented, CalibrationPassFromFlags());
//   quant::QuantizeWeights(net->params, weight_options);   // then evaluate
#ifndef PSG_EXPERIMENTS_PTQ_NETWORK_H_
#define PSG_EXPERIMENTS_PTQ_NETWORK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "engine/parameter.h"
#include "engine/sequential.h"
#include "models/zoo.h"
#include "train/batches.h"

namespace psg::experiments {

// How the activation ranges are set (--act_range).
struct ActRange {
  enum Kind { kRunningMax, kMax, kBatchNorm } kind = kRunningMax;
  float momentum = 0.1f;  // kRunningMax
  float n = 6.0f;         // kBatchNorm: max_c beta_c + n gamma_c of the BN before the ReLU
};

struct PtqNetwork {
  std::unique_ptr<engine::Sequential> model;
  engine::ParameterList params;
};

absl::StatusOr<PtqNetwork> LoadPtqNetwork(models::ModelOptions options, const std::string& checkpoint,
                                          int act_bits, const ActRange& rule, const data::Dataset& calibration,
                                          const train::BatchPass& pass);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_PTQ_NETWORK_H_
