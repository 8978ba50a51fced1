// One ResNet-20 training step at batch 128 (forward, loss, backward, update)
// with SGD and with PSGD (4-bit grid, lambda 150), and the optimizer update
// alone, so PSGD's overhead per step can be read as a ratio from one run.
// Interleave the cases to compare them under the same machine load:
//
//   bazel run //bench:train_step_benchmark -- --benchmark_enable_random_interleaving=true
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/loss.h"
#include "engine/optimizer.h"
#include "engine/testing/gradient_check.h"
#include "models/zoo.h"
#include "psg/psgd.h"

namespace psg {
namespace {

using engine::Mode;

constexpr int64_t kBatch = 128;

enum OptimizerKind { kSgd = 0, kPsgd = 1 };

struct Setup {
  std::unique_ptr<engine::Sequential> net = models::BuildModel({"resnet20", 10});
  engine::ParameterList trainable;
  std::unique_ptr<engine::Optimizer> optimizer;

  explicit Setup(int64_t kind) {
    models::InitializeParameters(*net, 1);
    engine::ParameterList params;
    net->CollectParameters(&params);
    trainable = engine::TrainableOnly(params);
    if (kind == kSgd) {
      optimizer = std::make_unique<engine::Sgd>(
          trainable, engine::SgdOptions{.momentum = 0.9f, .weight_decay = 5e-4f});
    } else {
      optimizer = std::make_unique<psgd::Psgd>(
          trainable, psgd::PsgdOptions{.scaling = {.lambda = 150.0f}, .weight_decay = 5e-4f});
    }
  }
};

const char* Name(int64_t kind) { return kind == kSgd ? "SGD" : "PSGD 4-bit"; }

void BM_ResNet20TrainingStep(benchmark::State& state) {
  Setup s(state.range(0));
  engine::SoftmaxCrossEntropy loss({});
  const engine::Tensor x = engine::testing::RandomPlain({kBatch, 3, 32, 32}, 1);
  std::vector<int32_t> labels(kBatch);
  for (int64_t i = 0; i < kBatch; ++i) labels[i] = i % 10;
  for (auto _ : state) {
    loss.Forward(s.net->Forward(x, Mode::kTrain), labels);
    s.net->Backward(loss.Backward());
    s.optimizer->Step(0.01f);
  }
  state.counters["img/s"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(Name(state.range(0)));
}
BENCHMARK(BM_ResNet20TrainingStep)->Arg(kSgd)->Arg(kPsgd)->UseRealTime()->Unit(benchmark::kMillisecond);

// The update of all ResNet-20 parameters from fixed gradients.
void BM_ResNet20OptimizerStep(benchmark::State& state) {
  Setup s(state.range(0));
  uint32_t seed = 1;
  for (engine::Parameter* p : s.trainable) {
    p->grad.CopyFromPlain(engine::testing::RandomVector(p->grad.numel(), seed++, -1e-3f, 1e-3f));
  }
  for (auto _ : state) s.optimizer->Step(1e-6f);
  state.SetLabel(Name(state.range(0)));
}
BENCHMARK(BM_ResNet20OptimizerStep)->Arg(kSgd)->Arg(kPsgd)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace psg

BENCHMARK_MAIN();
