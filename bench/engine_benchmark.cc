// Engine microbenchmarks at the ResNet-20 CIFAR shapes (batch 128):
// convolution forward, backward-data and backward-weights (GFLOP/s) and batch
// norm forward/backward (GB/s). Whole training steps: train_step_benchmark.
//
//   bazel run //bench:engine_benchmark -- --benchmark_filter=Conv
#include <vector>

#include "absl/strings/str_cat.h"

#include "benchmark/benchmark.h"
#include "engine/batch_norm.h"
#include "engine/context.h"
#include "engine/conv2d.h"
#include "engine/testing/gradient_check.h"

namespace psg {
namespace {

using engine::Mode;
using engine::Tensor;

constexpr int64_t kBatch = 128;

// {in channels, out channels, input size, stride} of ResNet-20's convolutions.
struct ConvShape {
  int64_t in, out, size, stride;
};
const ConvShape kShapes[] = {{16, 16, 32, 1}, {16, 32, 32, 2}, {32, 32, 16, 1},
                             {32, 64, 16, 2}, {64, 64, 8, 1}};

enum class Direction { kForward, kBackwardData, kBackwardWeights };

void BM_Conv(benchmark::State& state, Direction direction) {
  const ConvShape& s = kShapes[state.range(0)];
  engine::Conv2dOptions o;
  o.in_channels = s.in;
  o.out_channels = s.out;
  o.kernel = 3;
  o.stride = s.stride;
  o.padding = 1;
  o.input_grad = direction != Direction::kBackwardWeights;
  o.weight_grad = direction != Direction::kBackwardData;
  engine::Conv2d conv("conv", o);
  engine::testing::RandomizeParameters(conv, 1);
  const Tensor x = engine::testing::RandomPlain({kBatch, s.in, s.size, s.size}, 2);
  // Start from the layout the previous layer would hand over.
  const Tensor& y = conv.Forward(x, Mode::kTrain);
  const Tensor blocked_x = engine::testing::InLayout(x, dnnl::memory::format_tag::nChw16c);
  const Tensor dy = engine::testing::InLayout(engine::testing::RandomPlain(y.dims(), 3),
                                              dnnl::memory::format_tag::nChw16c);
  conv.Forward(blocked_x, Mode::kTrain);
  for (auto _ : state) {
    if (direction == Direction::kForward) {
      conv.Forward(blocked_x, Mode::kTrain);
    } else {
      conv.Backward(dy);
    }
    engine::Stream().wait();
  }
  const double out = s.size / s.stride;
  const double flops = 2.0 * kBatch * s.out * out * out * s.in * 9;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(absl::StrCat(s.in, "->", s.out, " @", s.size, " s", s.stride));
}

void BM_ConvForward(benchmark::State& state) { BM_Conv(state, Direction::kForward); }
void BM_ConvBackwardData(benchmark::State& state) { BM_Conv(state, Direction::kBackwardData); }
void BM_ConvBackwardWeights(benchmark::State& state) {
  BM_Conv(state, Direction::kBackwardWeights);
}
BENCHMARK(BM_ConvForward)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvBackwardData)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvBackwardWeights)->DenseRange(0, 4)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_BatchNorm(benchmark::State& state, bool backward) {
  const int64_t channels = state.range(0), size = 32 * 16 / channels;
  engine::BatchNormOptions o;
  o.channels = channels;
  o.fuse_relu = true;
  engine::BatchNorm2d bn("bn", o);
  const Tensor x = engine::testing::InLayout(
      engine::testing::RandomPlain({kBatch, channels, size, size}, 1),
      dnnl::memory::format_tag::nChw16c);
  const Tensor dy = engine::testing::InLayout(
      engine::testing::RandomPlain({kBatch, channels, size, size}, 2),
      dnnl::memory::format_tag::nChw16c);
  bn.Forward(x, Mode::kTrain);
  for (auto _ : state) {
    if (backward) {
      bn.Backward(dy);
    } else {
      bn.Forward(x, Mode::kTrain);
    }
    engine::Stream().wait();
  }
  // Forward reads x twice (statistics, normalization) and writes y; backward
  // reads x and dy twice and writes dx.
  const double bytes = (backward ? 5.0 : 3.0) * x.numel() * sizeof(float);
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
void BM_BatchNormForward(benchmark::State& state) { BM_BatchNorm(state, false); }
void BM_BatchNormBackward(benchmark::State& state) { BM_BatchNorm(state, true); }
BENCHMARK(BM_BatchNormForward)->Arg(16)->Arg(32)->Arg(64)->UseRealTime();
BENCHMARK(BM_BatchNormBackward)->Arg(16)->Arg(32)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace psg

BENCHMARK_MAIN();
