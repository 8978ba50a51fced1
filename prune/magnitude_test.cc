#include "prune/magnitude.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::prune {
namespace {

using engine::Parameter;
using engine::ParamKind;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// A small network: stem conv (first), two block convs, a BN, the classifier (last).
class MagnitudeTest : public ::testing::Test {
 protected:
  MagnitudeTest() {
    Add("stem.weight", ParamKind::kConvWeight, {4, 3, 3, 3});
    Add("block.conv1.weight", ParamKind::kConvWeight, {8, 4, 3, 3});
    Add("block.bn1.gamma", ParamKind::kBnGamma, {8});
    Add("block.conv2.weight", ParamKind::kConvWeight, {8, 8, 3, 3});
    Add("fc.weight", ParamKind::kFcWeight, {10, 8});
    Add("fc.bias", ParamKind::kFcBias, {10});
  }

  void Add(const std::string& name, ParamKind kind, const engine::Dims& dims) {
    storage_.push_back(Parameter::Trainable(name, kind, dims));
    params_.push_back(&storage_.back());
  }

  void Fill(uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (Parameter* p : params_) {
      for (float& w : p->value.flat()) w = normal(rng);
    }
  }

  // The brute-force reference: a full stable sort by (|w|, position).
  static std::vector<std::vector<float>> Reference(const std::vector<std::vector<float>>& tensors, int64_t k) {
    std::vector<std::pair<float, int64_t>> all;
    for (const auto& t : tensors) {
      for (float w : t) all.emplace_back(std::fabs(w), static_cast<int64_t>(all.size()));
    }
    std::sort(all.begin(), all.end());
    std::vector<float> flat(all.size(), 1.0f);
    for (int64_t i = 0; i < k; ++i) flat[all[i].second] = 0.0f;
    std::vector<std::vector<float>> masks;
    int64_t offset = 0;
    for (const auto& t : tensors) {
      masks.emplace_back(flat.begin() + offset, flat.begin() + offset + t.size());
      offset += t.size();
    }
    return masks;
  }

  static std::vector<float> Values(const Parameter& p) {
    return {p.value.flat().begin(), p.value.flat().end()};
  }

