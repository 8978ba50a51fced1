// Engine microbenchmarks at the ResNet-20 CIFAR shapes (batch 128), in fp32
// and bf16 (second argument 0 / 1; bf16 where the CPU has it): convolution
// forward, backward-data and backward-weights (GFLOP/s) and batch norm
// forward/backward (GB/s), each on the layout its neighbours hand over
// (fp32: nChw16c; bf16: channels-last, as AMX convolutions produce).
// Whole training steps: train_step_benchmark.
//
//   bazel run //bench:engine_benchmark -- --benchmark_filter=Conv
#include <vector>

#include "absl/strings/str_cat.h"

#include "benchmark/benchmark.h"
#include "engine/batch_norm.h"
#include "engine/context.h"
#include "engine/conv2d.h"
#include "engine/precision.h"
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

// The precision of argument 1, or false (the case skipped) where bf16 cannot run.
bool PrecisionOf(benchmark::State& state, engine::Precision* precision) {
  *precision = state.range(1) == 1 ? engine::Precision::kBf16 : engine::Precision::kFp32;
  if (*precision == engine::Precision::kBf16 && !engine::Bf16Supported()) {
    state.SkipWithError("no AVX512-BF16 on this CPU");
    return false;
  }
  return true;
}

// `t` as the layer before would hand it over.
Tensor HandedOver(const Tensor& t, engine::Precision precision) {
  return engine::testing::InLayout(
      t,
      precision == engine::Precision::kBf16 ? dnnl::memory::format_tag::nhwc
                                            : dnnl::memory::format_tag::nChw16c,
      engine::ActivationType(precision));
}

void BM_Conv(benchmark::State& state, Direction direction) {
  const ConvShape& s = kShapes[state.range(0)];
  engine::Precision precision;
  if (!PrecisionOf(state, &precision)) return;
  engine::Conv2dOptions o;
  o.precision = precision;
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
  const Tensor handed_x = HandedOver(x, precision);
  const Tensor dy = HandedOver(engine::testing::RandomPlain(y.dims(), 3), precision);
  conv.Forward(handed_x, Mode::kTrain);
  for (auto _ : state) {
    if (direction == Direction::kForward) {
      conv.Forward(handed_x, Mode::kTrain);
    } else {
      conv.Backward(dy);
    }
    engine::Stream().wait();
  }
  const double out = s.size / s.stride;
  const double flops = 2.0 * kBatch * s.out * out * out * s.in * 9;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(absl::StrCat(s.in, "->", s.out, " @", s.size, " s", s.stride, " ",
                              engine::PrecisionName(precision)));
}

void BM_ConvForward(benchmark::State& state) { BM_Conv(state, Direction::kForward); }
void BM_ConvBackwardData(benchmark::State& state) { BM_Conv(state, Direction::kBackwardData); }
void BM_ConvBackwardWeights(benchmark::State& state) {
  BM_Conv(state, Direction::kBackwardWeights);
}
BENCHMARK(BM_ConvForward)
    ->ArgsProduct({benchmark::CreateDenseRange(0, 4, 1), {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvBackwardData)
    ->ArgsProduct({benchmark::CreateDenseRange(0, 4, 1), {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvBackwardWeights)
    ->ArgsProduct({benchmark::CreateDenseRange(0, 4, 1), {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_BatchNorm(benchmark::State& state, bool backward) {
  const int64_t channels = state.range(0), size = 32 * 16 / channels;
  engine::Precision precision;
  if (!PrecisionOf(state, &precision)) return;
  engine::BatchNormOptions o;
  o.channels = channels;
  o.fuse_relu = true;
  engine::BatchNorm2d bn("bn", o);
  const Tensor x =
      HandedOver(engine::testing::RandomPlain({kBatch, channels, size, size}, 1), precision);
  const Tensor dy =
      HandedOver(engine::testing::RandomPlain({kBatch, channels, size, size}, 2), precision);
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
  const double bytes = (backward ? 5.0 : 3.0) * x.numel() *
                       (precision == engine::Precision::kBf16 ? 2 : sizeof(float));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(engine::PrecisionName(precision));
}
void BM_BatchNormForward(benchmark::State& state) { BM_BatchNorm(state, false); }
void BM_BatchNormBackward(benchmark::State& state) { BM_BatchNorm(state, true); }
BENCHMARK(BM_BatchNormForward)->ArgsProduct({{16, 32, 64}, {0, 1}})->UseRealTime();
BENCHMARK(BM_BatchNormBackward)->ArgsProduct({{16, 32, 64}, {0, 1}})->UseRealTime();

}  // namespace
}  // namespace psg

BENCHMARK_MAIN();
