#include "engine/loss.h"

#include <vector>

#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(SoftmaxCrossEntropyTest, ValueAndGradientMatchReferenceWithAndWithoutSmoothing) {
  const int64_t n = 5, k = 7;
  const std::vector<int32_t> labels = {0, 6, 3, 3, 1};
  for (float smoothing : {0.0f, 0.1f}) {
    SoftmaxCrossEntropy loss({smoothing});
    Tensor logits = testing::RandomPlain({n, k}, 1, -3.0f, 3.0f);
    const double value = loss.Forward(logits, labels);
    EXPECT_NEAR(value, reference::SoftmaxCrossEntropy(logits.ToPlain(), n, k, labels, smoothing),
                1e-6);
    const std::vector<float> grad = loss.Backward().ToPlain();
    const float eps = 1e-2f;
    for (int64_t i = 0; i < n * k; ++i) {
      std::vector<float> v = logits.ToPlain();
      v[i] += eps;
      const double plus = reference::SoftmaxCrossEntropy(v, n, k, labels, smoothing);
      v[i] -= 2 * eps;
      const double minus = reference::SoftmaxCrossEntropy(v, n, k, labels, smoothing);
      EXPECT_NEAR(grad[i], (plus - minus) / (2 * eps), 1e-4) << i;
    }
  }
}

TEST(SoftmaxCrossEntropyTest, CountsCorrectAndStaysFiniteForLargeLogits) {
  SoftmaxCrossEntropy loss({0.0f});
  Tensor logits = Tensor::Plain({2, 3});
  logits.CopyFromPlain({1000.0f, -1000.0f, 0.0f, 0.0f, 500.0f, 499.0f});
  const double value = loss.Forward(logits, std::vector<int32_t>{0, 2});
  EXPECT_EQ(loss.correct(), 1);
  EXPECT_NEAR(value, (0.0 + (1.0 + std::log1p(std::exp(-1.0)))) / 2, 1e-5);
}

TEST(SoftmaxCrossEntropyTest, RejectsBadLabelsAndShapes) {
  SoftmaxCrossEntropy loss({0.0f});
  Tensor logits = Tensor::Plain({2, 3});
  EXPECT_THAT([&] { loss.Forward(logits, std::vector<int32_t>{0, 3}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("label 3 of sample 1 is outside [0, 3)")));
  EXPECT_THAT([&] { loss.Forward(logits, std::vector<int32_t>{0}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("1 labels for a batch of 2")));
  EXPECT_THAT([] { SoftmaxCrossEntropy({1.0f}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("label smoothing must be in [0, 1)")));
}

}  // namespace
}  // namespace psg::engine
