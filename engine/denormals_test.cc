#include "engine/denormals.h"

#include <omp.h>

#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace psg::engine {
namespace {

// A subnormal times one, through memory so the compiler cannot fold it.
float SubnormalProduct() {
  volatile float subnormal = std::numeric_limits<float>::denorm_min() * 1000.0f;
  volatile float one = 1.0f;
  return subnormal * one;
}

TEST(DenormalsTest, FlushesSubnormalsOnEveryOpenMpThread) {
  omp_set_num_threads(2);
  ASSERT_GT(SubnormalProduct(), 0.0f);  // IEEE default before
  FlushDenormalsToZero();
  EXPECT_EQ(SubnormalProduct(), 0.0f);
  std::vector<float> per_thread(omp_get_max_threads(), -1.0f);
#pragma omp parallel
  per_thread[omp_get_thread_num()] = SubnormalProduct();
  for (float v : per_thread) EXPECT_EQ(v, 0.0f);
  // Normal numbers are untouched.
  volatile float small = std::numeric_limits<float>::min();
  EXPECT_EQ(small * 1.0f, std::numeric_limits<float>::min());
}

}  // namespace
}  // namespace psg::engine
