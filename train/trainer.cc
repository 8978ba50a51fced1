#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/loader.h"
#include "engine/denormals.h"
#include "engine/loss.h"
#include "engine/profiler.h"
#include "io/files.h"
#include "io/json_writer.h"
#include "train/batches.h"
#include "train/divergence.h"
#include "train/metrics_log.h"
#include "train/stop_signals.h"
#include "train/training_state.h"

namespace psg::train {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
}

void AppendMetrics(const std::map<std::string, double>& extra, io::Json& json) {
  for (const auto& [key, value] : extra) json[key] = value;
}

// Non-finite values are written as null: an epoch with no batch trained in
// this process (a resume at its end) has no training loss, accuracy or lr.
io::Json EpochJson(const EpochResult& r, const std::map<std::string, double>& extra) {
  io::Json json = {{"epoch", r.epoch},
                   {"train_loss", r.train_loss},
                   {"train_accuracy", r.train_accuracy},
                   {"test_loss", r.test_loss},
                   {"test_accuracy", r.test_accuracy},
                   {"lr", r.learning_rate},
                   {"seconds", r.seconds},
                   {"train_images_per_second", r.train_images_per_second}};
  AppendMetrics(extra, json);
  return json;
}

double NumberOr(const io::Json& json, const char* key, double otherwise) {
  return json.contains(key) && json[key].is_number() ? json[key].get<double>() : otherwise;
}

// The summary of a finished run from its metrics.jsonl.
absl::StatusOr<RunSummary> FinishedRunSummary(const std::string& metrics_path, int64_t steps) {
  absl::StatusOr<std::vector<io::Json>> lines = MetricsLog::Read(metrics_path);
  if (!lines.ok()) return lines.status();
  RunSummary summary;
  summary.finished_before = true;
  summary.steps = steps;
  for (const io::Json& line : *lines) {
    EpochResult r;
    r.epoch = static_cast<int64_t>(NumberOr(line, "epoch", 0));
    if (r.epoch == 0) continue;  // the starting point
    r.train_loss = NumberOr(line, "train_loss", NAN);
    r.train_accuracy = NumberOr(line, "train_accuracy", NAN);
    r.test_loss = NumberOr(line, "test_loss", NAN);
    r.test_accuracy = NumberOr(line, "test_accuracy", NAN);
    r.learning_rate = NumberOr(line, "lr", NAN);
    r.seconds = NumberOr(line, "seconds", NAN);
    r.train_images_per_second = NumberOr(line, "train_images_per_second", NAN);
    summary.best_test_accuracy = std::max(summary.best_test_accuracy, r.test_accuracy);
    summary.last = r;
  }
  return summary;
}

const char* SignalName(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

}  // namespace

absl::StatusOr<Evaluation> Evaluate(engine::Layer& model, const data::Dataset& test,
                                    int batch_size, int64_t max_images, int workers) {
  engine::SoftmaxCrossEntropy loss({});
  Evaluation result;
  double loss_sum = 0;
  int64_t correct = 0;
  absl::Status status = ForEachBatch(test, {batch_size, max_images, workers},
                                     [&](const engine::Tensor& images, const data::Batch& b) {
    loss_sum += loss.Forward(model.Forward(images, engine::Mode::kEval), b.labels) * b.n;
    correct += loss.correct();
    result.images += b.n;
  });
  if (!status.ok()) return status;
  if (result.images == 0) return absl::InvalidArgumentError("evaluation: the test set has no images");
  result.loss = loss_sum / result.images;
  result.accuracy = static_cast<double>(correct) / result.images;
  return result;
}

Trainer::Trainer(const TrainerOptions& options, engine::Layer& model,
                 engine::Optimizer& optimizer, const engine::LrSchedule& schedule,
                 const data::TrainingData& data)
    : options_(options), model_(model), optimizer_(optimizer), schedule_(schedule), data_(data) {
  model_.CollectParameters(&params_);
}

