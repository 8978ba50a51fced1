// Training throughput of the zoo's models: a step is the forward pass in
// training mode, softmax cross-entropy, the backward pass and the optimizer
// update, on a fixed random batch (the data loader is measured on its own by
// //data:loader_benchmark). SGD and PSGD (4-bit grid, lambda 150) steps are
// timed interleaved in one run, so PSGD's overhead is a ratio under the same
// load. --profile prints where one step's time goes, layer by layer.
//
//   bazel run -c opt //bench:train_throughput -- --models=resnet20,resnet32,resnet18
//       --threads=2 --output=/tmp/train_throughput.json --profile
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/throughput_setup.h"
#include "engine/context.h"
#include "engine/loss.h"
#include "engine/optimizer.h"
#include "engine/profiler.h"
#include "experiments/timing.h"
#include "flags/ranges.h"
#include "models/zoo.h"
#include "psg/psgd.h"

ABSL_FLAG(std::string, models, "resnet20,resnet32,resnet18", "comma-separated zoo models");
ABSL_FLAG(int64_t, batch, 0, "batch size (0: 128, ResNet-18 32)");
PSG_FLAG_RANGE(batch, psg::flags::Between(0, 1 << 20));
ABSL_FLAG(int, threads, 0, "OpenMP threads (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(std::string, optimizers, "sgd,psgd", "comma-separated: sgd, psgd");
ABSL_FLAG(int, warmup, 3, "untimed steps per optimizer before timing");
PSG_FLAG_RANGE(warmup, psg::flags::AtLeast(0));
ABSL_FLAG(int, steps, 10, "timed steps per optimizer; the median is reported");
PSG_FLAG_RANGE(steps, psg::flags::AtLeast(1));
ABSL_FLAG(bool, profile, false, "print (and write) a per-layer profile of one SGD step");
ABSL_FLAG(std::string, output, "", "JSON result file (optional)");

namespace psg::bench {
namespace {

// One model with its own optimizer, loss and fixed batch.
class TrainingStep {
 public:
  TrainingStep(const ThroughputCase& c, const std::string& optimizer)
      : net_(models::BuildModel({c.model, c.classes})),
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
  const int steps = absl::GetFlag(FLAGS_steps);
  if (steps < 1 || absl::GetFlag(FLAGS_warmup) < 0) {
    throw std::invalid_argument("--steps must be >= 1 and --warmup >= 0");
  }
  io::Json results = io::Json::array(), profiles = io::Json::object();
  std::printf("| model | batch | optimizer | step ms | img/s |\n|---|---|---|---|---|\n");
  for (const ThroughputCase& c : cases) {
    std::vector<std::unique_ptr<TrainingStep>> runs;
    std::vector<std::function<void()>> calls;
    for (const std::string& optimizer : optimizers) {
      runs.push_back(std::make_unique<TrainingStep>(c, optimizer));
      calls.push_back([run = runs.back().get()] { run->Run(); });
    }
    const std::vector<double> seconds =
        experiments::InterleavedMedianSeconds(steps, calls, absl::GetFlag(FLAGS_warmup));
    for (size_t i = 0; i < optimizers.size(); ++i) {
      std::printf("| %s | %lld | %s | %.2f | %.1f |\n", c.model.c_str(),
                  static_cast<long long>(c.batch), optimizers[i].c_str(), 1e3 * seconds[i],
                  c.batch / seconds[i]);
      results.push_back({{"model", c.model},
                         {"parameters", runs[i]->parameters()},
                         {"batch", c.batch},
                         {"optimizer", optimizers[i]},
                         {"step_ms", 1e3 * seconds[i]},
                         {"images_per_second", c.batch / seconds[i]}});
    }
    if (seconds.size() == 2) {
      std::printf("| %s | | %s / %s step time | %.4f | |\n", c.model.c_str(),
                  optimizers[1].c_str(), optimizers[0].c_str(), seconds[1] / seconds[0]);
    }
    if (absl::GetFlag(FLAGS_profile)) {
      engine::Profiler profiler;
      {
        engine::Profiler::Recording recording(&profiler);
        runs[0]->Run();
      }
      std::printf("\nprofile of one %s step, %s, batch %lld, %d threads:\n%s\n",
                  optimizers[0].c_str(), c.model.c_str(), static_cast<long long>(c.batch), threads,
                  profiler.Table().c_str());
      profiles[c.model] = profiler.Json();
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
