// Int8 inference of a batch-norm-folded graph (quant/bn_fold.h) on oneDNN, and
// a fake-quant simulation of exactly the same scheme in fp32 as its reference.
//
// The scheme (one per network, shared by both through Int8Plan):
//   * weights: symmetric s8 per output channel, levels -127..127, step
//     max|w_c| / 127 (quant/quantizer.h, restricted range, half-even);
//   * biases: int32 levels of the accumulator's step s_in * s_w[c];
//   * the network input: s8, levels -127..127, step max|x| / 127;
//   * every convolution output: u8 (levels 0..255, step max / 255) after a
//     fused ReLU, else s8 (levels -128..127 as oneDNN saturates, step
//     max|y| / 127), max from calibration of the fp32 graph (Calibrator);
//     requantization by output scales s_in * s_w[c] / s_out, half-even;
//   * ReLU and the residual add (+ ReLU) fused into the convolution that
//     computes the add's later input (a sum post-op over the other input);
//   * pooling keeps its input's step (max pooling is exact, average pooling
//     rounds to it); the final linear layer is an int8 inner product with f32
//     output (logits).
// Supported graphs: input, conv (with bias, fused ReLU), relu after a conv,
// add after a conv, pooling, and a final linear layer; anything else (an
// unfolded batch norm, a zero-pad shortcut) throws std::invalid_argument.
//
//   engine::Graph folded = FoldBatchNorm(graph);
//   Calibrator calibrator(folded);
//   for (const engine::Tensor& batch : calibration) calibrator.Observe(batch);
//   Int8Network net(folded, calibrator.ranges(), /*sample_dims=*/{3, 32, 32});
//   const float* logits = net.Forward(images_nchw, /*batch=*/128);   // {128, classes}
//   FakeQuantNetwork sim(folded, calibrator.ranges());
//   const engine::Tensor& reference = sim.Forward(x);
#ifndef PSG_QUANT_INT8_NETWORK_H_
#define PSG_QUANT_INT8_NETWORK_H_

#include <memory>
#include <vector>

#include "compression/quant_grid.h"
#include "engine/graph.h"
#include "engine/precision.h"
#include "engine/tensor.h"

namespace psg::quant {

// Calibration result: max |value| of each graph node's fp32 output (0 for
// nodes the scheme does not quantize), indexed by node id.
struct ActivationRanges {
  std::vector<float> max_abs;
};

// One step of the int8 network: a convolution (with its fused ReLU / add), a
// pooling, or the final linear layer.
struct Int8Step {
  enum class Op { kConv, kPool, kLinear };
  Op op = Op::kConv;
  int node = 0;         // the conv / pool / linear node
  int output_node = 0;  // the node whose value the step's output is (after fusions)
  int src = -1;         // the step giving the input (-1: the network input)
  int sum = -2;         // the step giving the fused add's other input (-1: input; -2: none)
  bool relu = false;
  bool output_signed = false;
  compression::GridPoint output_grid{1.0f, 0.0f, 0.0f};  // unused for the final linear layer
};

// The steps of a folded graph and their grids (scales from `ranges`, or
// unset when `ranges` is null: the plan of calibration).
struct Int8Plan {
  std::vector<Int8Step> steps;
  compression::GridPoint input_grid{1.0f, 0.0f, 0.0f};
};
Int8Plan MakeInt8Plan(const engine::Graph& folded, const ActivationRanges* ranges);

// Runs the folded graph in fp32 (engine layers, the plan's fusions) and
// records each quantized node's max |value| over the observed batches.
class Calibrator {
 public:
  explicit Calibrator(const engine::Graph& folded);
  ~Calibrator();
  void Observe(const engine::Tensor& batch_nchw);
  ActivationRanges ranges() const { return ranges_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  ActivationRanges ranges_;
  int input_node_ = 0;
};

// The scheme simulated in fp32: the engine's fp32 layers over fake-quantized
// weights, biases and activations (the same grids and rounding points).
class FakeQuantNetwork {
 public:
  FakeQuantNetwork(const engine::Graph& folded, const ActivationRanges& ranges);
  ~FakeQuantNetwork();
  // Logits {N, classes}, plain; valid until the next call.
  const engine::Tensor& Forward(const engine::Tensor& x_nchw);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The int8 network on oneDNN: primitives, weights in their layouts and
// buffers are made once per batch size and reused; Forward allocates nothing
// in steady state.
class Int8Network {
 public:
  // `sample_dims`: {C, H, W} of one input image.
  Int8Network(const engine::Graph& folded, const ActivationRanges& ranges,
              const engine::Dims& sample_dims);
  ~Int8Network();
  // `x`: batch * C * H * W floats in NCHW order. Returns batch * classes
  // logits (row-major), valid until the next call.
  const float* Forward(const float* x, int64_t batch);
  const float* Forward(const engine::Tensor& x_nchw);
  int64_t num_classes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The same network in floating point: the folded graph's convolutions with
// the int8 network's fusions (ReLU and residual adds as post-ops) in oneDNN's
// layouts, in fp32 (the deployment baseline that int8 is measured against;
// its logits equal the unfolded model's up to float rounding) or in bf16
// (engine/precision.h: bf16 activations and weights, rounded once at
// construction; f32 biases, accumulation and logits; the input converted to
// bf16 channels-last in one pass; std::runtime_error where the CPU lacks
// AVX512-BF16).
//
//   FusedFloatNetwork fp32(FoldBatchNorm(graph), /*sample_dims=*/{3, 32, 32});
//   const float* logits = fp32.Forward(images_nchw);   // {N, classes}
//   FusedFloatNetwork bf16(FoldBatchNorm(graph), {3, 32, 32}, engine::Precision::kBf16);
class FusedFloatNetwork {
 public:
  FusedFloatNetwork(const engine::Graph& folded, const engine::Dims& sample_dims,
                    engine::Precision precision = engine::Precision::kFp32);
  ~FusedFloatNetwork();
  // `x`: batch * C * H * W floats in NCHW order, read in place (fp32) or
  // converted (bf16). Returns batch * classes logits, valid until the next call.
  const float* Forward(const float* x, int64_t batch);
  const float* Forward(const engine::Tensor& x_nchw);
  int64_t num_classes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace psg::quant

#endif  // PSG_QUANT_INT8_NETWORK_H_
