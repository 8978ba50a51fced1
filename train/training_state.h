// Saving and restoring everything a training run needs to continue exactly:
// model parameters and BN statistics (by name), optimizer state, and where
// the run stood (epoch, batch within the epoch, optimizer step, seed), in the
// toolkit's checkpoint format (docs/checkpoint-format.md). Files are written
// atomically, so a crash leaves the previous checkpoint intact.
//
//   RunPosition pos{.epoch = 3, .batch = 0, .step = 1170, .seed = 1};
//   absl::Status s = SaveTrainingState(path, params, &sgd, pos, {{"flags", json}});
//   absl::StatusOr<RunPosition> at = LoadTrainingState(path, params, &sgd);
#ifndef PSG_TRAIN_TRAINING_STATE_H_
#define PSG_TRAIN_TRAINING_STATE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/optimizer.h"
#include "engine/parameter.h"

namespace psg::train {

// The loader's batches depend only on (seed, epoch, batch), so these four
// numbers are the whole random state of a run.
struct RunPosition {
  int64_t epoch = 0;  // epoch to continue with
  int64_t batch = 0;  // first batch of that epoch not yet trained
  int64_t step = 0;   // optimizer steps taken
  uint64_t seed = 0;
};

absl::Status SaveTrainingState(const std::string& path, const engine::ParameterList& params,
                               engine::Optimizer* optimizer, const RunPosition& position,
                               const std::map<std::string, std::string>& metadata);

// Restores every parameter (and the optimizer state when `optimizer` is not
// null); a missing tensor or a shape mismatch is an error naming it.
absl::StatusOr<RunPosition> LoadTrainingState(const std::string& path,
                                              const engine::ParameterList& params,
                                              engine::Optimizer* optimizer);

}  // namespace psg::train

#endif  // PSG_TRAIN_TRAINING_STATE_H_
