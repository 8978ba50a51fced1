// Every layer at Precision::kBf16 (or on bf16 activations) against the same
// layer in fp32 on the same values, over shape sweeps with channel counts and
// spatial sizes off oneDNN's blocks of 16 and AMX's of 32 (tails), in both
// directions. Convolutions and linear layers must meet the bf16 dot-product
// bound of engine/testing/bf16.h element by element; layers that do no sums of
// products on bf16 inputs (batch norm, pooling, ReLU, adds) compute in f32
// inside and round their bf16 output once, so they must meet u |fp32| plus
// the fp32 kernels' own tolerance against the scalar reference.
#include <omp.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/add.h"
#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/precision.h"
#include "engine/relu.h"
#include "engine/testing/bf16.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using testing::Abs;
using testing::Bf16Output;
using testing::ExpectWithinBf16Bound;
using testing::RandomPlain;

constexpr double kU = testing::kBf16UnitRoundoff;

// A bf16 copy of t in layout `layout`, its values rounded.
Tensor ToBf16(const Tensor& t, tag layout) {
  return testing::InLayout(t, layout, memory::data_type::bf16);
}

#define SKIP_WITHOUT_BF16()                                                                  \
  if (!Bf16Supported()) {                                                                    \
    GTEST_SKIP() << "this CPU has no AVX512-BF16 (oneDNN's ISA: " << EffectiveIsaName() \
                 << "); bf16 layers cannot run here";                                        \
  }

void CopyParameters(Layer& from, Layer& to) {
  ParameterList a, b;
  from.CollectParameters(&a);
  to.CollectParameters(&b);
  CopyValues(a, b);
}

// ---------------------------------------------------------------------------
// Convolution

struct ConvCase {
  int64_t n, c, h, w, out, kernel, stride, padding, groups;
  bool bias;
};

std::string ConvName(const ::testing::TestParamInfo<ConvCase>& info) {
  const ConvCase& k = info.param;
  return absl::StrCat("n", k.n, "c", k.c, "h", k.h, "w", k.w, "o", k.out, "k", k.kernel, "s",
                      k.stride, "p", k.padding, "g", k.groups, k.bias ? "bias" : "");
}

const ConvCase kConvCases[] = {
    {2, 3, 8, 8, 16, 3, 1, 1, 1, false},    // a first layer: 3 channels
    {1, 5, 7, 7, 17, 3, 2, 1, 1, true},     // tails everywhere, stride 2
    {3, 17, 6, 5, 5, 1, 1, 0, 1, false},    // 1x1, non-square
    {2, 16, 8, 8, 32, 1, 2, 0, 1, false},   // a projection shortcut
    {2, 16, 9, 9, 16, 3, 1, 1, 1, false},   // a ResNet block, odd size
    {1, 33, 5, 5, 31, 3, 1, 1, 1, true},    // past 32 channels, with tails
    {2, 32, 6, 6, 64, 3, 2, 1, 1, false},   // a down-sampling block
    {2, 64, 4, 4, 64, 3, 1, 1, 1, false},
    {2, 6, 5, 5, 9, 3, 1, 1, 3, true},      // groups
};

class Bf16ConvSweep : public ::testing::TestWithParam<ConvCase> {};

Conv2dOptions ConvOptions(const ConvCase& k, Precision precision) {
  return {.in_channels = k.c, .out_channels = k.out, .kernel = k.kernel, .stride = k.stride,
          .padding = k.padding, .groups = k.groups, .bias = k.bias, .precision = precision};
}

