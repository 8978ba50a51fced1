// Magnitude pruning costs: global threshold selection (exact k smallest over
// all covered weights) at ResNet-56 (CIFAR, 0.85 M weights) and ResNet-18
// (CIFAR, 11.2 M weights) shapes, and mask application in GB/s (bytes of
// weights read and written plus mask read).
//
//   bazel run //prune:prune_benchmark -- --benchmark_min_time=0.2
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/parameter.h"
#include "prune/magnitude.h"
#include "prune/mask.h"

namespace psg::prune {
namespace {

using engine::Dims;
using engine::Parameter;
using engine::ParamKind;

// One BasicBlock stage: `blocks` blocks of two 3x3 convolutions, the first
// from `in` channels, with a 1x1 projection shortcut when the width changes.
void Stage(std::vector<Dims>& convs, int64_t in, int64_t out, int blocks) {
  for (int b = 0; b < blocks; ++b) {
    convs.push_back({out, b == 0 ? in : out, 3, 3});
    convs.push_back({out, out, 3, 3});
  }
  if (in != out) convs.push_back({out, in, 1, 1});
}

std::vector<Dims> ResNet56Convs() {
  std::vector<Dims> convs = {{16, 3, 3, 3}};
  Stage(convs, 16, 16, 9);
  Stage(convs, 16, 32, 9);
  Stage(convs, 32, 64, 9);
  return convs;
}

std::vector<Dims> ResNet18Convs() {
  std::vector<Dims> convs = {{64, 3, 3, 3}};
  Stage(convs, 64, 64, 2);
  Stage(convs, 64, 128, 2);
  Stage(convs, 128, 256, 2);
  Stage(convs, 256, 512, 2);
  return convs;
}

// Convolutions then a 10-class classifier, with Gaussian weights.
struct Network {
  explicit Network(const std::vector<Dims>& convs) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (size_t i = 0; i <= convs.size(); ++i) {
      const bool fc = i == convs.size();
      storage.push_back(Parameter::Trainable(fc ? "fc" : "conv" + std::to_string(i),
                                             fc ? ParamKind::kFcWeight : ParamKind::kConvWeight,
                                             fc ? Dims{10, convs.back()[0]} : convs[i]));
      for (float& w : storage.back().value.flat()) w = normal(rng);
      params.push_back(&storage.back());
    }
  }
  std::deque<Parameter> storage;
  engine::ParameterList params;
};

void BM_GlobalSelection(benchmark::State& state, std::vector<Dims> (*shapes)()) {
  Network net(shapes());
  int64_t covered = 0;
  for (auto _ : state) {
    MaskSet masks = MagnitudeMasks(net.params, {.sparsity = 0.9, .scope = Scope::kGlobal});
    covered = Total(masks.Report()).size;
    benchmark::DoNotOptimize(masks);
  }
  state.counters["weights"] = static_cast<double>(covered);
  state.SetItemsProcessed(state.iterations() * covered);
}
BENCHMARK_CAPTURE(BM_GlobalSelection, resnet56, &ResNet56Convs)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GlobalSelection, resnet18, &ResNet18Convs)->Unit(benchmark::kMillisecond);

void BM_ApplyMasks(benchmark::State& state, std::vector<Dims> (*shapes)()) {
  Network net(shapes());
  const MaskSet masks = MagnitudeMasks(net.params, {.sparsity = 0.9, .scope = Scope::kGlobal});
  const int64_t covered = Total(masks.Report()).size;
  for (auto _ : state) {
    masks.Apply();
    benchmark::ClobberMemory();
  }
  // Weights read and written, mask read: 12 bytes per covered weight.
  state.SetBytesProcessed(state.iterations() * covered * 12);
}
BENCHMARK_CAPTURE(BM_ApplyMasks, resnet56, &ResNet56Convs);
BENCHMARK_CAPTURE(BM_ApplyMasks, resnet18, &ResNet18Convs);

}  // namespace
}  // namespace psg::prune
