// Post-training int8 inference of a trained checkpoint: folds the batch norms,
// calibrates activation ranges on training batches (no augmentation), and
// reports test accuracy of the fp32 model (eval mode), of the fake-quant
// simulation and of the int8 network (quant/int8_network.h), with the
// img/s of fp32 and int8 forward passes at one batch size.
//
//   bazel run //experiments:int8_eval -- --checkpoint=runs/r20/last.safetensors
//       --model=resnet20 --dataset=cifar10 --output=runs/r20/int8.json
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/model_loading.h"
#include "data/datasets.h"
#include "data/loader.h"
#include "engine/context.h"
#include "engine/graph.h"
#include "engine/precision.h"
#include "flags/ranges.h"
#include "io/json_writer.h"
#include "quant/bn_fold.h"
#include "quant/int8_network.h"
#include "report/timing.h"
#include "train/batches.h"
#include "train/trainer.h"

ABSL_FLAG(int, calibration_batches, 8, "training batches (no augmentation) for the activation ranges");
PSG_FLAG_RANGE(calibration_batches, psg::flags::AtLeast(1));
ABSL_FLAG(int, timing_passes, 20, "timed forward passes (after 3 warm-up passes); the median is reported");
PSG_FLAG_RANGE(timing_passes, psg::flags::AtLeast(1));
ABSL_FLAG(std::string, output, "", "JSON result file (optional)");

