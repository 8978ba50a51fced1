#include "prune/snip.h"

#include <cmath>
#include <vector>

#include "engine/linear.h"
#include "engine/parameter.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::prune {
namespace {

using engine::Linear;
using engine::Mode;
using engine::Tensor;

Tensor PlainOf(const engine::Dims& dims, const std::vector<float>& values) {
  Tensor t = Tensor::Plain(dims);
  std::copy(values.begin(), values.end(), t.flat().begin());
  return t;
}

// One training batch of the linear model y = x W^T with the scalar
// L = sum(y * dy): dL/dW[o][i] = sum_n dy[n][o] x[n][i].
void Batch(Linear& fc, const Tensor& x, const Tensor& dy, SnipSaliency& snip) {
  fc.Forward(x, Mode::kTrain);
  fc.Backward(dy);
  snip.Accumulate();
}

TEST(SnipTest, SaliencyIsWeightTimesBatchSummedGradient) {
  Linear fc("fc", {.in_features = 3, .out_features = 2, .bias = false});
  const std::vector<float> w = {0.5f, -2.0f, 1.0f, -0.25f, 3.0f, 0.0f};  // {2, 3}
  std::copy(w.begin(), w.end(), fc.weight().value.flat().begin());
  engine::ParameterList params;
  fc.CollectParameters(&params);
  SnipSaliency snip(params, /*prune_first_last=*/true);  // the only (last) FC weight
  ASSERT_EQ(snip.parameters().size(), 1u);
  // Batch 1: x = {{1, 2, 3}}, dy = {{1, -1}}: g = {{1, 2, 3}, {-1, -2, -3}}.
  Batch(fc, PlainOf({1, 3}, {1, 2, 3}), PlainOf({1, 2}, {1, -1}), snip);
  // Batch 2: x = {{0, 1, -1}, {2, 0, 0}}, dy = {{2, 0}, {0, 1}}:
  // g = {{0, 2, -2}, {2, 0, 0}}.
  Batch(fc, PlainOf({2, 3}, {0, 1, -1, 2, 0, 0}), PlainOf({2, 2}, {2, 0, 0, 1}), snip);
  EXPECT_EQ(snip.batches(), 2);
  // Summed g = {{1, 4, 1}, {1, -2, -3}}; |g * w|:
  EXPECT_THAT(snip.Saliency(0), ::testing::Pointwise(::testing::FloatNear(1e-6f),
                                                     std::vector<float>{0.5f, 8.0f, 1.0f, 0.25f, 6.0f, 0.0f}));
  // 50 %: the three least salient (0, 0.25, 0.5) are pruned; weights untouched.
  const MaskSet masks = snip.Masks({.sparsity = 0.5, .scope = Scope::kGlobal});
  EXPECT_THAT(masks.mask(0), ::testing::ElementsAre(0, 1, 1, 0, 1, 0));
  EXPECT_THAT(fc.weight().value.flat(), ::testing::ElementsAreArray(w));
}

TEST(SnipTest, ExactSparsityGlobalAndLayerWise) {
  Linear a("a", {.in_features = 7, .out_features = 5, .bias = true});
  Linear b("b", {.in_features = 5, .out_features = 3, .bias = false});
  engine::ParameterList params;
  a.CollectParameters(&params);
  b.CollectParameters(&params);
  for (engine::Parameter* p : params) {
    float v = 0.37f * static_cast<float>(p->value.numel());
    for (float& x : p->value.flat()) x = v = std::fmod(v * 1.7f + 0.31f, 2.0f) - 1.0f;
  }
  // With first/last the last FC weight is covered; "a" is a hidden FC layer,
  // never covered. Its gradient flows through it into b's only through x.
  SnipSaliency snip(params, true);
  ASSERT_EQ(snip.parameters().size(), 1u);
  EXPECT_EQ(snip.parameters()[0]->name, "b.weight");
  Tensor x = Tensor::Plain({4, 7});
  for (size_t i = 0; i < x.flat().size(); ++i) x.flat()[i] = std::sin(float(i));
  Tensor dy = Tensor::Plain({4, 3});
  for (size_t i = 0; i < dy.flat().size(); ++i) dy.flat()[i] = std::cos(float(i));
  b.Forward(a.Forward(x, Mode::kTrain), Mode::kTrain);
  a.Backward(b.Backward(dy));
  snip.Accumulate();
  const std::vector<float> saliency = snip.Saliency(0);
  for (double sparsity : {0.0, 0.2, 0.5, 0.9}) {
    for (Scope scope : {Scope::kGlobal, Scope::kLayer}) {
      const MaskSet masks = snip.Masks({.sparsity = sparsity, .scope = scope});
      const LayerSparsity total = Total(masks.Report());
      EXPECT_EQ(total.pruned, std::llround(sparsity * 15));
      float max_pruned = -1, min_kept = 1e30f;
      for (size_t i = 0; i < saliency.size(); ++i) {
        if (masks.mask(0)[i] == 0) {
          max_pruned = std::max(max_pruned, saliency[i]);
        } else {
          min_kept = std::min(min_kept, saliency[i]);
        }
      }
      EXPECT_LE(max_pruned, min_kept) << sparsity;
    }
  }
}

TEST(SnipTest, RejectsMisuse) {
  Linear fc("fc", {.in_features = 3, .out_features = 2, .bias = false});
  engine::ParameterList params;
  fc.CollectParameters(&params);
  EXPECT_THAT([&] { SnipSaliency(params, false); }, ThrowsInvalidArgument("SNIP: no covered weights"));
  SnipSaliency snip(params, true);
  EXPECT_THAT([&] { snip.Masks({.sparsity = 0.5}); }, ThrowsInvalidArgument("no gradients accumulated"));
  fc.Forward(PlainOf({1, 3}, {1, 2, 3}), Mode::kTrain);
  fc.Backward(PlainOf({1, 2}, {1, 1}));
  snip.Accumulate();
  EXPECT_THAT([&] { snip.Masks({.sparsity = 1.0}); }, ThrowsInvalidArgument("sparsity must be in [0, 1)"));
}

}  // namespace
}  // namespace psg::prune
