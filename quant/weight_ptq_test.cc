#include "quant/weight_ptq.h"

#include <cmath>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "engine/parameter_snapshot.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::quant {
namespace {

using engine::Parameter;
using engine::ParamKind;

// A small network's parameters: stem conv, BN, a block conv, the classifier.
class WeightPtqTest : public ::testing::Test {
 protected:
  WeightPtqTest() {
    Add("conv1.weight", ParamKind::kConvWeight, {4, 3, 3, 3});
    Add("bn1.weight", ParamKind::kBnGamma, {4});
    Add("block.conv.weight", ParamKind::kConvWeight, {6, 4, 3, 3});
    Add("fc.weight", ParamKind::kFcWeight, {10, 6});
    Add("fc.bias", ParamKind::kFcBias, {10});
  }

  void Add(const std::string& name, ParamKind kind, const engine::Dims& dims) {
    Parameter& p = storage_.emplace_back(Parameter::Trainable(name, kind, dims));
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (float& x : p.value.flat()) x = normal(rng_);
    params_.push_back(&p);
  }

  std::vector<float> Values(int i) const {
    const absl::Span<const float> w = params_[i]->value.flat();
    return {w.begin(), w.end()};
  }

  std::mt19937 rng_{7};
  std::deque<Parameter> storage_;
  engine::ParameterList params_;
};

// Reference: the nearest of {k * max|w| / qmax : |k| <= qmax}, by search.
std::vector<float> BruteForceNearest(const std::vector<float>& w, int bits) {
  const int qmax = (1 << (bits - 1)) - 1;
  float max_abs = 0;
  for (float x : w) max_abs = std::max(max_abs, std::fabs(x));
  const float step = max_abs / qmax;
  std::vector<float> q;
  for (float x : w) {
    float best = 0;
    for (int k = -qmax; k <= qmax; ++k) {
      if (std::fabs(x - k * step) < std::fabs(x - best)) best = k * step;
    }
    q.push_back(best);
  }
  return q;
}

double Mse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return sum / a.size();
}

TEST_F(WeightPtqTest, ReleasedProtocolQuantizesCoveredTensorsAndWidensFirstLast) {
  std::vector<std::vector<float>> before;
  for (int i = 0; i < 5; ++i) before.push_back(Values(i));
  const engine::WeightSnapshot snapshot(params_);
  const std::vector<LayerError> errors = QuantizeWeights(params_, {.spec = {.bits = 3}});

  ASSERT_EQ(errors.size(), 4u);  // BN gamma is never quantized
  EXPECT_EQ(Values(1), before[1]);
  const int tensor[] = {0, 2, 3, 4};
  const int bits[] = {8, 3, 8, 8};  // first conv and last FC (weight and bias) widened
  for (int k = 0; k < 4; ++k) {
    const int i = tensor[k];
    SCOPED_TRACE(params_[i]->name);
    EXPECT_EQ(errors[k].name, params_[i]->name);
    EXPECT_EQ(errors[k].bits, bits[k]);
    const std::vector<float> expected = BruteForceNearest(before[i], bits[k]);
    for (size_t j = 0; j < expected.size(); ++j) EXPECT_NEAR(Values(i)[j], expected[j], 1e-7f) << j;
    EXPECT_NEAR(errors[k].mse, Mse(before[i], expected), 1e-6 * errors[k].mse + 1e-12);
  }
  snapshot.Restore();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Values(i), before[i]);
}

TEST_F(WeightPtqTest, FirstLastOffLeavesThemInFloatingPoint) {
  const std::vector<float> stem = Values(0), fc = Values(3);
  const std::vector<LayerError> errors =
      QuantizeWeights(params_, {.spec = {.bits = 4}, .coverage = {.cover_first_last = false}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].name, "block.conv.weight");
  EXPECT_EQ(Values(0), stem);
  EXPECT_EQ(Values(3), fc);
}