namespace {

using psg::engine::Tensor;
using psg::cli::SetUpThreads;
using psg::cli::Fail;
using psg::cli::LoadDataFromFlags;
using psg::report::MedianSeconds;
using psg::cli::ModelOptionsFromFlags;
using psg::cli::UserPath;

int64_t CountCorrect(const float* logits, int64_t classes, const psg::data::Batch& b) {
  int64_t correct = 0;
  for (int i = 0; i < b.n; ++i) {
    const float* row = logits + i * classes;
    correct += std::max_element(row, row + classes) - row == b.labels[i];
  }
  return correct;
}

int Run() {
  const absl::StatusOr<std::string> checkpoint_path =
      psg::cli::ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint_path.ok()) return Fail(checkpoint_path.status().message());
  const std::string& checkpoint = *checkpoint_path;
  const std::string output = UserPath(absl::GetFlag(FLAGS_output));
  if (!output.empty()) {
    if (absl::Status s = psg::cli::CheckOutputFile(output); !s.ok()) return Fail(s.message());
  }
  SetUpThreads();
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  auto data = LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto model_options = ModelOptionsFromFlags(**data);
  if (!model_options.ok()) return Fail(model_options.status().message());
  const psg::models::ModelOptions& mo = *model_options;
  auto model = psg::cli::LoadModel(mo, checkpoint);
  if (!model.ok()) return Fail(model.status().message());
  try {
    psg::engine::Graph graph;
    (*model)->Export(&graph, graph.AddInput("input"));
    const psg::engine::Graph folded = psg::quant::FoldBatchNorm(graph);

    psg::quant::Calibrator calibrator(folded);
    const int calibration_batches = absl::GetFlag(FLAGS_calibration_batches);
    absl::Status status = psg::train::ForEachBatch(
        *(*data)->train_unaugmented,
        {batch_size, int64_t{calibration_batches} * batch_size, absl::GetFlag(FLAGS_workers)},
        [&](const Tensor& x, const psg::data::Batch&) { calibrator.Observe(x); });
    if (!status.ok()) return Fail(status.message());
    const psg::quant::ActivationRanges ranges = calibrator.ranges();

    const psg::data::SampleShape shape = (*data)->test->sample_shape();
    psg::quant::FakeQuantNetwork sim(folded, ranges);
    psg::quant::Int8Network int8(folded, ranges, {shape.channels, shape.height, shape.width});
    const int64_t classes = int8.num_classes();
    const int64_t max_images = absl::GetFlag(FLAGS_max_eval_images);

    auto fp32 = psg::train::Evaluate(**model, *(*data)->test, batch_size, max_images,
                                     absl::GetFlag(FLAGS_workers));
    if (!fp32.ok()) return Fail(fp32.status().message());
    int64_t images = 0, sim_correct = 0, int8_correct = 0, disagree = 0;
    status = psg::train::ForEachBatch(*(*data)->test, {batch_size, max_images, absl::GetFlag(FLAGS_workers)},
                          [&](const Tensor& x, const psg::data::Batch& b) {
      const std::vector<float> s = sim.Forward(x).ToPlain();
      const float* q = int8.Forward(x);
      sim_correct += CountCorrect(s.data(), classes, b);
      int8_correct += CountCorrect(q, classes, b);
      for (int i = 0; i < b.n; ++i) {
        disagree += std::max_element(s.data() + i * classes, s.data() + (i + 1) * classes) - s.data() !=
                    std::max_element(q + i * classes, q + (i + 1) * classes) - q;
      }
      images += b.n;
    });
    if (!status.ok()) return Fail(status.message());
    absl::StatusOr<std::vector<float>> first_batch =
        psg::train::FirstFullBatch(*(*data)->test, batch_size, absl::GetFlag(FLAGS_workers));
    if (!first_batch.ok()) return Fail(first_batch.status().message());

    // Speed at one full batch, all threads.
    const int passes = absl::GetFlag(FLAGS_timing_passes);
    const Tensor x = Tensor::View(first_batch->data(), {batch_size, shape.channels, shape.height, shape.width});
    const double fp32_s = MedianSeconds(passes, [&] {
      (*model)->Forward(x, psg::engine::Mode::kEval);
      psg::engine::Stream().wait();
    });
    const double int8_s = MedianSeconds(passes, [&] { int8.Forward(first_batch->data(), batch_size); });

    const double sim_acc = static_cast<double>(sim_correct) / images;
    const double int8_acc = static_cast<double>(int8_correct) / images;
    if (!output.empty()) {
      const psg::io::Json json = {{"checkpoint", checkpoint},
                                  {"model", mo.name},
                                  {"dataset", absl::GetFlag(FLAGS_dataset)},
                                  {"test_images", images},
                                  {"calibration_batches", calibration_batches},
                                  {"batch_size", batch_size},
                                  {"threads", omp_get_max_threads()},
                                  {"fp32_accuracy", fp32->accuracy},
                                  {"simulation_accuracy", sim_acc},
                                  {"int8_accuracy", int8_acc},
                                  {"int8_simulation_prediction_mismatches", disagree},
                                  {"fp32_images_per_second", batch_size / fp32_s},
                                  {"int8_images_per_second", batch_size / int8_s},
                                  {"speedup", fp32_s / int8_s},
                                  {"onednn_isa", psg::engine::EffectiveIsaName()},
                                  {"int8_dot_products_exact", psg::engine::Int8DotProductsExact()}};
      if (absl::Status s = psg::io::WriteJsonFile(output, json); !s.ok()) return Fail(s.message());
    }
    std::printf("\n| model | test images | fp32 acc | simulated int8 acc | int8 acc | int8 vs sim "
                "mismatches | fp32 img/s | int8 img/s | speedup |\n|---|---|---|---|---|---|---|---|---|\n"
                "| %s | %lld | %.2f %% | %.2f %% | %.2f %% | %lld | %.0f | %.0f | %.2fx |\n",
                mo.name.c_str(), static_cast<long long>(images), 100 * fp32->accuracy,
                100 * sim_acc, 100 * int8_acc, static_cast<long long>(disagree),
                batch_size / fp32_s, batch_size / int8_s, fp32_s / int8_s);
    std::printf("(batch %d, %d threads, median of %d passes; calibration: %d training batches)\n",
                batch_size, omp_get_max_threads(), passes, calibration_batches);
    if (!psg::engine::Int8DotProductsExact()) {
      std::printf(
          "note: oneDNN's ISA here (%s) has no VNNI: it halves the weights of s8-input layers and "
          "saturates u8 x s8 pair sums at int16, so int8 may differ from the simulation more than on a "
          "VNNI CPU\n",
          psg::engine::EffectiveIsaName().c_str());
    }
    if (!output.empty()) std::printf("results: %s\n", output.c_str());
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "Int8 post-training quantization of a checkpoint: accuracy and speed.", Run);
}
