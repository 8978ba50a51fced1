// The training loop: epochs of shuffled, augmented batches from a background
// loader, forward / loss / backward / optimizer step, evaluation after each
// epoch, a progress line (loss, accuracy, img/s, ETA), one JSON line of
// metrics per epoch, atomic checkpoints (every epoch and every N steps), exact
// resume from any checkpoint, and a clear stop on divergence: a non-finite
// loss, gradient or parameter (weights, BN statistics) ends the run at the
// step that produced it, naming the tensor, and the last good checkpoint is
// kept. SIGINT and SIGTERM (train/stop_signals.h) stop at the next step
// boundary with a checkpoint. See docs/reliability.md.
//
// Data-parallel (TrainerOptions::data_parallel, dist/data_parallel.h): every
// rank trains on its shard of each global batch of ranks x batch_size images
// and takes the same optimizer step on the reduced gradients; rank 0's state
// (fresh, loaded or resumed) is broadcast first; evaluation is split over the
// ranks; rank 0 alone writes metrics, checkpoints and the profile; the
// replicas are checked to hold bit-identical parameters and optimizer state
// after every epoch (and every replica_check_every_steps).
//
//   Trainer trainer(options, *model, optimizer, *schedule, data);
//   absl::StatusOr<RunSummary> summary = trainer.Run();
#ifndef PSG_TRAIN_TRAINER_H_
#define PSG_TRAIN_TRAINER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/layer.h"
#include "engine/lr_schedule.h"
#include "dist/data_parallel.h"
#include "engine/optimizer.h"
#include "data/datasets.h"
#include "train/training_state.h"

namespace psg::train {

struct TrainerOptions {
  int64_t epochs = 1;
  int batch_size = 128;
  // Drop an epoch's last, smaller batch. The released PSG code keeps it
  // (PyTorch's DataLoader default: 391 steps per CIFAR epoch at batch 128).
  bool drop_last = false;
  uint64_t seed = 1;
  int loader_workers = 1;
  float label_smoothing = 0.0f;
  // Train on the first this-many training images only (0: all); smoke runs.
  int64_t max_train_images = 0;
  // Evaluate on at most this many test images (0: all).
  int64_t max_eval_images = 0;
  std::string output_dir;          // metrics.jsonl, last.safetensors, ...
  int64_t checkpoint_every_steps = 0;  // 0: only at epoch ends
  std::string resume_from;         // checkpoint path, or empty
  // Stop (with a checkpoint) once the optimizer has taken this many steps in
  // total (0: run all epochs); for time-boxed runs and resume tests.
  int64_t stop_after_steps = 0;
  int progress_every_steps = 50;   // progress line period (0: epoch ends only)
  // Profile this step of the run (1-based, counted from the start or the
  // resume point; 0: none): per-layer forward / backward times and the time
  // outside oneDNN primitives (data, loss, hooks, optimizer), printed and
  // written to <output_dir>/profile.json (engine/profiler.h).
  int64_t profile_step = 0;
  // Written into every checkpoint's metadata (e.g. the flags as JSON, and
  // train::kModelMetadata, which a resume then checks).
  std::map<std::string, std::string> metadata;
  // Settings a saved position depends on besides those the trainer adds
  // itself (batch_size, max_train_images, drop_last), e.g. the learning-rate schedule's
  // flags: recorded in every checkpoint, and a resume under other values is
  // an error naming the flag (train/training_state.h).
  std::map<std::string, std::string> resume_invariants;
  // Data-parallel training's ranks (not owned); null: this process alone.
  // batch_size is then each rank's.
  dist::DataParallel* data_parallel = nullptr;
  int64_t replica_check_every_steps = 0;  // 0: after every epoch only
};

struct EpochResult {
  int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  double learning_rate = 0, seconds = 0, train_images_per_second = 0;
};

struct RunSummary {
  EpochResult last;
  bool stopped_early = false;  // by stop_after_steps or a signal, with a checkpoint
  int stop_signal = 0;         // SIGINT or SIGTERM that stopped it, or 0
  // Resumed from a checkpoint of a run that had finished all its epochs:
  // nothing was trained; `last` and best_test_accuracy are read back from
  // metrics.jsonl.
  bool finished_before = false;
  double best_test_accuracy = 0;
  int64_t steps = 0;
};

// Test-set loss and top-1 accuracy of `model` in evaluation mode.
struct Evaluation {
  double loss = 0, accuracy = 0;
  int64_t images = 0;
};
absl::StatusOr<Evaluation> Evaluate(engine::Layer& model, const data::Dataset& test,
                                    int batch_size, int64_t max_images, int workers);

class Trainer {
 public:
  Trainer(const TrainerOptions& options, engine::Layer& model, engine::Optimizer& optimizer,
          const engine::LrSchedule& schedule, const data::TrainingData& data);

