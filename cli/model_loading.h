// Building a zoo model from the experiments' flags and loading a checkpoint's
// parameters into it, shared by the entry points (train, ptq, prune_sweep,
// int8_eval, structured_prune). A checkpoint must hold the model asked for
// (the model it records is compared) and only finite values, unless
// --allow_nonfinite_checkpoint (to look at a diverged run's weights).
//
//   absl::StatusOr<models::ShortcutKind> shortcut = ParseShortcut("projection");
//   absl::Status fits = CheckModelFitsData({.name = "resnet20"}, *data->test);
//   auto model = LoadModel({.name = "resnet20", .num_classes = 10}, "run/last.safetensors");
#ifndef PSG_CLI_MODEL_LOADING_H_
#define PSG_CLI_MODEL_LOADING_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "engine/sequential.h"
#include "models/zoo.h"
#include "train/training_state.h"

ABSL_DECLARE_FLAG(bool, allow_nonfinite_checkpoint);

namespace psg::cli {

// "projection" or "zeropad" (the --shortcut flag).
absl::StatusOr<models::ShortcutKind> ParseShortcut(const std::string& name);

// The checks of a checkpoint about to be loaded into `model`: its recorded
// model, and its values finite unless --allow_nonfinite_checkpoint.
train::LoadOptions CheckpointChecks(const std::string& model);

// InvalidArgument naming both shapes and the models that fit when `data`'s
// images are not an input the model `options.name` takes: its InputDims, or
// square images of any size with those channels for models::TakesAnyImageSize
// (e.g. resnet20 on Fashion-MNIST used to fail at the first forward pass with
// "Conv2d 'conv1': expected 3 input channels"; resnet18 on CIFAR is fine).
absl::Status CheckModelFitsData(const models::ModelOptions& options, const data::Dataset& data);

// The model, initialized with `seed`, then (unless `checkpoint` is empty)
// every parameter read from the checkpoint (train/training_state.h) after
// CheckpointChecks(options.name).
absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               uint64_t seed = 1);

}  // namespace psg::cli

#endif  // PSG_CLI_MODEL_LOADING_H_
