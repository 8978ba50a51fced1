#include "engine/init.h"

#include <cmath>

#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(InitTest, KaimingNormalHasHeVariance) {
  Parameter w = Parameter::Trainable("w", ParamKind::kConvWeight, {64, 32, 3, 3});
  std::mt19937_64 rng(1);
  KaimingNormal(w, FanMode::kFanOut, rng);
  EXPECT_EQ(Fan(w, FanMode::kFanOut), 64 * 9);
  EXPECT_EQ(Fan(w, FanMode::kFanIn), 32 * 9);
  double sum = 0, sq = 0;
  for (float v : w.value.flat()) {
    sum += v;
    sq += double(v) * v;
  }
  const double n = w.value.numel(), var = sq / n - (sum / n) * (sum / n);
  EXPECT_NEAR(var, 2.0 / (64 * 9), 0.05 * 2.0 / (64 * 9));  // 18k samples: ~1 % std error
  EXPECT_NEAR(sum / n, 0.0, 4 * std::sqrt(var / n));
}

TEST(InitTest, UniformFanInStaysInBoundAndIsSeeded) {
  Parameter w = Parameter::Trainable("fc.weight", ParamKind::kFcWeight, {10, 64});
  Parameter b = Parameter::Trainable("fc.bias", ParamKind::kFcBias, {10});
  std::mt19937_64 rng(2), again(2);
  UniformFanIn(w, w, rng);
  UniformFanIn(b, w, rng);
  for (float v : w.value.flat()) EXPECT_LE(std::abs(v), 0.125f);
  for (float v : b.value.flat()) EXPECT_LE(std::abs(v), 0.125f);
  Parameter w2 = Parameter::Trainable("fc.weight", ParamKind::kFcWeight, {10, 64});
  UniformFanIn(w2, w2, again);
  EXPECT_EQ(w.value.ToPlain(), w2.value.ToPlain());
  EXPECT_THROW(Fan(b, FanMode::kFanIn), std::invalid_argument);
}

}  // namespace
}  // namespace psg::engine