  std::deque<Parameter> storage_;
  engine::ParameterList params_;
};

TEST_F(MagnitudeTest, CoversHiddenConvolutionsAndOptionallyFirstAndLastWeights) {
  std::vector<std::string> names;
  for (const Parameter* p : PrunableParameters(params_, false)) names.push_back(p->name);
  EXPECT_THAT(names, ElementsAre("block.conv1.weight", "block.conv2.weight"));
  names.clear();
  for (const Parameter* p : PrunableParameters(params_, true)) names.push_back(p->name);
  EXPECT_THAT(names, ElementsAre("stem.weight", "block.conv1.weight", "block.conv2.weight", "fc.weight"));
}

TEST_F(MagnitudeTest, LayerWiseMatchesAFullSortInEveryTensor) {
  Fill(3);
  for (double sparsity : {0.0, 0.1, 0.5, 0.9, 0.95, 0.999}) {
    const MaskSet masks = MagnitudeMasks(params_, {.sparsity = sparsity, .prune_first_last = true});
    ASSERT_EQ(masks.size(), 4);
    for (int i = 0; i < masks.size(); ++i) {
      const std::vector<float> w = Values(masks.parameter(i));
      const int64_t k = std::llround(sparsity * w.size());
      const std::vector<std::vector<float>> expected = Reference({w}, k);
      EXPECT_THAT(masks.mask(i), ElementsAreArray(expected[0])) << masks.parameter(i).name << " at " << sparsity;
      EXPECT_EQ(masks.Report()[i].pruned, k);
    }
  }
}

TEST_F(MagnitudeTest, GlobalMatchesAFullSortOverAllCoveredTensors) {
  Fill(4);
  for (double sparsity : {0.0, 0.3, 0.7, 0.9, 0.99}) {
    const MaskSet masks = MagnitudeMasks(params_, {.sparsity = sparsity, .scope = Scope::kGlobal});
    std::vector<std::vector<float>> tensors;
    for (int i = 0; i < masks.size(); ++i) tensors.push_back(Values(masks.parameter(i)));
    const int64_t n = tensors[0].size() + tensors[1].size();
    const std::vector<std::vector<float>> expected = Reference(tensors, std::llround(sparsity * n));
    for (int i = 0; i < masks.size(); ++i) {
      EXPECT_THAT(masks.mask(i), ElementsAreArray(expected[i])) << masks.parameter(i).name << " at " << sparsity;
    }
    EXPECT_EQ(Total(masks.Report()).pruned, std::llround(sparsity * n));
  }
}

TEST_F(MagnitudeTest, TiesGiveExactCountsInPositionOrder) {
  // Every weight has magnitude 0.5 or 0.25, in a pattern with many ties.
  for (Parameter* p : params_) {
    absl::Span<float> w = p->value.flat();
    for (size_t j = 0; j < w.size(); ++j) w[j] = (j % 3 == 0 ? 0.25f : 0.5f) * (j % 2 ? -1.0f : 1.0f);
  }
  for (Scope scope : {Scope::kLayer, Scope::kGlobal}) {
    for (double sparsity : {0.2, 0.5, 0.8}) {
      const MaskSet masks = MagnitudeMasks(params_, {.sparsity = sparsity, .scope = scope});
      std::vector<std::vector<float>> tensors;
      for (int i = 0; i < masks.size(); ++i) tensors.push_back(Values(masks.parameter(i)));
      for (int i = 0; i < masks.size(); ++i) {
        const std::vector<float> expected =
            scope == Scope::kLayer
                ? Reference({tensors[i]}, std::llround(sparsity * tensors[i].size()))[0]
                : Reference(tensors, std::llround(sparsity * (tensors[0].size() + tensors[1].size())))[i];
        EXPECT_THAT(masks.mask(i), ElementsAreArray(expected)) << ScopeName(scope) << " " << sparsity;
      }
    }
  }
}

TEST_F(MagnitudeTest, AllEqualMagnitudes) {
  for (Parameter* p : params_) std::fill(p->value.flat().begin(), p->value.flat().end(), -1.0f);
  const MaskSet masks = MagnitudeMasks(params_, {.sparsity = 0.5});
  const absl::Span<const float> m = masks.mask(0);  // 288 entries: the first 144 pruned
  EXPECT_EQ(std::count(m.begin(), m.begin() + 144, 0.0f), 144);
  EXPECT_EQ(std::count(m.begin() + 144, m.end(), 1.0f), 144);
}

TEST_F(MagnitudeTest, GlobalAndLayerWiseDifferOnAHandExample) {
  // conv1 holds small weights, conv2 large ones: at 50 % global pruning takes
  // all of conv1 (plus conv1-sized ties none), layer-wise half of each.
  std::deque<Parameter> s;
  s.push_back(Parameter::Trainable("stem", ParamKind::kConvWeight, {1, 1, 1, 2}));
  s.push_back(Parameter::Trainable("conv1", ParamKind::kConvWeight, {1, 1, 1, 4}));
  s.push_back(Parameter::Trainable("conv2", ParamKind::kConvWeight, {1, 1, 1, 4}));
  s.push_back(Parameter::Trainable("fc", ParamKind::kFcWeight, {1, 2}));
  const std::vector<std::vector<float>> values = {{0.0f, 0.0f}, {0.3f, -0.1f, 0.4f, 0.2f}, {-3.0f, 1.0f, 4.0f, -2.0f}, {0.0f, 0.0f}};
  engine::ParameterList params;
  for (size_t i = 0; i < s.size(); ++i) {
    std::copy(values[i].begin(), values[i].end(), s[i].value.flat().begin());
    params.push_back(&s[i]);
  }
  std::vector<LayerSparsity> layer = PruneByMagnitude(params, {.sparsity = 0.5});
  EXPECT_THAT(Values(s[1]), ElementsAre(0.3f, 0.0f, 0.4f, 0.0f));
  EXPECT_THAT(Values(s[2]), ElementsAre(-3.0f, 0.0f, 4.0f, 0.0f));
  EXPECT_THAT(Values(s[0]), ElementsAre(0.0f, 0.0f));  // not covered, unchanged
  ASSERT_EQ(layer.size(), 2u);
  EXPECT_EQ(layer[0].name, "conv1");
  EXPECT_EQ(layer[0].pruned, 2);
  EXPECT_DOUBLE_EQ(layer[1].sparsity, 0.5);

  for (size_t i = 0; i < s.size(); ++i) std::copy(values[i].begin(), values[i].end(), s[i].value.flat().begin());
  std::vector<LayerSparsity> global = PruneByMagnitude(params, {.sparsity = 0.5, .scope = Scope::kGlobal});
  EXPECT_THAT(Values(s[1]), ElementsAre(0.0f, 0.0f, 0.0f, 0.0f));
  EXPECT_THAT(Values(s[2]), ElementsAre(-3.0f, 1.0f, 4.0f, -2.0f));
  EXPECT_DOUBLE_EQ(global[0].sparsity, 1.0);
  EXPECT_DOUBLE_EQ(global[1].sparsity, 0.0);
  EXPECT_DOUBLE_EQ(Total(global).sparsity, 0.5);
}

TEST_F(MagnitudeTest, NanIsNeverPrunedBeforeAFiniteWeightAndSignedZerosTie) {
  std::vector<float> v = {std::numeric_limits<float>::quiet_NaN(), 2.0f, -0.0f, 0.0f,
                          -std::numeric_limits<float>::infinity(), -1.0f};
  std::vector<float> m(v.size());
  SelectSmallest({v}, 5, {absl::MakeSpan(m)});
  EXPECT_THAT(m, ElementsAre(1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f));
  SelectSmallest({v}, 1, {absl::MakeSpan(m)});
  EXPECT_THAT(m, ElementsAre(1.0f, 1.0f, 0.0f, 1.0f, 1.0f, 1.0f));
  SelectSmallest({v}, 6, {absl::MakeSpan(m)});
  EXPECT_THAT(m, ElementsAre(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f));
}

TEST_F(MagnitudeTest, RejectsBadSparsity) {
  EXPECT_THAT([&] { MagnitudeMasks(params_, {.sparsity = -0.1}); },
              psg::ThrowsInvalidArgument("sparsity must be in [0, 1), got -0.1"));
  EXPECT_THAT([&] { MagnitudeMasks(params_, {.sparsity = 1.0}); },
              psg::ThrowsInvalidArgument("sparsity must be in [0, 1), got 1"));
  EXPECT_THAT([&] { PruneByMagnitude(params_, {.sparsity = std::nan("")}); },
              psg::ThrowsInvalidArgument("sparsity is NaN"));
  std::vector<float> v(3), m(3);
  EXPECT_THAT([&] { SelectSmallest({v}, 4, {absl::MakeSpan(m)}); },
              psg::ThrowsInvalidArgument("k = 4 outside [0, 3]"));
}

}  // namespace
}  // namespace psg::prune
