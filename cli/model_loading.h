// The checks on a checkpoint a command loads, from the flags: it must hold the
// model asked for (the model it records is compared) and only finite values,
// unless --allow_nonfinite_checkpoint (to look at a diverged run's weights).
// Shared by the commands (train, ptq, prune_sweep, int8_eval, structured_prune).
//
//   auto model = LoadModel({.name = "resnet20", .num_classes = 10}, "run/last.safetensors");
#ifndef PSG_CLI_MODEL_LOADING_H_
#define PSG_CLI_MODEL_LOADING_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "engine/sequential.h"
#include "models/zoo.h"
#include "train/training_state.h"

ABSL_DECLARE_FLAG(bool, allow_nonfinite_checkpoint);

namespace psg::cli {

// The checks of a checkpoint about to be loaded into `model`: its recorded
// model, and its values finite unless --allow_nonfinite_checkpoint.
train::LoadOptions CheckpointChecks(const std::string& model);

// pipeline::LoadModel (pipeline/model_loading.h) with
// CheckpointChecks(options.name).
absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               uint64_t seed = 1);

}  // namespace psg::cli

#endif  // PSG_CLI_MODEL_LOADING_H_