TEST_P(Bf16ConvSweep, MatchesFp32WithinTheBf16BoundBothWays) {
  SKIP_WITHOUT_BF16();
  const ConvCase& k = GetParam();
  Conv2d fp32("conv", ConvOptions(k, Precision::kFp32));
  Conv2d bf16("conv", ConvOptions(k, Precision::kBf16));
  // |x| * |w| sums: the fp32 layer on absolute values (bias 0).
  Conv2d sums("conv", ConvOptions(k, Precision::kFp32));
  testing::RandomizeParameters(fp32, 3);
  CopyParameters(fp32, bf16);
  const std::vector<float> w = fp32.weight().value.ToPlain();
  sums.weight().value.CopyFromPlain(Abs(fp32.weight().value).ToPlain());

  const Tensor x = RandomPlain({k.n, k.c, k.h, k.w}, 11);
  const Tensor x_abs = Abs(x);  // alive until Backward, as layers require
  const Tensor& y = bf16.Forward(x, Mode::kTrain);
  EXPECT_EQ(y.data_type(), memory::data_type::bf16);
  const std::vector<float> y16 = y.ToPlain();
  const int64_t per_out = k.c / k.groups * k.kernel * k.kernel;
  ExpectWithinBf16Bound(y16, fp32.Forward(x, Mode::kTrain).ToPlain(),
                        sums.Forward(x_abs, Mode::kTrain).ToPlain(), per_out, Bf16Output::kYes,
                        "output");

  const Dims out_dims = y.dims();
  const Tensor dy = RandomPlain(out_dims, 17);
  const std::vector<float> dx16 = bf16.Backward(dy).ToPlain();
  const int64_t per_in = k.out / k.groups * k.kernel * k.kernel;
  ExpectWithinBf16Bound(dx16, fp32.Backward(dy).ToPlain(), sums.Backward(Abs(dy)).ToPlain(),
                        per_in, Bf16Output::kYes, "input gradient");
  // Weight and bias gradients come out in f32: no output rounding.
  const int64_t per_weight = k.n * out_dims[2] * out_dims[3];
  ExpectWithinBf16Bound(bf16.weight().grad.ToPlain(), fp32.weight().grad.ToPlain(),
                        sums.weight().grad.ToPlain(), per_weight, Bf16Output::kNo,
                        "weight gradient");
  if (k.bias) {
    ExpectWithinBf16Bound(bf16.bias()->grad.ToPlain(), fp32.bias()->grad.ToPlain(),
                          sums.bias()->grad.ToPlain(), per_weight, Bf16Output::kNo,
                          "bias gradient");
  }
  // The f32 master weight is read, never rounded in place.
  EXPECT_EQ(bf16.weight().value.ToPlain(), w);
  EXPECT_EQ(bf16.weight().grad.data_type(), memory::data_type::f32);

  // Inside a network the input arrives in bf16 and blocked: the same result.
  Conv2d again("conv", ConvOptions(k, Precision::kBf16));
  CopyParameters(fp32, again);
  EXPECT_EQ(again.Forward(ToBf16(x, tag::nChw16c), Mode::kTrain).ToPlain(), y16);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16ConvSweep, ::testing::ValuesIn(kConvCases), ConvName);

// ---------------------------------------------------------------------------
// Linear

struct LinearCase {
  Dims input;  // {N, features} or {N, C, H, W}
  int64_t out;
};

class Bf16LinearSweep : public ::testing::TestWithParam<LinearCase> {};

const LinearCase kLinearCases[] = {
    {{3, 17}, 5}, {{2, 64}, 10}, {{5, 33}, 31}, {{1, 400}, 120},
    {{2, 16, 1, 1}, 10},  // after global pooling
    {{2, 3, 2, 2}, 7},    // flattened in NCHW order
};

