#include "prune/mask.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/optimizer.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prune/magnitude.h"
#include "prune/masked_optimizer.h"

namespace psg::prune {
namespace {

using engine::Parameter;
using engine::ParamKind;
using ::testing::ElementsAre;

bool IsPositiveZero(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits == 0;
}

class MaskTest : public ::testing::Test {
 protected:
  MaskTest() {
    std::mt19937 rng(9);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const auto& [name, kind, dims] : std::vector<std::tuple<std::string, ParamKind, engine::Dims>>{
             {"stem.weight", ParamKind::kConvWeight, {4, 3, 3, 3}},
             {"conv.weight", ParamKind::kConvWeight, {8, 4, 3, 3}},
             {"bn.gamma", ParamKind::kBnGamma, {8}},
             {"fc.weight", ParamKind::kFcWeight, {10, 8}}}) {
      storage_.push_back(Parameter::Trainable(name, kind, dims));
      for (float& w : storage_.back().value.flat()) w = normal(rng);
      params_.push_back(&storage_.back());
    }
  }

  void RandomGradients(std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (Parameter* p : params_) {
      for (float& g : p->grad.flat()) g = normal(rng);
    }
  }

  // Every masked weight is exactly +0 and every state entry of it is 0.
  static void ExpectMaskedAreZero(const MaskSet& masks, engine::Optimizer& optimizer) {
    const auto state = optimizer.State();
    for (int i = 0; i < masks.size(); ++i) {
      const absl::Span<const float> m = masks.mask(i);
      const absl::Span<const float> w = masks.parameter(i).value.flat();
      for (size_t j = 0; j < m.size(); ++j) {
        if (m[j] == 0.0f) {
          ASSERT_TRUE(IsPositiveZero(w[j])) << masks.parameter(i).name << "[" << j << "] = " << w[j];
        } else {
          ASSERT_NE(w[j], 0.0f);
        }
      }
      for (const auto& [name, tensor] : state) {
        if (name != masks.parameter(i).name + "/momentum") continue;
        for (size_t j = 0; j < m.size(); ++j) {
          if (m[j] == 0.0f) {
            ASSERT_EQ(tensor.flat()[j], 0.0f) << name << "[" << j << "]";
          }
        }
      }
    }
  }

  std::deque<Parameter> storage_;
  engine::ParameterList params_;
};

TEST_F(MaskTest, ApplyZeroesExactlyWhateverTheWeight) {
  Parameter p = Parameter::Trainable("w", ParamKind::kConvWeight, {1, 1, 1, 5});
  const std::vector<float> v = {-2.0f, std::numeric_limits<float>::quiet_NaN(),
                                -std::numeric_limits<float>::infinity(), 3.0f, -0.0f};
  std::copy(v.begin(), v.end(), p.value.flat().begin());
  std::copy(v.begin(), v.end(), p.grad.flat().begin());
  MaskSet masks;
  absl::Span<float> m = masks.Add(&p);
  EXPECT_THAT(m, ElementsAre(1.0f, 1.0f, 1.0f, 1.0f, 1.0f));
  m[0] = m[1] = m[2] = 0.0f;
  masks.Apply();
  masks.MaskGradients();
  for (int j = 0; j < 3; ++j) {
    EXPECT_TRUE(IsPositiveZero(p.value.flat()[j]));
    EXPECT_TRUE(IsPositiveZero(p.grad.flat()[j]));
  }
  EXPECT_EQ(p.value.flat()[3], 3.0f);
  EXPECT_EQ(masks.Report()[0].pruned, 3);
  EXPECT_DOUBLE_EQ(masks.Report()[0].sparsity, 0.6);
  EXPECT_THAT([&] { masks.Add(&p); }, psg::ThrowsInvalidArgument("'w' is masked twice"));
}

TEST_F(MaskTest, StateNamesViewTheMasks) {
  MaskSet masks = MagnitudeMasks(params_, {.sparsity = 0.5, .prune_first_last = true});
  const auto state = masks.State();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].first, "mask/stem.weight");
  EXPECT_EQ(state[2].first, "mask/fc.weight");
  std::fill(state[1].second.flat().begin(), state[1].second.flat().end(), 0.0f);  // restore-through-view
  EXPECT_EQ(masks.Report()[1].pruned, 288);
}

TEST_F(MaskTest, ZeroMaskedOptimizerStateZeroesOnlyMaskedMomentum) {
  engine::Sgd sgd(engine::TrainableOnly(params_), {.momentum = 0.9f});
  std::mt19937 rng(1);
  RandomGradients(rng);
  sgd.Step(0.1f);  // momentum now nonzero everywhere
  const MaskSet masks = MagnitudeMasks(params_, {.sparsity = 0.7});
  masks.ZeroMaskedOptimizerState(sgd);
  const absl::Span<const float> m = masks.mask(0);
  const absl::Span<const float> momentum = sgd.momentum_buffers()[1].flat();  // conv.weight
  for (size_t j = 0; j < m.size(); ++j) EXPECT_EQ(momentum[j] == 0.0f, m[j] == 0.0f) << j;
}

// Pruned weights stay exactly 0 through many SGD steps with momentum, weight
// decay (which would otherwise pull through the gradient) and Nesterov.
TEST_F(MaskTest, MaskedWeightsStayZeroThroughSgdSteps) {
  for (bool nesterov : {false, true}) {
    auto sgd = std::make_unique<engine::Sgd>(
        engine::TrainableOnly(params_), engine::SgdOptions{.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = nesterov});
    std::mt19937 rng(2);
    RandomGradients(rng);
    sgd->Step(0.05f);  // nonzero momentum before pruning
    MaskSet masks = MagnitudeMasks(params_, {.sparsity = 0.8, .scope = Scope::kGlobal});
    masks.Apply();
    masks.ZeroMaskedOptimizerState(*sgd);
    MaskedOptimizer optimizer(std::move(sgd), std::move(masks));
    for (int step = 0; step < 10; ++step) {
      RandomGradients(rng);
      optimizer.Step(0.05f);
      ExpectMaskedAreZero(optimizer.masks(), optimizer.inner());
    }
    EXPECT_EQ(optimizer.steps(), 11);
    const auto state = optimizer.State();
    EXPECT_EQ(state.back().first, "mask/conv.weight");
    EXPECT_EQ(state.size(), optimizer.inner().State().size() + 1);
  }
}

TEST_F(MaskTest, MaskedOptimizerRejectsNull) {
  EXPECT_THAT([] { MaskedOptimizer(nullptr, MaskSet()); }, psg::ThrowsInvalidArgument("null optimizer"));
}

}  // namespace
}  // namespace psg::prune
