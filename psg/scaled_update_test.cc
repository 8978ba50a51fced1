#include "psg/scaled_update.h"

#include <random>
#include <vector>

#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "engine/sgd_kernel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::psgd {
namespace {

using engine::Parameter;
using engine::ParamKind;

// A target every weight already sits on: with lambda = 1 and eps = 1 the scale
// lambda * (|w - w| + eps) is exactly 1.
struct Itself {
  float operator()(float w) const { return w; }
};
struct OnEveryWeight {
  using Point = Itself;
  void Observe(absl::Span<const float>) {}
  int64_t rows() const { return rows_; }
  Itself PointForRow(int64_t) const { return {}; }
  int64_t rows_;
};
static_assert(Target<OnEveryWeight>);

std::vector<float> Values(const Parameter& p) {
  const absl::Span<const float> v = p.value.flat();
  return {v.begin(), v.end()};
}

void FillRandom(absl::Span<float> x, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.1f);
  for (float& v : x) v = normal(rng);
}

TEST(ScaledUpdateTest, UnitScaleReproducesEngineSgdBitForBit) {
  const engine::SgdOptions cases[] = {
      {.momentum = 0.9f, .weight_decay = 1e-4f},
      {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true},
      {.momentum = 0.0f, .weight_decay = 1e-3f},
  };
  for (const engine::SgdOptions& options : cases) {
    for (int64_t rows : {1, 4}) {
      std::mt19937 rng(42);
      Parameter sgd_param = Parameter::Trainable("w", ParamKind::kConvWeight, {4, 3, 3, 3});
      Parameter psg_param = Parameter::Trainable("w", ParamKind::kConvWeight, {4, 3, 3, 3});
      FillRandom(sgd_param.value.flat(), rng);
      psg_param.value.CopyFromPlain(sgd_param.value.flat());
      engine::Sgd sgd({&sgd_param}, options);
      std::vector<float> buf(sgd_param.value.numel());
      OnEveryWeight target{rows};
      const engine::SgdHyper hyper{0.05f, options.momentum, 0.0f, options.weight_decay,
                                   options.nesterov};
      for (int step = 0; step < 5; ++step) {
        FillRandom(sgd_param.grad.flat(), rng);
        psg_param.grad.CopyFromPlain(sgd_param.grad.flat());
        sgd.Step(0.05f);
        const absl::Span<float> w = psg_param.value.flat();
        const float* g = psg_param.grad.flat().data();
        ScaledUpdate(target, {.lambda = 1.0f, .eps = 1.0f}, w,
                     [&](int64_t begin, int64_t size, auto scale) {
                       engine::SgdUpdate(hyper, step == 0, w.data() + begin, g + begin,
                                         buf.data() + begin, size, scale);
                     });
        ASSERT_EQ(Values(psg_param), Values(sgd_param))
            << "momentum " << options.momentum << " nesterov " << options.nesterov << " rows "
            << rows << " step " << step;
      }
    }
  }
}

TEST(ScaledUpdateTest, EachRowIsScaledByItsOwnGrid) {
  // Row 0 has range 0.7 (4-bit step 0.1), row 1 range 1.4 (step 0.2).
  const std::vector<float> w = {0.7f, 0.13f, -0.26f, 1.4f, 0.13f, -0.26f};
  const int64_t dims[] = {2, 3};
  GridTarget target({.per_channel = true, .estimate = RangeEstimate::kExact}, 4, dims);
  std::vector<float> scale_of(w.size(), -1.0f);
  ScaledUpdate(target, {.lambda = 2.0f, .eps = 0.01f}, w,
               [&](int64_t begin, int64_t size, auto scale) {
                 for (int64_t i = begin; i < begin + size; ++i) scale_of[i] = scale(w[i]);
               });
  // s = 2 * (|w - Q(w)| + 0.01)
  const float expected[] = {2 * 0.01f, 2 * 0.04f, 2 * 0.05f, 2 * 0.01f, 2 * 0.08f, 2 * 0.07f};
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(scale_of[i], expected[i], 1e-6f) << i;
}

TEST(ScaledUpdateTest, WeightsOnTheTargetGetZeroScale) {
  const DistanceScale<GridPoint> scale{GridPoint{0.25f, -3, 3}, 150.0f, 0.0f};
  for (float level : {-0.75f, -0.25f, 0.0f, 0.5f, 0.75f}) EXPECT_EQ(scale(level), 0.0f);
  EXPECT_FLOAT_EQ(scale(0.3f), 150.0f * 0.05f);
  const DistanceScale<ZeroPoint> pruning{ZeroPoint{}, 2.0f, 0.5f};
  EXPECT_FLOAT_EQ(pruning(-0.25f), 2.0f * (0.25f + 0.5f));
}

}  // namespace
}  // namespace psg::psgd