TEST_P(Bf16LinearSweep, MatchesFp32WithinTheBf16BoundBothWays) {
  SKIP_WITHOUT_BF16();
  const LinearCase& k = GetParam();
  const int64_t n = k.input[0], features = Product(k.input) / n;
  Linear fp32("fc", {.in_features = features, .out_features = k.out});
  Linear bf16("fc", {.in_features = features, .out_features = k.out, .precision = Precision::kBf16});
  Linear sums("fc", {.in_features = features, .out_features = k.out});
  testing::RandomizeParameters(fp32, 5);
  CopyParameters(fp32, bf16);
  sums.weight().value.CopyFromPlain(Abs(fp32.weight().value).ToPlain());

  const Tensor x = RandomPlain(k.input, 7);
  // The input as a bf16 network hands it over (blocked if 4-D).
  const Tensor xb = ToBf16(x, k.input.size() == 4 ? tag::nChw16c : tag::ab);
  const Tensor& y = bf16.Forward(xb, Mode::kTrain);
  EXPECT_EQ(y.data_type(), memory::data_type::f32) << "logits stay f32 for the loss";
  // The input was rounded by ToBf16, so the fp32 reference reads the same values.
  // (Inputs stay alive until Backward: Linear reads them there.)
  const Tensor x_rounded = Tensor::Plain(k.input);
  x_rounded.CopyFromPlain(xb.ToPlain());
  const Tensor x_abs = Abs(x_rounded);
  ExpectWithinBf16Bound(y.ToPlain(), fp32.Forward(x_rounded, Mode::kTrain).ToPlain(),
                        sums.Forward(x_abs, Mode::kTrain).ToPlain(), features, Bf16Output::kNo,
                        "output");

  const Tensor dy = RandomPlain({n, k.out}, 9);  // f32, as the loss gives it
  const Tensor& dx = bf16.Backward(dy);
  EXPECT_EQ(dx.dims(), k.input);
  EXPECT_EQ(dx.data_type(), memory::data_type::bf16);
  ExpectWithinBf16Bound(dx.ToPlain(), fp32.Backward(dy).ToPlain(),
                        sums.Backward(Abs(dy)).ToPlain(), k.out, Bf16Output::kYes,
                        "input gradient");
  ExpectWithinBf16Bound(bf16.weight().grad.ToPlain(), fp32.weight().grad.ToPlain(),
                        sums.weight().grad.ToPlain(), n, Bf16Output::kNo, "weight gradient");
  ExpectWithinBf16Bound(bf16.bias()->grad.ToPlain(), fp32.bias()->grad.ToPlain(),
                        sums.bias()->grad.ToPlain(), n, Bf16Output::kNo, "bias gradient");
}

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16LinearSweep, ::testing::ValuesIn(kLinearCases));

// ---------------------------------------------------------------------------
// Layers that follow their input's data type. Their inputs here are bf16
// exact, so the fp32 layer reads the very same values.

struct ActivationCase {
  int64_t n, c, h, w;
  tag layout;
};

std::string ActivationName(const ::testing::TestParamInfo<ActivationCase>& info) {
  const ActivationCase& k = info.param;
  return absl::StrCat("n", k.n, "c", k.c, "h", k.h, "w", k.w, "_",
                      k.layout == tag::nchw ? "nchw" : k.layout == tag::nhwc ? "nhwc" : "nChw16c");
}

// Channels-last is what AMX's bf16 convolutions hand over (16 channels: batch
// norm's nChw16c twin).
const ActivationCase kActivationCases[] = {
    {2, 3, 5, 5, tag::nchw},   {1, 5, 4, 3, tag::nChw16c},  {4, 17, 3, 3, tag::nChw16c},
    {2, 16, 4, 4, tag::nhwc},  {3, 33, 3, 3, tag::nChw16c}, {2, 32, 5, 5, tag::nhwc},
    {1, 16, 3, 3, tag::nhwc},  {2, 48, 13, 11, tag::nhwc},  {2, 33, 5, 4, tag::nhwc},
};

class Bf16ActivationSweep : public ::testing::TestWithParam<ActivationCase> {
 protected:
  Dims dims() const { return {GetParam().n, GetParam().c, GetParam().h, GetParam().w}; }
  // Random values rounded to bf16: the f32 tensor and its bf16 copy in the case's layout.
  std::pair<Tensor, Tensor> Values(uint32_t seed, float lo = -1.0f, float hi = 1.0f) const {
    Tensor f = Tensor::Plain(dims());
    f.CopyFromPlain(testing::RoundToBf16(testing::RandomVector(Product(dims()), seed, lo, hi)));
    return {f, ToBf16(f, GetParam().layout)};
  }
};

double MaxAbs(const std::vector<float>& v) {
  double m = 0;
  for (float e : v) m = std::max(m, double(std::abs(e)));
  return m;
}