  // Extra per-epoch metrics (e.g. PSG's distance to the grid), merged into
  // the epoch's JSON line as "key": value; a fresh run also logs them, with
  // the starting model's test accuracy, before training as an "epoch": 0 line.
  void set_epoch_metrics(std::function<std::map<std::string, double>()> metrics) {
    epoch_metrics_ = std::move(metrics);
  }

  // Adds calls around every training step and evaluation, e.g. quantization-
  // aware training's weight fake quantization or L0 pruning's gates:
  // before(kTrain) before the step's forward, after(kTrain) after its backward
  // and before the optimizer step; before(kEval) and after(kEval) around each
  // evaluation. Pairs nest: the befores run in the order added, the afters in
  // the reverse order (the last pair added is innermost). Either may be null.
  void AddStepHooks(std::function<void(engine::Mode)> before,
                    std::function<void(engine::Mode)> after) {
    before_.push_back(std::move(before));
    after_.insert(after_.begin(), std::move(after));
  }
  // Adds a call after every training step's backward pass, before the after
  // hooks and the optimizer step, that may change the gradients and may call
  // `recompute` to rerun the step's forward, loss and backward pass on the same
  // batch (e.g. Gradient-L1 regularization's Hessian-vector product).
  void AddGradientHook(std::function<void(const std::function<void()>& recompute)> hook) {
    gradient_hooks_.push_back(std::move(hook));
  }
  // Parameters outside the model (e.g. a weight quantizer's learned steps),
  // saved in and restored from checkpoints with the model's.
  void AddParameters(const engine::ParameterList& extra) {
    params_.insert(params_.end(), extra.begin(), extra.end());
  }

  // Trains (with flush-to-zero on every thread: engine/denormals.h).
  absl::StatusOr<RunSummary> Run();

 private:
  absl::Status Checkpoint(int64_t epoch, int64_t batch, int64_t step);
  // The error that ends a diverged run at `step` (1-based): `what` went
  // non-finite.
  absl::Status Diverged(const std::string& what, int64_t epoch, int64_t batch, int64_t step) const;
  absl::StatusOr<Evaluation> EvaluateModel();
  // Data-parallel: rank 0's parameters, optimizer state and run position on
  // every rank; `resumed` likewise.
  void SynchronizeReplicas(RunPosition& position, bool& resumed);
  // Data-parallel: every rank's parameters and optimizer state agree.
  absl::Status CheckReplicas(const std::string& when);
  // The stop signal (SIGINT, SIGTERM or 0) received here or, data-parallel,
  // by any rank: every rank stops at the same step boundary.
  int AgreedStopSignal();
  static void Hook(const std::vector<std::function<void(engine::Mode)>>& hooks, engine::Mode mode) {
    for (const auto& hook : hooks) {
      if (hook) hook(mode);
    }
  }

  TrainerOptions options_;
  engine::Layer& model_;
  engine::Optimizer& optimizer_;
  const engine::LrSchedule& schedule_;
  const data::TrainingData& data_;
  engine::ParameterList params_;
  std::function<std::map<std::string, double>()> epoch_metrics_;
  std::vector<std::function<void(engine::Mode)>> before_, after_;  // after_: innermost first
  std::vector<std::function<void(const std::function<void()>&)>> gradient_hooks_;
  std::map<std::string, std::string> checkpoint_metadata_;  // options_.metadata + invariants
  int64_t saved_step_ = -1;  // step of the last checkpoint written or resumed from
};

}  // namespace psg::train

#endif  // PSG_TRAIN_TRAINER_H_
