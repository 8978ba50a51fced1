#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/loader.h"
#include "engine/denormals.h"
#include "engine/loss.h"
#include "engine/profiler.h"
#include "train/batches.h"
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

void AppendMetrics(const std::map<std::string, double>& extra, std::string* json) {
  for (const auto& [key, value] : extra) absl::StrAppendFormat(json, ", \"%s\": %.9g", key, value);
}

std::string EpochJson(const EpochResult& r, const std::map<std::string, double>& extra) {
  std::string json = absl::StrFormat(
      "{\"epoch\": %d, \"train_loss\": %.6f, \"train_accuracy\": %.6f, \"test_loss\": %.6f, "
      "\"test_accuracy\": %.6f, \"lr\": %.6g, \"seconds\": %.3f, \"train_images_per_second\": "
      "%.1f",
      r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.learning_rate,
      r.seconds, r.train_images_per_second);
  AppendMetrics(extra, &json);
  return json + "}";
}

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
  result.loss = loss_sum / result.images;
  result.accuracy = static_cast<double>(correct) / result.images;
  return result;
}

Trainer::Trainer(const TrainerOptions& options, engine::Layer& model,
                 engine::Optimizer& optimizer, const engine::LrSchedule& schedule,
                 const TrainingData& data)
    : options_(options), model_(model), optimizer_(optimizer), schedule_(schedule), data_(data) {
  model_.CollectParameters(&params_);
}

absl::Status Trainer::Checkpoint(const std::string& name, int64_t epoch, int64_t batch,
                                 int64_t step) {
  return SaveTrainingState(options_.output_dir + "/" + name, params_, &optimizer_,
                           {epoch, batch, step, options_.seed}, options_.metadata);
}

absl::StatusOr<Evaluation> Trainer::EvaluateModel() {
  Hook(before_, engine::Mode::kEval);
  absl::StatusOr<Evaluation> eval = Evaluate(model_, *data_.test, options_.batch_size,
                                             options_.max_eval_images, options_.loader_workers);
  Hook(after_, engine::Mode::kEval);
  return eval;
}