// Per channel, each output channel's own max is a level: its error can only
// shrink against one grid for the tensor.
TEST_F(WeightPtqTest, PerChannelAndMseCalibrationNeverIncreaseTheError) {
  const engine::WeightSnapshot snapshot(params_);
  const double per_tensor = QuantizeWeights(params_, {.spec = {.bits = 4}})[1].mse;
  snapshot.Restore();
  const double per_channel = QuantizeWeights(params_, {.spec = {.bits = 4, .per_channel = true}})[1].mse;
  snapshot.Restore();
  const double mse_clip =
      QuantizeWeights(params_, {.spec = {.bits = 4}, .calibrator = WeightCalibrator::kMse})[1].mse;
  EXPECT_LE(per_channel, per_tensor);
  EXPECT_LE(mse_clip, per_tensor);
  EXPECT_GT(mse_clip, 0);
}

TEST_F(WeightPtqTest, OutlierChannelSplittingLowersTheErrorOfALayerWithAnOutlier) {
  params_[2]->value.flat()[40] = 2.0f;  // block.conv: an outlier 20 sigma out
  engine::WeightSnapshot fp(params_);
  const std::vector<LayerError> plain = QuantizeWeights(params_, {.spec = {.bits = 4}});
  fp.Restore();
  const std::vector<LayerError> split =
      QuantizeWeights(params_, {.spec = {.bits = 4}, .ocs_expand_ratio = 0.5});
  ASSERT_EQ(plain.size(), split.size());
  EXPECT_EQ(plain[1].name, "block.conv.weight");
  // Two of its four input channels split, both times the outlier's: its copies
  // hold 0.5, 0.5 and 1, so the step halves (the other weights' rounding
  // error drops about 4x; the outlier channel's three copies add theirs).
  EXPECT_LT(split[1].mse, 0.5 * plain[1].mse);
  EXPECT_EQ(split.back().mse, plain.back().mse);  // fc.bias (1-D) is not split
}

// The plan is what QuantizeWeights applies: per channel, each covered tensor's
// codes times its rows' steps give back the quantized values bit for bit, and
// the plan itself changes nothing.
TEST_F(WeightPtqTest, PlanGivesTheQuantizersThatQuantizeWeightsApplies) {
  const WeightPtqOptions options{.spec = {.bits = 3, .per_channel = true}};
  std::vector<std::vector<float>> before;
  for (int i = 0; i < 5; ++i) before.push_back(Values(i));
  const std::vector<WeightQuantizer> plan = PlanWeightQuantization(params_, options);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Values(i), before[i]);
  QuantizeWeights(params_, options);

  ASSERT_EQ(plan.size(), 4u);
  const int tensor[] = {0, 2, 3, 4};
  const int bits[] = {8, 3, 8, 8};
  for (int k = 0; k < 4; ++k) {
    const WeightQuantizer& q = plan[k];
    SCOPED_TRACE(q.param->name);
    EXPECT_EQ(q.param, params_[tensor[k]]);
    EXPECT_EQ(q.quantizer.spec().bits, bits[k]);
    const std::vector<float>& w = before[tensor[k]];
    EXPECT_EQ(q.quantizer.rows(), q.param->value.dims().size() == 1 ? 1 : q.param->out_channels());
    std::vector<int8_t> codes(w.size());
    q.quantizer.ToCodes(w, absl::MakeSpan(codes));
    const int64_t row = static_cast<int64_t>(w.size()) / q.quantizer.rows();
    for (size_t j = 0; j < w.size(); ++j) {
      EXPECT_EQ(codes[j] * q.quantizer.grid(j / row).step, Values(tensor[k])[j]) << j;
    }
  }
  EXPECT_THAT([&] { PlanWeightQuantization(params_, {.spec = {.bits = 4}, .ocs_expand_ratio = 0.5}); },
              ThrowsInvalidArgument("outlier channel splitting"));
}

}  // namespace
}  // namespace psg::quant
