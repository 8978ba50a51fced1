// Training throughput of the zoo's models: a step is the forward pass in
// training mode, softmax cross-entropy, the backward pass and the optimizer
// update, on a fixed random batch (the data loader is measured on its own by
// //data:loader_benchmark). SGD and PSGD (4-bit grid, lambda 150) steps, in
// each precision of --precision (fp32, bf16: engine/precision.h), are timed
// interleaved in one run, so PSGD's overhead and bf16's speed-up are ratios
// under the same load. --profile prints where one step's time goes, layer by
// layer, for each precision.
//
//   bazel run -c opt //bench:train_throughput -- --models=resnet20,resnet32,resnet18
//       --precision=fp32,bf16 --threads=2 --output=/tmp/train_throughput.json --profile
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/throughput_setup.h"
#include "engine/context.h"
#include "engine/loss.h"
#include "engine/optimizer.h"
#include "engine/precision.h"
#include "engine/profiler.h"
#include "flags/ranges.h"
#include "models/zoo.h"
#include "psg/psgd.h"
#include "report/timing.h"

ABSL_FLAG(std::string, models, "resnet20,resnet32,resnet18", "comma-separated zoo models");
ABSL_FLAG(int64_t, batch, 0, "batch size (0: 128, ResNet-18 32)");
PSG_FLAG_RANGE(batch, psg::flags::Between(0, 1 << 20));
ABSL_FLAG(int, threads, 0, "OpenMP threads (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(std::string, optimizers, "sgd,psgd", "comma-separated: sgd, psgd");
ABSL_FLAG(std::string, precision, "fp32",
          "comma-separated: fp32, bf16 (bf16 activations, f32 master weights; needs AVX512-BF16)");
ABSL_FLAG(int, warmup, 3, "untimed steps per optimizer before timing");
PSG_FLAG_RANGE(warmup, psg::flags::AtLeast(0));
ABSL_FLAG(int, steps, 10, "timed steps per optimizer; the median is reported");
PSG_FLAG_RANGE(steps, psg::flags::AtLeast(1));
ABSL_FLAG(bool, profile, false,
          "print (and write) a per-layer profile of one step of the first optimizer, per precision");
ABSL_FLAG(std::string, output, "", "JSON result file (optional)");

namespace psg::bench {
namespace {

// One model with its own optimizer, loss and fixed batch.
class TrainingStep {
 public:
  TrainingStep(const ThroughputCase& c, const std::string& optimizer, engine::Precision precision)
      : net_(models::BuildModel({.name = c.model, .num_classes = c.classes, .precision = precision})),
        x_(RandomInput(c, 1)),
        labels_(c.batch),
        loss_({}) {
    models::InitializeParameters(*net_, 1);
    engine::ParameterList params;
    net_->CollectParameters(&params);
    const engine::ParameterList trainable = engine::TrainableOnly(params);
    if (optimizer == "sgd") {
      optimizer_ = std::make_unique<engine::Sgd>(
          trainable, engine::SgdOptions{.momentum = 0.9f, .weight_decay = 1e-4f});
    } else if (optimizer == "psgd") {
      optimizer_ = std::make_unique<psgd::Psgd>(
          trainable, psgd::PsgdOptions{.scaling = {.lambda = 150.0f}, .weight_decay = 1e-4f});
    } else {
      throw std::invalid_argument("unknown optimizer '" + optimizer + "' (sgd or psgd)");
    }
    for (int64_t i = 0; i < c.batch; ++i) labels_[i] = static_cast<int32_t>(i % c.classes);
  }

  int64_t parameters() { return models::CountTrainableParameters(*net_); }

  void Run() {
    const engine::Tensor& logits = net_->Forward(x_, engine::Mode::kTrain);
    const engine::Tensor* dlogits;
    {
      engine::ProfileScope scope("loss", engine::Phase::kOther);
      loss_.Forward(logits, labels_);
      dlogits = &loss_.Backward();
    }
    net_->Backward(*dlogits);
    engine::ProfileScope scope("optimizer", engine::Phase::kOther);
    optimizer_->Step(1e-4f);
  }

 private:
  std::unique_ptr<engine::Sequential> net_;
  engine::Tensor x_;
  std::vector<int32_t> labels_;
  engine::SoftmaxCrossEntropy loss_;
  std::unique_ptr<engine::Optimizer> optimizer_;
};

int Main() {
  const int threads = SetThreads(absl::GetFlag(FLAGS_threads));
  const std::vector<ThroughputCase> cases =
      CasesFromFlag(absl::GetFlag(FLAGS_models), absl::GetFlag(FLAGS_batch));
  const std::vector<std::string> optimizers =
      absl::StrSplit(absl::GetFlag(FLAGS_optimizers), ',', absl::SkipWhitespace());
  std::vector<engine::Precision> precisions;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_precision), ',', absl::SkipWhitespace())) {
    engine::Precision precision;
    if (std::string error; !absl::ParseFlag(name, &precision, &error)) {
      throw std::invalid_argument(absl::StrCat("--precision: '", name, "': ", error));
    }
    precisions.push_back(precision);
    engine::RequirePrecision(precisions.back());
  }
  if (optimizers.empty() || precisions.empty()) {
    throw std::invalid_argument("--optimizers and --precision need at least one entry each");
  }
  const int steps = absl::GetFlag(FLAGS_steps);
  if (steps < 1 || absl::GetFlag(FLAGS_warmup) < 0) {
    throw std::invalid_argument("--steps must be >= 1 and --warmup >= 0");
  }
  io::Json results = io::Json::array(), profiles = io::Json::object();
  std::printf(
      "| model | batch | precision | optimizer | step ms | img/s |\n|---|---|---|---|---|---|\n");
  for (const ThroughputCase& c : cases) {
    // Every (precision, optimizer) pair, precision outermost.
    struct Run {
      engine::Precision precision;
      std::string optimizer;
      std::unique_ptr<TrainingStep> step;
    };
    std::vector<Run> runs;
    std::vector<std::function<void()>> calls;
    for (engine::Precision precision : precisions) {
      for (const std::string& optimizer : optimizers) {
        runs.push_back({precision, optimizer, std::make_unique<TrainingStep>(c, optimizer, precision)});
        calls.push_back([step = runs.back().step.get()] { step->Run(); });
      }
    }
    const std::vector<double> seconds =
        report::InterleavedMedianSeconds(steps, calls, absl::GetFlag(FLAGS_warmup));
    for (size_t i = 0; i < runs.size(); ++i) {
      const char* precision = engine::PrecisionName(runs[i].precision);
      std::printf("| %s | %lld | %s | %s | %.2f | %.1f |\n", c.model.c_str(),
                  static_cast<long long>(c.batch), precision, runs[i].optimizer.c_str(),
                  1e3 * seconds[i], c.batch / seconds[i]);
      results.push_back({{"model", c.model},
                         {"parameters", runs[i].step->parameters()},
                         {"batch", c.batch},
                         {"precision", precision},
                         {"optimizer", runs[i].optimizer},
                         {"step_ms", 1e3 * seconds[i]},
                         {"images_per_second", c.batch / seconds[i]}});
    }
    // Step-time ratios against the first run (the first precision's first optimizer).
    for (size_t i = 1; i < runs.size(); ++i) {
      std::printf("| %s | | %s %s / %s %s step time | | %.4f |\n", c.model.c_str(),
                  engine::PrecisionName(runs[i].precision), runs[i].optimizer.c_str(),
                  engine::PrecisionName(runs[0].precision), runs[0].optimizer.c_str(),
                  seconds[i] / seconds[0]);
    }
    if (absl::GetFlag(FLAGS_profile)) {
      for (size_t i = 0; i < runs.size(); i += optimizers.size()) {
        engine::Profiler profiler;
        {
          engine::Profiler::Recording recording(&profiler);
          runs[i].step->Run();
        }
        const char* precision = engine::PrecisionName(runs[i].precision);
        std::printf("\nprofile of one %s %s step, %s, batch %lld, %d threads:\n%s\n", precision,
                    runs[i].optimizer.c_str(), c.model.c_str(), static_cast<long long>(c.batch),
                    threads, profiler.Table().c_str());
        profiles[absl::StrCat(c.model, " ", precision)] = profiler.Json();
      }
    }
  }
  std::printf("(%d threads, median of %d interleaved steps after %d warm-up steps)\n", threads,
              steps, absl::GetFlag(FLAGS_warmup));
  WriteResultJson(absl::GetFlag(FLAGS_output), "train_throughput",
                  {{"steps", steps}, {"results", results}, {"profiles", profiles}});
  return 0;
}

}  // namespace
}  // namespace psg::bench

int main(int argc, char** argv) {
  return psg::bench::BenchmarkMain(argc, argv, "Training img/s of zoo models with SGD and PSGD steps.", psg::bench::Main);
}
