#include "engine/pooling.h"

#include <vector>

#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::HasSubstr;

struct PoolCase {
  PoolKind kind;
  reference::PoolKind ref_kind;
  int64_t n, c, h, kernel, stride, padding;
};

const PoolCase kCases[] = {
    {PoolKind::kMax, reference::PoolKind::kMax, 2, 3, 6, 2, 2, 0},
    {PoolKind::kMax, reference::PoolKind::kMax, 1, 5, 7, 3, 2, 1},
    {PoolKind::kMax, reference::PoolKind::kMax, 2, 17, 5, 3, 1, 1},
    {PoolKind::kAverage, reference::PoolKind::kAvgIncludePadding, 2, 3, 7, 3, 2, 1},
    {PoolKind::kAverage, reference::PoolKind::kAvgIncludePadding, 1, 16, 4, 2, 2, 0},
    {PoolKind::kAverageExcludePad, reference::PoolKind::kAvgExcludePadding, 2, 5, 5, 3, 2, 1},
    {PoolKind::kGlobalAverage, reference::PoolKind::kAvgIncludePadding, 3, 17, 4, 4, 4, 0},
};

class PoolSweep : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolSweep, ForwardMatchesReferenceInBothLayouts) {
  const PoolCase& k = GetParam();
  const Tensor x = testing::DistinctPlain({k.n, k.c, k.h, k.h}, 3);
  const std::vector<float> want =
      reference::Pool2d(x.ToPlain(), {k.n, k.c, k.h, k.h}, k.ref_kind, k.kernel, k.stride, k.padding);
  for (auto tag : {dnnl::memory::format_tag::nchw, dnnl::memory::format_tag::nChw16c}) {
    Pool2d pool("pool", {k.kind, k.kernel, k.stride, k.padding});
    const std::vector<float> got = pool.Forward(testing::InLayout(x, tag), Mode::kTrain).ToPlain();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;
  }
}

TEST_P(PoolSweep, BackwardMatchesFiniteDifferences) {
  const PoolCase& k = GetParam();
  Pool2d pool("pool", {k.kind, k.kernel, k.stride, k.padding});
  testing::ExpectGradientsMatch(pool, testing::DistinctPlain({k.n, k.c, k.h, k.h}, 4), {});
}

INSTANTIATE_TEST_SUITE_P(Shapes, PoolSweep, ::testing::ValuesIn(kCases));

TEST(PoolTest, RejectsBadArguments) {
  EXPECT_THAT([] { Pool2d("p", {PoolKind::kMax, 2, 0, 0}); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("stride=0")));
  EXPECT_THAT([] { Pool2d("p", {PoolKind::kMax, 2, 2, 2}); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("padding=2")));
  Pool2d pool("p", {PoolKind::kMax, 5, 1, 0});
  EXPECT_THAT([&] { pool.Forward(testing::RandomPlain({1, 2, 3, 3}, 1), Mode::kTrain); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("smaller than kernel 5")));
}

}  // namespace
}  // namespace psg::engine
