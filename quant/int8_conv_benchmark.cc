// Int8 convolution (u8 activations, s8 weights, per-channel output scales,
// fused ReLU, u8 output) against fp32 convolution on oneDNN at the ResNet-20
// shapes, batch 128, forward inference; GFLOP/s (fp32) and GOP/s (int8) count
// 2 * N * OH * OW * OC * IC * K * K.
//
//   bazel run -c opt //quant:int8_conv_benchmark
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/context.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace psg::quant {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

struct Shape {
  int64_t channels, size;
};
constexpr Shape kShapes[] = {{16, 32}, {32, 16}, {64, 8}};
constexpr int64_t kBatch = 128;

memory Filled(const memory::desc& md) {
  memory m(md, engine::Cpu());
  auto* p = static_cast<uint8_t*>(m.get_data_handle());
  for (size_t i = 0; i < md.get_size(); ++i) p[i] = static_cast<uint8_t>((i * 37) % 61);
  return m;
}

void Run(benchmark::State& state, bool int8) {
  const Shape& s = kShapes[state.range(0)];
  const int64_t c = s.channels, h = s.size;
  const dt act = int8 ? dt::u8 : dt::f32;
  const tag act_tag = int8 ? tag::nhwc : tag::any;
  const memory::desc src_md({kBatch, c, h, h}, act, act_tag);
  const memory::desc dst_md({kBatch, c, h, h}, act, act_tag);
  const memory::desc wei_md({c, c, 3, 3}, int8 ? dt::s8 : dt::f32, tag::any);
  const memory::desc bias_md({c}, int8 ? dt::s32 : dt::f32, tag::a);
  dnnl::primitive_attr attr;
  if (int8) attr.set_output_scales(1 << 1, std::vector<float>(c, 0.01f));
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  attr.set_post_ops(ops);
  dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::convolution_direct, src_md, wei_md, bias_md,
                                      dst_md, {1, 1}, {1, 1}, {1, 1}),
      attr, engine::Cpu());
  dnnl::convolution_forward conv(pd);
  memory src = Filled(pd.src_desc()), wei = Filled(pd.weights_desc());
  memory bias = Filled(bias_md), dst = Filled(pd.dst_desc());
  if (!int8) {  // small finite floats instead of byte patterns
    for (memory* m : {&src, &wei, &bias}) {
      float* p = static_cast<float*>(m->get_data_handle());
      for (size_t i = 0; i < m->get_desc().get_size() / sizeof(float); ++i) p[i] = 0.01f * (i % 7);
    }
  }
  for (auto _ : state) {
    engine::Execute(conv, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bias},
                           {DNNL_ARG_DST, dst}});
    engine::Stream().wait();
  }
  const double ops_per_pass = 2.0 * kBatch * h * h * c * c * 9;
  state.counters[int8 ? "GOP/s" : "GFLOP/s"] = benchmark::Counter(
      ops_per_pass * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(absl::StrCat(c, "->", c, " @", h, " batch ", kBatch, " ",
                              int8 ? "u8*s8" : "f32", " (", pd.impl_info_str(), ")"));
}

void BM_ConvF32(benchmark::State& state) { Run(state, false); }
void BM_ConvInt8(benchmark::State& state) { Run(state, true); }

BENCHMARK(BM_ConvF32)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvInt8)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace psg::quant

BENCHMARK_MAIN();