TEST_P(Bf16ActivationSweep, BatchNormIsFp32ArithmeticWithABf16Output) {
  SKIP_WITHOUT_BF16();
  const ActivationCase& k = GetParam();
  const int threads = omp_get_max_threads();
  // Also on 3 threads (tests run one thread each).
  for (auto [relu, threads_now] : {std::pair{false, 1}, std::pair{true, 1}, std::pair{true, 3}}) {
    SCOPED_TRACE(absl::StrCat(relu ? "fused ReLU, " : "no ReLU, ", threads_now, " threads"));
    omp_set_num_threads(threads_now);
    BatchNormOptions o{.channels = k.c, .fuse_relu = relu};
    BatchNorm2d fp32("bn", o), bf16("bn", o);
    fp32.gamma().value.CopyFromPlain(testing::RandomVector(k.c, 3, 0.5f, 1.5f));
    fp32.beta().value.CopyFromPlain(testing::RandomVector(k.c, 4, -0.5f, 0.5f));
    CopyParameters(fp32, bf16);
    const auto [x, xb] = Values(5, -2.0f, 3.0f);

    // Forward: the fp32 kernel is within 1e-4 of the double reference
    // (batch_norm_test); bf16 adds the rounding of its output.
    const Tensor& y = bf16.Forward(xb, Mode::kTrain);
    EXPECT_EQ(y.data_type(), memory::data_type::bf16);
    const auto ref = reference::BatchNormTrain(x.ToPlain(), {k.n, k.c, k.h, k.w},
                                               fp32.gamma().value.ToPlain(),
                                               fp32.beta().value.ToPlain(), 1e-5, relu);
    const std::vector<float> y16 = y.ToPlain();
    for (size_t i = 0; i < y16.size(); ++i) {
      ASSERT_NEAR(y16[i], ref.y[i], kU * std::abs(ref.y[i]) + 1e-4) << "output " << i;
    }
    // Statistics come from the same values in f32.
    fp32.Forward(x, Mode::kTrain);
    const std::vector<float> rm32 = fp32.running_mean().value.ToPlain();
    const std::vector<float> rv32 = fp32.running_var().value.ToPlain();
    const std::vector<float> rm16 = bf16.running_mean().value.ToPlain();
    const std::vector<float> rv16 = bf16.running_var().value.ToPlain();
    for (int64_t c = 0; c < k.c; ++c) {
      EXPECT_NEAR(rm16[c], rm32[c], 1e-5) << c;
      EXPECT_NEAR(rv16[c], rv32[c], 1e-5) << c;
    }

    // Backward on a bf16-exact gradient. The fp32 and bf16 kernels differ by
    // f32 summation order over at most 108 values per channel (relative
    // 108 x 2^-24 < 1e-5 of the terms; 1e-4 of the largest leaves 10x) and by
    // the bf16 rounding of the input gradient.
    const auto [dy, dyb] = Values(6);
    const std::vector<float> dx32 = fp32.Backward(dy).ToPlain();
    const std::vector<float> dx16 = bf16.Backward(dyb).ToPlain();
    const double dx_scale = MaxAbs(dx32);
    for (size_t i = 0; i < dx16.size(); ++i) {
      ASSERT_NEAR(dx16[i], dx32[i], kU * std::abs(dx32[i]) + 1e-4 * dx_scale) << "dx " << i;
    }
    for (Parameter* p : {&fp32.gamma(), &fp32.beta()}) {
      Parameter& q = p == &fp32.gamma() ? bf16.gamma() : bf16.beta();
      const std::vector<float> g32 = p->grad.ToPlain(), g16 = q.grad.ToPlain();
      const double scale = MaxAbs(g32) + 1e-3;
      for (int64_t c = 0; c < k.c; ++c) EXPECT_NEAR(g16[c], g32[c], 1e-4 * scale) << p->name << c;
    }

    // Evaluation with the running statistics.
    const std::vector<float> e16 = bf16.Forward(xb, Mode::kEval).ToPlain();
    const std::vector<float> e_ref = reference::BatchNormInference(
        x.ToPlain(), {k.n, k.c, k.h, k.w}, fp32.gamma().value.ToPlain(),
        fp32.beta().value.ToPlain(), rm16, rv16, 1e-5, relu);
    for (size_t i = 0; i < e16.size(); ++i) {
      ASSERT_NEAR(e16[i], e_ref[i], kU * std::abs(e_ref[i]) + 1e-4) << "eval output " << i;
    }
  }
  omp_set_num_threads(threads);
}

