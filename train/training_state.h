// Saving and restoring everything a training run needs to continue exactly:
// model parameters and BN statistics (by name), optimizer state, and where
// the run stood (epoch, batch within the epoch, optimizer step, seed), in the
// toolkit's checkpoint format (docs/checkpoint-format.md). Files are written
// atomically, so a crash leaves the previous checkpoint intact, and never
// hold a NaN or an infinity: saving one is an error naming the tensor, and
// so is loading one (unless LoadOptions::allow_nonfinite, for forensics).
//
//   RunPosition pos{.epoch = 3, .batch = 0, .step = 1170, .seed = 1};
//   absl::Status s = SaveTrainingState(path, params, &sgd, pos, {{"model", "resnet20"}});
//   absl::StatusOr<RunPosition> at = LoadTrainingState(path, params, &sgd, {.model = "resnet20"});
#ifndef PSG_TRAIN_TRAINING_STATE_H_
#define PSG_TRAIN_TRAINING_STATE_H_

#include <cstdint>
#include <functional>
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
  // First batch of that epoch not yet trained; the epoch's batch count when
  // all are trained but its end (evaluation, metrics line) is still to do.
  int64_t batch = 0;
  int64_t step = 0;   // optimizer steps taken
  uint64_t seed = 0;
};

// Metadata keys a checkpoint may record (besides the caller's own).
inline constexpr char kModelMetadata[] = "model";  // models::ModelOptions::name
// JSON object {"setting": "value"} of the settings a saved position means
// something under (batch size, learning-rate schedule, ...): see LoadOptions.
inline constexpr char kResumeInvariantsMetadata[] = "resume_invariants";

// FailedPrecondition naming the tensor, element and path if a value to save
// is NaN or infinite; nothing is written then (the last good file stays).
absl::Status SaveTrainingState(const std::string& path, const engine::ParameterList& params,
                               engine::Optimizer* optimizer, const RunPosition& position,
                               const std::map<std::string, std::string>& metadata);

struct LoadOptions {
  // Accept NaN and infinite values (to look at a diverged run's weights);
  // otherwise the first one is an error naming the tensor and the file.
  bool allow_nonfinite = false;
  // The model the checkpoint must hold, compared with the one it records
  // (kModelMetadata, or "model" in its "flags" metadata); empty: not checked.
  std::string model;
  // Resuming: the settings the position is read under, each compared with
  // the checkpoint's record of it (kResumeInvariantsMetadata). Keys are flag
  // names, so the error can say which flag to pass.
  std::map<std::string, std::string> invariants;
};

// Restores every parameter (and the optimizer state when `optimizer` is not
// null); a missing tensor or a shape mismatch is an error naming it. Checks
// `options` first, so nothing is restored from a checkpoint that fails them.
absl::StatusOr<RunPosition> LoadTrainingState(const std::string& path,
                                              const engine::ParameterList& params,
                                              engine::Optimizer* optimizer,
                                              const LoadOptions& options = {});

// Restores only `optimizer`'s state tensors and step count, from a checkpoint
// of another run: the released PSG-Adam starts from an Adam-trained model with
// its Adam moments (the weights come from LoadTrainingState with no
// optimizer). A state tensor for which `may_be_absent(name)` holds and that
// the checkpoint lacks keeps its value (e.g. PSGD's grid ranges, NaN until
// first observed); any other missing tensor is a NotFound error naming it and
// the checkpoint, so a model trained by another optimizer cannot silently
// start with zero moments. Returns the number of tensors restored.
absl::StatusOr<int> LoadOptimizerState(const std::string& path, engine::Optimizer& optimizer,
                                       const std::function<bool(const std::string&)>& may_be_absent);

}  // namespace psg::train

#endif  // PSG_TRAIN_TRAINING_STATE_H_
