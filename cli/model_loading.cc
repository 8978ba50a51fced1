#include "cli/model_loading.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "pipeline/model_loading.h"

ABSL_FLAG(bool, allow_nonfinite_checkpoint, false,
          "load a checkpoint holding NaN or infinite values (to look at a diverged run's weights; "
          "training from them stops at the first step)");

namespace psg::cli {

train::LoadOptions CheckpointChecks(const std::string& model) {
  return {.allow_nonfinite = absl::GetFlag(FLAGS_allow_nonfinite_checkpoint), .model = model};
}

absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               uint64_t seed) {
  return pipeline::LoadModel(options, checkpoint, CheckpointChecks(options.name), seed);
}

}  // namespace psg::cli