absl::StatusOr<RunSummary> Trainer::Run() {
  engine::FlushDenormalsToZero();  // PSG drives weights subnormal; see engine/denormals.h
  if (options_.epochs <= 0 || options_.batch_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("need epochs > 0 and batch_size > 0; got epochs=",
                                                   options_.epochs, " batch_size=",
                                                   options_.batch_size));
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.output_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create output directory '", options_.output_dir, "': ", ec.message()));
  }
  RunPosition position{0, 0, 0, options_.seed};
  if (!options_.resume_from.empty()) {
    absl::StatusOr<RunPosition> loaded = LoadTrainingState(options_.resume_from, params_, &optimizer_);
    if (!loaded.ok()) return loaded.status();
    if (loaded->seed != options_.seed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint '", options_.resume_from, "' was trained with seed ", loaded->seed,
          ", not ", options_.seed, "; pass --seed=", loaded->seed, " to resume it"));
    }
    position = *loaded;
    std::printf("resumed from %s at epoch %lld, batch %lld, step %lld\n",
                options_.resume_from.c_str(), static_cast<long long>(position.epoch),
                static_cast<long long>(position.batch), static_cast<long long>(position.step));
  }

  data::LoaderOptions lo;
  lo.batch_size = options_.batch_size;
  lo.drop_last = options_.drop_last;
  lo.seed = options_.seed;
  lo.num_workers = options_.loader_workers;
  lo.start_epoch = position.epoch;
  lo.start_batch = position.batch;
  lo.end_epoch = options_.epochs;
  const std::unique_ptr<data::Dataset> subset =
      options_.max_train_images > 0 ? Prefix(*data_.train, options_.max_train_images) : nullptr;
  absl::StatusOr<std::unique_ptr<data::BatchLoader>> loader =
      data::BatchLoader::Create(subset ? *subset : *data_.train, lo);
  if (!loader.ok()) return loader.status();
  const int64_t batches = (*loader)->batches_per_epoch();

  std::ofstream metrics(options_.output_dir + "/metrics.jsonl", std::ios::app);
  engine::SoftmaxCrossEntropy loss({options_.label_smoothing});
  BatchView view;
  RunSummary summary;
  int64_t step = position.step;
  const Clock::time_point run_start = Clock::now();
  int64_t images_this_run = 0;

  if (epoch_metrics_ && options_.resume_from.empty()) {
    // The starting point (e.g. an SGD checkpoint before PSG training): its
    // test accuracy and the extra metrics, as an "epoch": 0 line.
    absl::StatusOr<Evaluation> eval = EvaluateModel();
    if (!eval.ok()) return eval.status();
    std::string json = absl::StrFormat("{\"epoch\": 0, \"test_loss\": %.6f, \"test_accuracy\": %.6f",
                                       eval->loss, eval->accuracy);
    AppendMetrics(epoch_metrics_(), &json);
    metrics << json << "}\n";
    metrics.flush();  // a run killed before its first epoch ends keeps this line whole
    std::printf("start: test loss %.4f acc %.2f%%\n", eval->loss, 100 * eval->accuracy);
  }
  for (int64_t epoch = position.epoch; epoch < options_.epochs; ++epoch) {
    const Clock::time_point epoch_start = Clock::now();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    float lr = 0;
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
        return absl::DataLossError(absl::StrCat(
            "training diverged: loss is ", value, " at epoch ", epoch + 1, ", batch ", b + 1,
            ", step ", step + 1, " (lr ", schedule_.At(step),
            "). Weights were not saved past the last checkpoint; lower the learning rate "
            "or check the data."));
      }
      model_.Backward(*dlogits);
      const int64_t step_correct = loss.correct();
      if (!gradient_hooks_.empty()) {
        engine::ProfileScope scope("hooks", engine::Phase::kOther);
        const std::function<void()> recompute = [&] {
          loss.Forward(model_.Forward(*input, engine::Mode::kTrain), x.labels);
          model_.Backward(loss.Backward());
        };
        for (const auto& hook : gradient_hooks_) hook(recompute);
      }
      {
        engine::ProfileScope scope("hooks", engine::Phase::kOther);
        Hook(after_, engine::Mode::kTrain);
      }
      lr = schedule_.At(step);
      {
        engine::ProfileScope scope("optimizer", engine::Phase::kOther);
        optimizer_.Step(lr);
      }
      if (profile) {
        recording.reset();
        std::printf("profile of step %lld (batch %d):\n%s", static_cast<long long>(step + 1),
                    x.n, profiler.Table().c_str());
        std::ofstream(options_.output_dir + "/profile.json") << profiler.Json() << "\n";
        std::printf("profile: %s/profile.json\n", options_.output_dir.c_str());
        std::fflush(stdout);
      }
      ++step;
      loss_sum += value * x.n;
      correct += step_correct;
      seen += x.n;
      images_this_run += x.n;
      const bool stop = options_.stop_after_steps > 0 && step >= options_.stop_after_steps;
      if (stop ||
          (options_.checkpoint_every_steps > 0 && step % options_.checkpoint_every_steps == 0)) {
        if (absl::Status s = Checkpoint("last.safetensors", epoch, b + 1, step); !s.ok()) return s;
      }
      if (stop) {
        std::printf("stopped after step %lld (epoch %lld, batch %lld); resume with --resume\n",
                    static_cast<long long>(step), static_cast<long long>(epoch + 1),
                    static_cast<long long>(b + 1));
        summary.stopped_early = true;
        summary.steps = step;
        return summary;
      }
      if (options_.progress_every_steps > 0 && (b + 1) % options_.progress_every_steps == 0) {
        const double rate = images_this_run / Seconds(run_start);
        const double remaining =
            ((options_.epochs - epoch - 1) * batches + (batches - b - 1)) * double(x.n) / rate;
        std::printf("epoch %lld/%lld  batch %lld/%lld  loss %.4f  acc %.2f%%  lr %.4g  %.0f img/s  ETA %s\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(options_.epochs),
                    static_cast<long long>(b + 1), static_cast<long long>(batches),
                    loss_sum / seen, 100.0 * correct / seen, lr, rate,
                    FormatDuration(remaining).c_str());
        std::fflush(stdout);
      }
    }
    EpochResult r;
    r.epoch = epoch + 1;
    r.seconds = Seconds(epoch_start);
    r.train_images_per_second = seen / r.seconds;
    r.train_loss = seen > 0 ? loss_sum / seen : 0;
    r.train_accuracy = seen > 0 ? static_cast<double>(correct) / seen : 0;
    r.learning_rate = lr;
    absl::StatusOr<Evaluation> eval = EvaluateModel();
    if (!eval.ok()) return eval.status();
    r.test_loss = eval->loss;
    r.test_accuracy = eval->accuracy;
    const std::map<std::string, double> extra =
        epoch_metrics_ ? epoch_metrics_() : std::map<std::string, double>();
    metrics << EpochJson(r, extra) << "\n";
    metrics.flush();
    std::printf("epoch %lld/%lld done in %s: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %.0f img/s\n",
                static_cast<long long>(r.epoch), static_cast<long long>(options_.epochs),
                FormatDuration(r.seconds).c_str(), r.train_loss, 100 * r.train_accuracy,
                r.test_loss, 100 * r.test_accuracy, r.train_images_per_second);
    std::fflush(stdout);
    if (absl::Status s = Checkpoint("last.safetensors", epoch + 1, 0, step); !s.ok()) return s;
    summary.last = r;
    summary.best_test_accuracy = std::max(summary.best_test_accuracy, r.test_accuracy);
  }
  summary.steps = step;
  return summary;
}

}  // namespace psg::train
