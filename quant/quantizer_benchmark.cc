// TensorQuantizer's one-pass kernels over tensors of 1K..16M elements: 4-bit
// restricted grids per tensor or per output channel (64 rows), each rounding.
// Bytes are memory traffic, read plus written: FakeQuantize reads and writes a
// float (8 B per element), ToCodes reads a float and writes an int8 (5 B).
// Beyond the caches both should run near the machine's streaming bandwidth.
//
//   bazel run //quant:quantizer_benchmark -- --benchmark_min_time=0.2
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "engine/testing/weight_like.h"
#include "quant/quantizer.h"

namespace psg::quant {
namespace {

constexpr int64_t kChannels = 64;

// Arguments: {elements, per channel (0/1), rounding (0 half even, 1 half away)}.
TensorQuantizer QuantizerFor(const benchmark::State& state, const std::vector<float>& w) {
  const bool per_channel = state.range(1) != 0;
  const std::vector<int64_t> dims = {kChannels, state.range(0) / kChannels};
  const QuantizerSpec spec{.bits = 4,
                           .per_channel = per_channel,
                           .rounding = state.range(2) ? Rounding::kHalfAway : Rounding::kHalfEven};
  return TensorQuantizer::FromExactRange(spec, dims, w);
}

void Report(benchmark::State& state, int64_t bytes_per_element) {
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * bytes_per_element);
}

void BM_FakeQuantize(benchmark::State& state) {
  const std::vector<float> w = WeightLike(state.range(0), 1);
  std::vector<float> out(w.size());
  const TensorQuantizer q = QuantizerFor(state, w);
  for (auto _ : state) {
    q.FakeQuantize(w, absl::MakeSpan(out));
    benchmark::ClobberMemory();
  }
  Report(state, 8);
}

void BM_ToCodes(benchmark::State& state) {
  const std::vector<float> w = WeightLike(state.range(0), 1);
  std::vector<int8_t> codes(w.size());
  const TensorQuantizer q = QuantizerFor(state, w);
  for (auto _ : state) {
    q.ToCodes(w, absl::MakeSpan(codes));
    benchmark::ClobberMemory();
  }
  Report(state, 5);
}

std::vector<int64_t> Sizes() { return benchmark::CreateRange(1 << 10, 1 << 24, 4); }

BENCHMARK(BM_FakeQuantize)
    ->ArgsProduct({Sizes(), {0, 1}, {0, 1}})
    ->ArgNames({"n", "per_channel", "half_away"});
BENCHMARK(BM_ToCodes)
    ->ArgsProduct({Sizes(), {0, 1}, {0}})
    ->ArgNames({"n", "per_channel", "half_away"});

}  // namespace
}  // namespace psg::quant