absl::Status Trainer::Checkpoint(int64_t epoch, int64_t batch, int64_t step) {
  if (options_.data_parallel != nullptr && !options_.data_parallel->writer()) {
    saved_step_ = step;  // the replicas are identical: rank 0 writes
    return absl::OkStatus();
  }
  absl::Status saved = SaveTrainingState(options_.output_dir + "/last.safetensors", params_,
                                         &optimizer_, {epoch, batch, step, options_.seed},
                                         checkpoint_metadata_);
  if (saved.ok()) saved_step_ = step;
  return saved;
}

absl::Status Trainer::Diverged(const std::string& what, int64_t epoch, int64_t batch,
                               int64_t step) const {
  const std::string kept =
      saved_step_ < 0 ? std::string("no checkpoint was written")
                      : absl::StrCat("the last checkpoint, ", options_.output_dir,
                                     "/last.safetensors (step ", saved_step_, "), is kept");
  return absl::DataLossError(absl::StrCat(
      "training diverged at step ", step, " (epoch ", epoch + 1, ", batch ", batch + 1, ", lr ",
      schedule_.At(step - 1), "): ", what, ". Nothing from this step was saved: ", kept,
      ". Lower the learning rate or check the data."));
}

absl::StatusOr<Evaluation> Trainer::EvaluateModel() {
  Hook(before_, engine::Mode::kEval);
  absl::StatusOr<Evaluation> eval;
  if (dist::DataParallel* dp = options_.data_parallel; dp == nullptr) {
    eval = Evaluate(model_, *data_.test, options_.batch_size, options_.max_eval_images,
                    options_.loader_workers);
  } else {
    // Each rank evaluates its contiguous part of the (first max_eval_images)
    // test images; the sums make the whole set's figures.
    const int64_t n = options_.max_eval_images > 0
                          ? std::min(options_.max_eval_images, data_.test->size())
                          : data_.test->size();
    const std::unique_ptr<data::Dataset> part =
        data::Slice(*data_.test, dp->rank() * n / dp->size(), (dp->rank() + 1) * n / dp->size());
    Evaluation mine;
    if (part->size() > 0) {
      eval = Evaluate(model_, *part, options_.batch_size, 0, options_.loader_workers);
      if (!eval.ok()) return eval.status();
      mine = *eval;
    }
    std::vector<double> sums = {mine.loss * mine.images, mine.accuracy * mine.images,
                                static_cast<double>(mine.images)};
    dp->SumAcrossRanks(absl::MakeSpan(sums));
    Evaluation all;
    all.images = static_cast<int64_t>(sums[2]);
    all.loss = sums[0] / sums[2];
    all.accuracy = std::round(sums[1]) / sums[2];
    eval = all;
  }
  Hook(after_, engine::Mode::kEval);
  return eval;
}

void Trainer::SynchronizeReplicas(RunPosition& position, bool& resumed) {
  dist::DataParallel& dp = *options_.data_parallel;
  std::vector<int64_t> run = {position.epoch, position.batch, position.step,
                              static_cast<int64_t>(position.seed), resumed ? 1 : 0};
  dp.BroadcastFromRankZero(absl::MakeSpan(run), "the run position");
  position = {run[0], run[1], run[2], static_cast<uint64_t>(run[3])};
  resumed = run[4] != 0;
  for (engine::Parameter* p : params_) dp.BroadcastFromRankZero(p->value.flat(), p->name);
  for (auto& [name, tensor] : optimizer_.State()) dp.BroadcastFromRankZero(tensor.flat(), name);
  optimizer_.set_steps(position.step);
  engine::ParameterList model_params;
  model_.CollectParameters(&model_params);
  dp.Attach(model_params);
}

