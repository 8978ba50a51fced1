#include "engine/relu.h"

#include <algorithm>
#include <vector>

#include "engine/testing/gradient_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(ReluTest, ForwardMatchesScalarLoopInBothLayouts) {
  const Tensor x = testing::RandomPlain({2, 17, 3, 3}, 1);
  for (auto tag : {dnnl::memory::format_tag::nchw, dnnl::memory::format_tag::nChw16c}) {
    Relu relu("relu");
    const std::vector<float> y = relu.Forward(testing::InLayout(x, tag), Mode::kTrain).ToPlain();
    const std::vector<float> xs = x.ToPlain();
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], std::max(xs[i], 0.0f)) << i;
  }
}

TEST(ReluTest, BackwardMatchesFiniteDifferences) {
  for (const Dims& dims : std::vector<Dims>{{1, 3, 4, 4}, {2, 5, 3, 2}, {3, 17, 2, 2}}) {
    Relu relu("relu");
    testing::ExpectGradientsMatch(relu, testing::DistinctPlain(dims, 2), {});
  }
}

TEST(ReluTest, BackwardWithoutTrainingForwardIsRejected) {
  Relu relu("relu");
  EXPECT_THAT([&] { relu.Backward(testing::RandomPlain({1, 1, 2, 2}, 1)); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("Relu 'relu': Backward needs a preceding Forward")));
}

}  // namespace
}  // namespace psg::engine
