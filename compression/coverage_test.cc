#include "compression/coverage.h"

#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/testing/throws.h"

namespace psg::compression {
namespace {

using engine::Parameter;
using engine::ParamKind;

// A ResNet-like list: stem conv with bias, BN, a block conv with bias, a 1x1
// shortcut, a hidden FC and the classifier.
class CoverageTest : public ::testing::Test {
 protected:
  CoverageTest() {
    Add("conv1.weight", ParamKind::kConvWeight, {8, 3, 3, 3});
    Add("conv1.bias", ParamKind::kConvBias, {8});
    Add("bn1.weight", ParamKind::kBnGamma, {8});
    Add("bn1.bias", ParamKind::kBnBeta, {8});
    params_.push_back(&storage_.emplace_back(
        Parameter::State("bn1.running_mean", ParamKind::kBnRunningMean, {8}, 0.0f)));
    Add("block.conv.weight", ParamKind::kConvWeight, {8, 8, 3, 3});
    Add("block.conv.bias", ParamKind::kConvBias, {8});
    Add("block.shortcut.weight", ParamKind::kConvWeight, {8, 8, 1, 1});
    Add("fc1.weight", ParamKind::kFcWeight, {16, 8});
    Add("fc1.bias", ParamKind::kFcBias, {16});
    Add("fc.weight", ParamKind::kFcWeight, {10, 16});
    Add("fc.bias", ParamKind::kFcBias, {10});
  }

  void Add(const std::string& name, ParamKind kind, const engine::Dims& dims) {
    params_.push_back(&storage_.emplace_back(Parameter::Trainable(name, kind, dims)));
  }

  // "name:bits" for each covered parameter.
  std::vector<std::string> Covered(const CoverageOptions& options) {
    const std::vector<Coverage> coverage = ResolveCoverage(params_, options);
    std::vector<std::string> covered;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (coverage[i].covered) {
        covered.push_back(params_[i]->name + ":" + std::to_string(coverage[i].bits));
      }
    }
    return covered;
  }

  std::deque<Parameter> storage_;  // stable addresses
  engine::ParameterList params_;
};

TEST_F(CoverageTest, ReleasedDefaultsCoverConvsAndFirstLastNeverBatchNorm) {
  EXPECT_THAT(Covered({.bits = 4}),
              ::testing::ElementsAre("conv1.weight:4", "conv1.bias:4", "block.conv.weight:4",
                                     "block.conv.bias:4", "block.shortcut.weight:4", "fc.weight:4",
                                     "fc.bias:4"));
}

TEST_F(CoverageTest, FirstAndLastUseEightBitsBelowFourBits) {
  EXPECT_THAT(Covered({.bits = 2}),
              ::testing::ElementsAre("conv1.weight:8", "conv1.bias:8", "block.conv.weight:2",
                                     "block.conv.bias:2", "block.shortcut.weight:2", "fc.weight:8",
                                     "fc.bias:8"));
  EXPECT_THAT(Covered({.bits = 3, .widen_first_last = false}),
              ::testing::ElementsAre("conv1.weight:3", "conv1.bias:3", "block.conv.weight:3",
                                     "block.conv.bias:3", "block.shortcut.weight:3", "fc.weight:3",
                                     "fc.bias:3"));
}

TEST_F(CoverageTest, FirstLastCoverageOff) {
  EXPECT_THAT(Covered({.bits = 4, .cover_first_last = false}),
              ::testing::ElementsAre("block.conv.weight:4", "block.conv.bias:4",
                                     "block.shortcut.weight:4"));
}

TEST_F(CoverageTest, HiddenFcAndConvBiasFlags) {
  EXPECT_THAT(
      Covered({.bits = 4, .cover_hidden_fc = true, .cover_conv_bias = false}),
      ::testing::ElementsAre("conv1.weight:4", "block.conv.weight:4", "block.shortcut.weight:4",
                             "fc1.weight:4", "fc1.bias:4", "fc.weight:4", "fc.bias:4"));
}

TEST_F(CoverageTest, RejectsBadBits) {
  for (int bits : {0, 1, 9}) {
    EXPECT_THAT([&] { ResolveCoverage(params_, {.bits = bits}); },
                ThrowsInvalidArgument("PSG policy: grid bit-width"))
        << bits;
  }
}

}  // namespace
}  // namespace psg::compression
