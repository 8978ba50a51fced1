// Trains a model of the zoo on a dataset with SGD or PSGD.
//
//   bazel run //experiments:train -- --model=resnet20 --dataset=cifar10
//       --epochs=40 --schedule=onecycle --lr=0.1 --nesterov --weight_decay=5e-4
//       --output_dir=/tmp/run1
//
//   # PSG's two-stage recipe: PSGD from an SGD checkpoint, own lr and schedule
//   bazel run //experiments:train -- --init_from=/tmp/run1/last.safetensors
//       --optimizer=psgd --psg_bits=4 --psg_lambda=150 --lr=0.01 --epochs=10 ...
//
// Writes <output_dir>/metrics.jsonl (one JSON line per epoch),
// last.safetensors (atomic checkpoint; --resume continues from it exactly)
// and result.json, and prints a progress line and a final table.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "experiments/optimizer_flags.h"
#include "models/zoo.h"
#include "train/datasets.h"
#include "train/lr_flags.h"
#include "train/trainer.h"
#include "train/training_state.h"

ABSL_FLAG(std::string, model, "resnet20", "model name: resnet20|32|44|56|110, vgg16_bn, resnet18, lenet5");
ABSL_FLAG(std::string, shortcut, "projection", "CIFAR ResNet shortcut: projection (1x1 conv + BN) or zeropad (option A)");
ABSL_FLAG(std::string, dataset, "cifar10", "cifar10, cifar100 or fashion_mnist");
ABSL_FLAG(std::string, data_dir, "", "directory holding the dataset (default $PSG_DATA_DIR, else ~/.cache/psg-toolkit/data)");
ABSL_FLAG(int64_t, epochs, 40, "training epochs");
ABSL_FLAG(int, batch_size, 128, "batch size");
ABSL_FLAG(double, momentum, 0.9, "SGD momentum");
ABSL_FLAG(bool, nesterov, false, "Nesterov momentum");
ABSL_FLAG(double, weight_decay, 5e-4, "L2 weight decay (added to the gradient, as torch.optim.SGD)");
ABSL_FLAG(double, label_smoothing, 0.0, "label smoothing of the cross-entropy loss");
ABSL_FLAG(uint64_t, seed, 1, "seed of initialization, shuffling and augmentation");
ABSL_FLAG(int, threads, 0, "OpenMP threads for oneDNN (0: all cores)");
ABSL_FLAG(int, workers, 1, "data loader threads");
ABSL_FLAG(std::string, output_dir, "", "run directory (required)");
ABSL_FLAG(int64_t, checkpoint_every_steps, 100, "also checkpoint every N steps (0: epoch ends only)");
ABSL_FLAG(std::string, init_from, "", "start from this checkpoint's weights (fresh optimizer, epoch 0)");
ABSL_FLAG(std::string, resume, "", "checkpoint to resume from; 'auto' = <output_dir>/last.safetensors if present");
ABSL_FLAG(int64_t, stop_after_steps, 0, "stop with a checkpoint after this many optimizer steps in total (0: never)");
ABSL_FLAG(int64_t, max_train_images, 0, "train on the first N images only (0: all; for smoke runs)");
ABSL_FLAG(int64_t, max_eval_images, 0, "evaluate on the first N test images only (0: all)");
ABSL_FLAG(int, progress_every, 50, "print a progress line every N steps");