absl::Status Trainer::CheckReplicas(const std::string& when) {
  std::vector<std::pair<std::string, engine::Tensor>> tensors;
  for (const engine::Parameter* p : params_) tensors.emplace_back(p->name, p->value);
  for (auto& entry : optimizer_.State()) tensors.push_back(std::move(entry));
  return options_.data_parallel->CheckReplicasAgree(tensors, when);
}

int Trainer::AgreedStopSignal() {
  const int signal = StopSignalReceived();
  if (options_.data_parallel == nullptr) return signal;
  // Each rank gets its signal at its own moment; all must stop at one step.
  std::vector<double> received = {signal == SIGINT ? 1.0 : 0.0, signal == SIGTERM ? 1.0 : 0.0};
  options_.data_parallel->SumAcrossRanks(absl::MakeSpan(received));
  if (signal != 0) return signal;
  return received[0] > 0 ? SIGINT : received[1] > 0 ? SIGTERM : 0;
}

absl::StatusOr<RunSummary> Trainer::Run() {
  engine::FlushDenormalsToZero();  // PSG drives weights subnormal; see engine/denormals.h
  if (options_.epochs <= 0 || options_.batch_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("need epochs > 0 and batch_size > 0; got epochs=",
                                                   options_.epochs, " batch_size=",
                                                   options_.batch_size));
  }
  dist::DataParallel* const dp = options_.data_parallel;
  const bool writer = dp == nullptr || dp->writer();  // data-parallel: rank 0 writes
  if (writer) {
    if (absl::Status s = io::CheckWritableDirectory(options_.output_dir); !s.ok()) return s;
    for (const std::string& stale : io::RemoveStaleTemporaryFiles(options_.output_dir)) {
      std::printf("removed %s, left by a process that was killed while writing it\n", stale.c_str());
    }
  }
  std::map<std::string, std::string> invariants = options_.resume_invariants;
  invariants["batch_size"] = absl::StrCat(options_.batch_size);
  invariants["max_train_images"] = absl::StrCat(options_.max_train_images);
  invariants["drop_last"] = options_.drop_last ? "true" : "false";
  // The global batch is ranks x batch_size: another number of ranks reads
  // the position as other batches.
  invariants["mpi_ranks"] = absl::StrCat(dp != nullptr ? dp->size() : 1);
  checkpoint_metadata_ = options_.metadata;
  checkpoint_metadata_[kResumeInvariantsMetadata] = io::JsonCompact(io::Json(invariants));
  RunPosition position{0, 0, 0, options_.seed};
  const std::string metrics_path = options_.output_dir + "/metrics.jsonl";
  // Data-parallel: rank 0 reads the checkpoint and hands it to the others.
  bool resumed = !options_.resume_from.empty();
  if (resumed && writer) {
    LoadOptions checks{.invariants = invariants};
    if (auto model = options_.metadata.find(kModelMetadata); model != options_.metadata.end()) {
      checks.model = model->second;
    }
    absl::StatusOr<RunPosition> loaded =
        LoadTrainingState(options_.resume_from, params_, &optimizer_, checks);
    if (!loaded.ok()) return loaded.status();
    if (loaded->seed != options_.seed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint '", options_.resume_from, "' was trained with seed ", loaded->seed,
          ", not ", options_.seed, "; pass --seed=", loaded->seed, " to resume it"));
    }
    position = *loaded;
  }
  if (dp != nullptr) SynchronizeReplicas(position, resumed);
  if (resumed) {
    saved_step_ = position.step;
    if (position.epoch >= options_.epochs) {
      std::printf("%s: the run finished all %lld epochs (step %lld); nothing to train\n",
                  options_.resume_from.c_str(), static_cast<long long>(options_.epochs),
                  static_cast<long long>(position.step));
      if (!writer) return RunSummary{.finished_before = true, .steps = position.step};
      return FinishedRunSummary(metrics_path, position.step);
    }
    std::printf("resumed from %s at epoch %lld, batch %lld, step %lld\n",
                options_.resume_from.c_str(), static_cast<long long>(position.epoch),
                static_cast<long long>(position.batch), static_cast<long long>(position.step));
  }

  data::LoaderOptions lo;
  lo.batch_size = options_.batch_size;
  lo.drop_last = options_.drop_last;
  lo.seed = options_.seed;
  lo.num_workers = options_.loader_workers;
  lo.end_epoch = options_.epochs;
  lo.num_shards = dp != nullptr ? dp->size() : 1;
  lo.shard = dp != nullptr ? dp->rank() : 0;
  const std::unique_ptr<data::Dataset> subset =
      options_.max_train_images > 0 ? data::Prefix(*data_.train, options_.max_train_images) : nullptr;
  const data::Dataset& train_set = subset ? *subset : *data_.train;
  const int64_t batches =
      data::BatchesPerEpoch(train_set.size(), lo.batch_size, lo.drop_last, lo.num_shards);
  if (position.batch > batches) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint '", options_.resume_from, "' stands at batch ", position.batch,
        " of an epoch that has ", batches, " batches here"));
  }
  // A checkpoint at an epoch's last batch: that epoch's end (evaluation,
  // metrics line, checkpoint) comes first, then the next epoch's batches.
  const bool epoch_end_pending = position.batch == batches;
  lo.start_epoch = epoch_end_pending ? position.epoch + 1 : position.epoch;
  lo.start_batch = epoch_end_pending ? 0 : position.batch;
  absl::StatusOr<std::unique_ptr<data::BatchLoader>> loader = data::BatchLoader::Create(train_set, lo);
  if (!loader.ok()) return loader.status();

  std::optional<MetricsLog> metrics;  // rank 0's only
  if (writer) {
    absl::StatusOr<MetricsLog> opened =
        MetricsLog::Open(metrics_path, resumed ? std::optional(position.epoch) : std::nullopt);
    if (!opened.ok()) return opened.status();
    metrics = *std::move(opened);
  }
  engine::SoftmaxCrossEntropy loss({options_.label_smoothing});
  BatchView view;
  RunSummary summary;
  int64_t step = position.step;
  const Clock::time_point run_start = Clock::now();
  int64_t images_this_run = 0;

  if (epoch_metrics_ && !resumed) {
    // The starting point (e.g. an SGD checkpoint before PSG training): its
    // test accuracy and the extra metrics, as an "epoch": 0 line.
    absl::StatusOr<Evaluation> eval = EvaluateModel();
    if (!eval.ok()) return eval.status();
    io::Json json = {{"epoch", 0}, {"test_loss", eval->loss}, {"test_accuracy", eval->accuracy}};
    AppendMetrics(epoch_metrics_(), json);
    if (metrics) {
      if (absl::Status s = metrics->Append(json); !s.ok()) return s;
    }
    std::printf("start: test loss %.4f acc %.2f%%\n", eval->loss, 100 * eval->accuracy);
  }
  if (const int signal = AgreedStopSignal(); signal != 0) {
    std::printf("interrupted by %s before the first step; nothing to save\n", SignalName(signal));
    summary.stopped_early = true;
    summary.stop_signal = signal;
    summary.steps = step;
    return summary;
  }
  for (int64_t epoch = position.epoch; epoch < options_.epochs; ++epoch) {
    const Clock::time_point epoch_start = Clock::now();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    float lr = NAN;  // none trained in this process: null in the metrics
    for (int64_t b = epoch == position.epoch ? position.batch : 0; b < batches; ++b) {
      const bool profile = options_.profile_step > 0 && step - position.step + 1 == options_.profile_step;
      engine::Profiler profiler;
      std::optional<engine::Profiler::Recording> recording;
      if (profile) recording.emplace(&profiler);
      absl::StatusOr<const data::Batch*> batch;
      {
        engine::ProfileScope scope("data", engine::Phase::kOther);
        batch = (*loader)->Next();
      }
      if (!batch.ok()) return batch.status();
      const data::Batch& x = **batch;
      if (x.epoch != epoch || x.index_in_epoch != b) {
        return absl::InternalError(absl::StrCat("loader out of step: expected epoch ", epoch,
                                                " batch ", b, ", got ", x.epoch, "/",
                                                x.index_in_epoch));
      }
      {
        engine::ProfileScope scope("hooks", engine::Phase::kOther);
        Hook(before_, engine::Mode::kTrain);
      }
      const engine::Tensor* input;
      {
        engine::ProfileScope scope("data", engine::Phase::kOther);
        input = &view.View(x);
      }
      const engine::Tensor& logits = model_.Forward(*input, engine::Mode::kTrain);
      double value;
      const engine::Tensor* dlogits;
      {
        engine::ProfileScope scope("loss", engine::Phase::kOther);
        value = loss.Forward(logits, x.labels);
        dlogits = &loss.Backward();
      }
      if (!std::isfinite(value)) {
        return Diverged(absl::StrCat("the loss is ", value), epoch, b, step + 1);
      }
      // Data-parallel: reduced while backward runs; then the global batch's.
      const auto backward = [&](const engine::Tensor& dy) {
        if (dp != nullptr) dp->BeginBackward(static_cast<double>(x.n) / x.global_n);
        model_.Backward(dy);
        if (dp != nullptr) dp->EndBackward();
      };
      backward(*dlogits);
      const int64_t step_correct = loss.correct();
      if (!gradient_hooks_.empty()) {
        engine::ProfileScope scope("hooks", engine::Phase::kOther);
        const std::function<void()> recompute = [&] {
          loss.Forward(model_.Forward(*input, engine::Mode::kTrain), x.labels);
          backward(loss.Backward());
        };
        for (const auto& hook : gradient_hooks_) hook(recompute);
      }
      {
        engine::ProfileScope scope("hooks", engine::Phase::kOther);
        Hook(after_, engine::Mode::kTrain);
      }
      if (std::optional<NonFinite> bad = FindNonFinite(params_, Check::kGradients)) {
        return Diverged(bad->Describe(), epoch, b, step + 1);
      }
      lr = schedule_.At(step);
      {
        engine::ProfileScope scope("optimizer", engine::Phase::kOther);
        optimizer_.Step(lr);
      }
      // Weights, BN statistics and learned quantizer or gate parameters.
      if (std::optional<NonFinite> bad = FindNonFinite(params_, Check::kValues)) {
        return Diverged(absl::StrCat(bad->Describe(), " after the update"), epoch, b, step + 1);
      }
      if (profile) {
        recording.reset();
        std::printf("profile of step %lld (batch %d):\n%s", static_cast<long long>(step + 1),
                    x.n, profiler.Table().c_str());
        if (writer) {
          if (absl::Status s =
                  io::WriteJsonFile(options_.output_dir + "/profile.json", profiler.Json());
              !s.ok()) {
            return s;
          }
        }
        std::printf("profile: %s/profile.json\n", options_.output_dir.c_str());
        std::fflush(stdout);
      }
      ++step;
      loss_sum += value * x.n;
      correct += step_correct;
      seen += x.n;
      images_this_run += x.n;
      if (dp != nullptr && options_.replica_check_every_steps > 0 &&
          step % options_.replica_check_every_steps == 0) {
        if (absl::Status s = CheckReplicas(absl::StrCat("after step ", step)); !s.ok()) return s;
      }
      const int signal = AgreedStopSignal();
      const bool stop =
          signal != 0 || (options_.stop_after_steps > 0 && step >= options_.stop_after_steps);
      if (stop ||
          (options_.checkpoint_every_steps > 0 && step % options_.checkpoint_every_steps == 0)) {
        if (absl::Status s = Checkpoint(epoch, b + 1, step); !s.ok()) return s;
      }
      if (stop) {
        std::printf("%s after step %lld (epoch %lld, batch %lld); checkpoint written, resume with "
                    "--resume=auto\n",
                    signal != 0 ? absl::StrCat("interrupted by ", SignalName(signal)).c_str()
                                : "stopped",
                    static_cast<long long>(step), static_cast<long long>(epoch + 1),
                    static_cast<long long>(b + 1));
        summary.stopped_early = true;
        summary.stop_signal = signal;
        summary.steps = step;
        return summary;
      }
      if (options_.progress_every_steps > 0 && (b + 1) % options_.progress_every_steps == 0) {
        // All ranks' images (the same on one process).
        std::vector<double> all = {loss_sum, static_cast<double>(correct),
                                   static_cast<double>(seen),
                                   static_cast<double>(images_this_run)};
        if (dp != nullptr) dp->SumAcrossRanks(absl::MakeSpan(all));
        const double rate = all[3] / Seconds(run_start);
        const double remaining =
            ((options_.epochs - epoch - 1) * batches + (batches - b - 1)) * double(x.global_n) / rate;
        std::printf("epoch %lld/%lld  batch %lld/%lld  loss %.4f  acc %.2f%%  lr %.4g  %.0f img/s  ETA %s\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(options_.epochs),
                    static_cast<long long>(b + 1), static_cast<long long>(batches),
                    all[0] / all[2], 100.0 * all[1] / all[2], lr, rate,
                    FormatDuration(remaining).c_str());
        std::fflush(stdout);
      }
    }
    if (dp != nullptr) {  // every rank's images of the epoch
      std::vector<double> all = {loss_sum, static_cast<double>(correct), static_cast<double>(seen)};
      dp->SumAcrossRanks(absl::MakeSpan(all));
      loss_sum = all[0];
      correct = static_cast<int64_t>(std::llround(all[1]));
      seen = static_cast<int64_t>(std::llround(all[2]));
    }
    EpochResult r;
    r.epoch = epoch + 1;
    r.seconds = Seconds(epoch_start);
    r.train_images_per_second = seen / r.seconds;
    r.train_loss = seen > 0 ? loss_sum / seen : NAN;
    r.train_accuracy = seen > 0 ? static_cast<double>(correct) / seen : NAN;
    r.learning_rate = lr;
    absl::StatusOr<Evaluation> eval = EvaluateModel();
    if (!eval.ok()) return eval.status();
    r.test_loss = eval->loss;
    r.test_accuracy = eval->accuracy;
    const std::map<std::string, double> extra =
        epoch_metrics_ ? epoch_metrics_() : std::map<std::string, double>();
    if (metrics) {
      if (absl::Status s = metrics->Append(EpochJson(r, extra)); !s.ok()) return s;
    }
    std::printf("epoch %lld/%lld done in %s: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %.0f img/s\n",
                static_cast<long long>(r.epoch), static_cast<long long>(options_.epochs),
                FormatDuration(r.seconds).c_str(), r.train_loss, 100 * r.train_accuracy,
                r.test_loss, 100 * r.test_accuracy, r.train_images_per_second);
    std::fflush(stdout);
    if (dp != nullptr) {
      if (absl::Status s = CheckReplicas(absl::StrCat("after epoch ", epoch + 1)); !s.ok()) return s;
    }
    if (absl::Status s = Checkpoint(epoch + 1, 0, step); !s.ok()) return s;
    summary.last = r;
    summary.best_test_accuracy = std::max(summary.best_test_accuracy, r.test_accuracy);
    if (const int signal = AgreedStopSignal(); signal != 0 && epoch + 1 < options_.epochs) {
      std::printf("interrupted by %s after epoch %lld; checkpoint written, resume with "
                  "--resume=auto\n",
                  SignalName(signal), static_cast<long long>(epoch + 1));
      summary.stopped_early = true;
      summary.stop_signal = signal;
      summary.steps = step;
      return summary;
    }
  }
  summary.steps = step;
  return summary;
}

}  // namespace psg::train