TEST_P(Bf16ActivationSweep, ReluAndResidualAddRoundOnlyTheSum) {
  SKIP_WITHOUT_BF16();
  const auto [a, ab] = Values(7);
  const auto [b, bb] = Values(8);
  // ReLU is exact both ways.
  Relu relu32("relu"), relu16("relu");
  EXPECT_EQ(relu16.Forward(ab, Mode::kTrain).ToPlain(), relu32.Forward(a, Mode::kTrain).ToPlain());
  const auto [dy, dyb] = Values(9);
  EXPECT_EQ(relu16.Backward(dyb).ToPlain(), relu32.Backward(dy).ToPlain());
  // a + b (+ ReLU) is rounded once; its gradient is exact. The second
  // operand may come in f32 (a zero-pad shortcut): it is converted.
  for (bool with_relu : {false, true}) {
    Add add32("add", with_relu), add16("add", with_relu);
    const std::vector<float> want = add32.Forward(a, b, Mode::kTrain).ToPlain();
    for (const Tensor* second : {&bb, &b}) {
      const std::vector<float> got = add16.Forward(ab, *second, Mode::kTrain).ToPlain();
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], kU * std::abs(want[i])) << i;
      }
      EXPECT_EQ(add16.Backward(dyb).ToPlain(), add32.Backward(dy).ToPlain());
    }
  }
}

TEST_P(Bf16ActivationSweep, PoolingMaxIsExactAverageRoundsOnce) {
  SKIP_WITHOUT_BF16();
  const ActivationCase& k = GetParam();
  const Tensor x = testing::DistinctBf16Plain(dims(), 10);
  const Tensor xb = ToBf16(x, k.layout);
  const PoolOptions options[] = {{PoolKind::kMax, 2, 2, 0}, {PoolKind::kMax, 3, 2, 1},
                                 {PoolKind::kAverage, 3, 2, 1},
                                 {PoolKind::kAverageExcludePad, 2, 1, 0},
                                 {PoolKind::kGlobalAverage}};
  for (const PoolOptions& o : options) {
    if (o.kind == PoolKind::kGlobalAverage && k.h != k.w) continue;
    if (o.kind != PoolKind::kGlobalAverage && o.kernel > std::min(k.h, k.w) + 2 * o.padding) continue;
    SCOPED_TRACE(absl::StrCat("pool kind ", static_cast<int>(o.kind), " kernel ", o.kernel));
    Pool2d pool32("pool", o), pool16("pool", o), sums("pool", o);
    const Tensor x_abs = Abs(x);
    const std::vector<float> y32 = pool32.Forward(x, Mode::kTrain).ToPlain();
    const Tensor& y = pool16.Forward(xb, Mode::kTrain);
    EXPECT_EQ(y.data_type(), memory::data_type::bf16);
    const Tensor dy = testing::DistinctBf16Plain(y.dims(), 11);
    const std::vector<float> dx32 = pool32.Backward(dy).ToPlain();
    const std::vector<float> dx16 = pool16.Backward(ToBf16(dy, tag::nchw)).ToPlain();
    if (o.kind == PoolKind::kMax) {
      EXPECT_EQ(y.ToPlain(), y32);
      // Where windows overlap, an input that is the maximum of several sums
      // their gradients (at most ceil(kernel / stride)^2, bf16 exact) and the
      // bf16 result is rounded: the bound over sum |dy| on the same routes.
      pool32.Forward(x, Mode::kTrain);
      const int64_t overlap = (o.kernel + o.stride - 1) / o.stride;
      ExpectWithinBf16Bound(dx16, dx32, pool32.Backward(Abs(dy)).ToPlain(), overlap * overlap,
                            Bf16Output::kYes, "max gradient");
      continue;
    }
    // An average is a sum of kernel^2 weighted terms (weights 1 / count, in
    // f32) rounded to bf16 once: within the bound with exact operands.
    const int64_t window = o.kind == PoolKind::kGlobalAverage ? k.h * k.w : o.kernel * o.kernel;
    ExpectWithinBf16Bound(y.ToPlain(), y32, sums.Forward(x_abs, Mode::kTrain).ToPlain(), window,
                          Bf16Output::kYes, "average");
    ExpectWithinBf16Bound(dx16, dx32, sums.Backward(Abs(dy)).ToPlain(), window,
                          Bf16Output::kYes, "average gradient");
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16ActivationSweep, ::testing::ValuesIn(kActivationCases),
                         ActivationName);

}  // namespace
}  // namespace psg::engine