namespace {

std::string FlagsJson(const std::string& optimizer_json) {
  return absl::StrFormat(
      "{\"model\": \"%s\", \"shortcut\": \"%s\", \"dataset\": \"%s\", \"epochs\": %d, "
      "\"batch_size\": %d, \"momentum\": %g, \"nesterov\": %s, \"weight_decay\": %g, "
      "\"label_smoothing\": %g, \"seed\": %d, \"init_from\": \"%s\", %s, %s}",
      absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_shortcut), absl::GetFlag(FLAGS_dataset),
      absl::GetFlag(FLAGS_epochs), absl::GetFlag(FLAGS_batch_size), absl::GetFlag(FLAGS_momentum),
      absl::GetFlag(FLAGS_nesterov) ? "true" : "false", absl::GetFlag(FLAGS_weight_decay),
      absl::GetFlag(FLAGS_label_smoothing), absl::GetFlag(FLAGS_seed),
      absl::GetFlag(FLAGS_init_from), psg::train::LrFlagsJson(), optimizer_json);
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Trains a model of the psg-toolkit zoo with SGD.");
  absl::ParseCommandLine(argc, argv);
  namespace fs = std::filesystem;
  std::string output_dir = absl::GetFlag(FLAGS_output_dir);
  if (output_dir.empty()) return Fail("--output_dir is required");
  // `bazel run` starts in the runfiles tree; resolve relative paths against
  // the directory the user ran it from.
  if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY"); cwd && fs::path(output_dir).is_relative()) {
    output_dir = (fs::path(cwd) / output_dir).string();
  }
  if (absl::GetFlag(FLAGS_threads) > 0) omp_set_num_threads(absl::GetFlag(FLAGS_threads));
  const std::string shortcut = absl::GetFlag(FLAGS_shortcut);
  if (shortcut != "projection" && shortcut != "zeropad") {
    return Fail(absl::StrCat("--shortcut must be projection or zeropad, got '", shortcut, "'"));
  }
  std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) data_dir = psg::train::DefaultDataDir();

  auto data = psg::train::LoadTrainingData(absl::GetFlag(FLAGS_dataset), data_dir);
  if (!data.ok()) {
    return Fail(absl::StrCat(data.status().message(),
                             "\n(put the data in place with tools/get_cifar10.sh, or pass --data_dir)"));
  }
  try {
    psg::models::ModelOptions mo;
    mo.name = absl::GetFlag(FLAGS_model);
    mo.num_classes = (*data)->num_classes;
    mo.shortcut = shortcut == "zeropad" ? psg::models::ShortcutKind::kZeroPad
                                        : psg::models::ShortcutKind::kProjection;
    auto model = psg::models::BuildModel(mo);
    psg::models::InitializeParameters(*model, absl::GetFlag(FLAGS_seed));
    psg::engine::ParameterList params;
    model->CollectParameters(&params);
    if (const std::string init = absl::GetFlag(FLAGS_init_from); !init.empty()) {
      auto loaded = psg::train::LoadTrainingState(init, params, nullptr);
      if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
      std::printf("initialized from %s (epoch %lld of its run)\n", init.c_str(),
                  static_cast<long long>(loaded->epoch));
    }
    auto optimizer = psg::experiments::MakeOptimizer(
        psg::engine::TrainableOnly(params), absl::GetFlag(FLAGS_momentum),
        absl::GetFlag(FLAGS_nesterov), absl::GetFlag(FLAGS_weight_decay));
    if (!optimizer.ok()) return Fail(std::string(optimizer.status().message()));
    const std::string flags_json = FlagsJson(optimizer->json);

    psg::train::TrainerOptions to;
    to.epochs = absl::GetFlag(FLAGS_epochs);
    to.batch_size = absl::GetFlag(FLAGS_batch_size);
    to.seed = absl::GetFlag(FLAGS_seed);
    to.loader_workers = absl::GetFlag(FLAGS_workers);
    to.label_smoothing = absl::GetFlag(FLAGS_label_smoothing);
    to.max_train_images = absl::GetFlag(FLAGS_max_train_images);
    to.max_eval_images = absl::GetFlag(FLAGS_max_eval_images);
    to.output_dir = output_dir;
    to.checkpoint_every_steps = absl::GetFlag(FLAGS_checkpoint_every_steps);
    to.progress_every_steps = absl::GetFlag(FLAGS_progress_every);
    to.stop_after_steps = absl::GetFlag(FLAGS_stop_after_steps);
    to.metadata["flags"] = flags_json;
    std::string resume = absl::GetFlag(FLAGS_resume);
    if (resume == "auto") {
      resume = fs::exists(output_dir + "/last.safetensors") ? output_dir + "/last.safetensors" : "";
    }
    to.resume_from = resume;

    const int64_t train_images = to.max_train_images > 0
                                     ? std::min(to.max_train_images, (*data)->train->size())
                                     : (*data)->train->size();
    const int64_t steps_per_epoch = train_images / to.batch_size;
    if (steps_per_epoch == 0) return Fail("fewer training images than one batch");
    auto schedule = psg::train::ScheduleFromFlags(steps_per_epoch, to.epochs);
    if (!schedule.ok()) return Fail(std::string(schedule.status().message()));

    std::printf("model %s (%lld parameters), %s: %lld train / %lld test images, %lld steps per epoch, %d threads\n",
                mo.name.c_str(), static_cast<long long>(psg::models::CountTrainableParameters(*model)),
                absl::GetFlag(FLAGS_dataset).c_str(), static_cast<long long>(train_images),
                static_cast<long long>((*data)->test->size()),
                static_cast<long long>(steps_per_epoch), omp_get_max_threads());
    std::printf("optimizer: %s\n", optimizer->description.c_str());
    // Diagnostics of the starting weights, for the final start/end table.
    const std::map<std::string, double> start_metrics =
        optimizer->epoch_metrics && to.resume_from.empty() ? optimizer->epoch_metrics()
                                                            : std::map<std::string, double>();
    psg::train::Trainer trainer(to, *model, *optimizer->optimizer, **schedule, **data);
    if (optimizer->epoch_metrics) trainer.set_epoch_metrics(optimizer->epoch_metrics);
    absl::StatusOr<psg::train::RunSummary> summary = trainer.Run();
    if (!summary.ok()) return Fail(std::string(summary.status().message()));
    if (summary->stopped_early) return 0;
    const auto& r = summary->last;
    std::ofstream(output_dir + "/result.json")
        << absl::StrFormat("{\"flags\": %s, \"final_test_accuracy\": %.6f, \"best_test_accuracy\": %.6f, "
                           "\"final_train_accuracy\": %.6f, \"steps\": %d, \"last_epoch_seconds\": %.2f, "
                           "\"train_images_per_second\": %.1f, \"threads\": %d}\n",
                           flags_json, r.test_accuracy, summary->best_test_accuracy,
                           r.train_accuracy, summary->steps, r.seconds, r.train_images_per_second,
                           omp_get_max_threads());
    std::printf("\n| model | dataset | epochs | test acc | best test acc | train acc | img/s |\n"
                "|---|---|---|---|---|---|---|\n| %s | %s | %lld | %.2f %% | %.2f %% | %.2f %% | %.0f |\n",
                mo.name.c_str(), absl::GetFlag(FLAGS_dataset).c_str(),
                static_cast<long long>(r.epoch), 100 * r.test_accuracy,
                100 * summary->best_test_accuracy, 100 * r.train_accuracy, r.train_images_per_second);
    if (optimizer->epoch_metrics) {
      std::printf("\n| PSGD diagnostic (qmse: quantization MSE at the bit-width) | start | end | start/end |\n"
                  "|---|---|---|---|\n");
      for (const auto& [key, value] : optimizer->epoch_metrics()) {
        const auto it = start_metrics.find(key);
        const double start = it == start_metrics.end() ? NAN : it->second;
        std::printf("| %s | %.3g | %.3g | %.1f |\n", key.c_str(), start, value, start / value);
      }
    }
    std::printf("results: %s/result.json, per epoch: %s/metrics.jsonl\n", output_dir.c_str(),
                output_dir.c_str());
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}
