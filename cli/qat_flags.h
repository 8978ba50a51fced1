// Quantization-aware training of a training binary from flags:
//
//   --qat=none|dorefa|pact|lsq  --qat_bits=4  --qat_act_bits=4 (0: weights only)
//
//   dorefa: DoReFa weights + DoReFa activations (clip to [0, 1], Zhou et al. 2016)
//   pact:   DoReFa weights + PACT activations (Choi et al. 2018, as that paper)
//   lsq:    LSQ weights + LSQ activations (Esser et al. 2020)
//
// Weights follow compression/coverage.h's policy at --qat_bits (first/last layers
// at 8 bits below 4 bits); activations are quantized after every ReLU.
//
//   absl::StatusOr<QatFromFlags> qat = ReadQatFlags();
//   model_options.activation_layer = qat->activation_layer;   // before BuildModel
//   auto weights = MakeWeightQuantizer(*qat, params);         // after loading weights
//   optimizer over TrainableOnly(params) + weights->parameters();
//   AttachWeightQuantizer(weights.get(), &trainer);
#ifndef PSG_CLI_QAT_FLAGS_H_
#define PSG_CLI_QAT_FLAGS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "io/json_writer.h"
#include "models/basic_block.h"
#include "quant/weight_qat.h"
#include "train/trainer.h"

namespace psg::cli {

// --qat: DoReFa weights and activations, DoReFa weights and PACT
// activations, or LSQ weights and activations.
enum class QatMethod { kNone, kDoReFa, kPact, kLsq };
inline constexpr flags::EnumName<QatMethod> kQatMethodNames[] = {{"none", QatMethod::kNone},
                                                                 {"dorefa", QatMethod::kDoReFa},
                                                                 {"pact", QatMethod::kPact},
                                                                 {"lsq", QatMethod::kLsq}};
PSG_ENUM_FLAG(QatMethod, kQatMethodNames)

struct QatFromFlags {
  QatMethod method = QatMethod::kNone;
  int bits = 4;
  int act_bits = 4;
  models::ActivationFactory activation_layer;  // null: no activation quantization
  std::string description;                     // one line for the log
  io::Json json;                               // the flags as a JSON object
};

absl::StatusOr<QatFromFlags> ReadQatFlags();

// The weight fake quantizer of `params` (the model's whole list), or null
// for --qat=none.
std::unique_ptr<quant::WeightFakeQuantizer> MakeWeightQuantizer(const QatFromFlags& qat,
                                                                const engine::ParameterList& params);

// Runs `weights` around the trainer's steps and evaluations and checkpoints
// its learned parameters; nothing for null.
void AttachWeightQuantizer(quant::WeightFakeQuantizer* weights, train::Trainer* trainer);

// `params` without the learned quantizer parameters (kActivationClip,
// kQuantStep): what a floating-point checkpoint holds, for --init_from.
engine::ParameterList WithoutQuantizerParameters(const engine::ParameterList& params);

}  // namespace psg::cli

#endif  // PSG_CLI_QAT_FLAGS_H_
