#include "experiments/model_loading.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "train/training_state.h"

namespace psg::experiments {

absl::StatusOr<models::ShortcutKind> ParseShortcut(const std::string& name) {
  if (name == "projection") return models::ShortcutKind::kProjection;
  if (name == "zeropad") return models::ShortcutKind::kZeroPad;
  return absl::InvalidArgumentError(
      absl::StrCat("--shortcut must be projection or zeropad, got '", name, "'"));
}

absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               uint64_t seed) {
  std::unique_ptr<engine::Sequential> model;
  try {
    model = models::BuildModel(options);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  models::InitializeParameters(*model, seed);
  if (checkpoint.empty()) return model;
  engine::ParameterList params;
  model->CollectParameters(&params);
  absl::StatusOr<train::RunPosition> loaded = train::LoadTrainingState(checkpoint, params, nullptr);
  if (!loaded.ok()) return loaded.status();
  return model;
}

}  // namespace psg::experiments
