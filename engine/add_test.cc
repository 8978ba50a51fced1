#include "engine/add.h"

#include <algorithm>
#include <vector>

#include "engine/testing/gradient_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using dnnl::memory;

// 17 channels: blocked layouts end in a partial channel block, where oneDNN
// 2.6.3 on AVX2 overran the destination with the fused ReLU (engine/add.cc).
TEST(AddTest, ForwardMatchesScalarLoopAcrossMixedLayouts) {
  const Tensor a = testing::RandomPlain({2, 17, 3, 3}, 1);
  const Tensor b = testing::RandomPlain({2, 17, 3, 3}, 2);
  for (bool relu : {false, true}) {
    for (auto [ta, tb] : std::vector<std::pair<memory::format_tag, memory::format_tag>>{
             {memory::format_tag::nchw, memory::format_tag::nchw},
             {memory::format_tag::nChw16c, memory::format_tag::nchw},
             {memory::format_tag::nChw16c, memory::format_tag::nChw8c}}) {
      Add add("add", relu);
      const std::vector<float> y =
          add.Forward(testing::InLayout(a, ta), testing::InLayout(b, tb), Mode::kTrain).ToPlain();
      const std::vector<float> av = a.ToPlain(), bv = b.ToPlain();
      for (size_t i = 0; i < y.size(); ++i) {
        const float want = relu ? std::max(av[i] + bv[i], 0.0f) : av[i] + bv[i];
        ASSERT_FLOAT_EQ(y[i], want) << i;
      }
    }
  }
}

TEST(AddTest, ReluBackwardMasksByOutputSign) {
  const Tensor a = testing::DistinctPlain({1, 5, 3, 3}, 3);
  const Tensor b = Tensor::Plain({1, 5, 3, 3});
  const Tensor dy = testing::RandomPlain({1, 5, 3, 3}, 4);
  Add add("add", true);
  add.Forward(a, b, Mode::kTrain);
  const std::vector<float> d = add.Backward(dy).ToPlain();
  const std::vector<float> av = a.ToPlain(), dyv = dy.ToPlain();
  for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(d[i], av[i] > 0 ? dyv[i] : 0.0f) << i;
  Add plain_add("add", false);
  plain_add.Forward(a, b, Mode::kTrain);
  EXPECT_EQ(plain_add.Backward(dy).ToPlain(), dyv);
}

TEST(AddTest, RejectsMismatchedOperands) {
  Add add("join", false);
  EXPECT_THAT(
      [&] { add.Forward(Tensor::Plain({1, 2, 3, 3}), Tensor::Plain({1, 3, 3, 3}), Mode::kTrain); },
      ::testing::ThrowsMessage<std::invalid_argument>(
          ::testing::HasSubstr("Add 'join': operand dims differ: [1x2x3x3] and [1x3x3x3]")));
}

}  // namespace
}  // namespace psg::engine
