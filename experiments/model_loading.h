// Building a zoo model from the experiments' flags and loading a checkpoint's
// parameters into it, shared by the entry points (train, int8_eval).
//
//   absl::StatusOr<models::ShortcutKind> shortcut = ParseShortcut("projection");
//   auto model = LoadModel({.name = "resnet20", .num_classes = 10}, "run/last.safetensors");
#ifndef PSG_EXPERIMENTS_MODEL_LOADING_H_
#define PSG_EXPERIMENTS_MODEL_LOADING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/sequential.h"
#include "models/zoo.h"

namespace psg::experiments {

// "projection" or "zeropad" (the --shortcut flag).
absl::StatusOr<models::ShortcutKind> ParseShortcut(const std::string& name);

// The model, initialized with `seed`, then (unless `checkpoint` is empty)
// every parameter read from the checkpoint (train/training_state.h).
absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               uint64_t seed = 1);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_MODEL_LOADING_H_
