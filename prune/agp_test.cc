#include "prune/agp.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::prune {
namespace {

// Two covered convolution weights between a first convolution and a last FC
// layer (covered only with prune_first_last).
struct Net {
  Net() {
    for (auto& [name, kind, dims] : std::vector<std::tuple<std::string, engine::ParamKind, engine::Dims>>{
             {"conv1.weight", engine::ParamKind::kConvWeight, {4, 1, 3, 3}},
             {"conv2.weight", engine::ParamKind::kConvWeight, {8, 4, 3, 3}},
             {"conv3.weight", engine::ParamKind::kConvWeight, {6, 8, 1, 1}},
             {"fc.weight", engine::ParamKind::kFcWeight, {3, 6}}}) {
      storage.push_back(engine::Parameter::Trainable(name, kind, dims));
    }
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (engine::Parameter& p : storage) {
      for (float& w : p.value.flat()) w = normal(rng);
      params.push_back(&p);
    }
  }
  std::vector<engine::Parameter> storage;
  engine::ParameterList params;
};

std::unique_ptr<engine::Sgd> Sgd(const engine::ParameterList& params) {
  return std::make_unique<engine::Sgd>(params, engine::SgdOptions{.momentum = 0.9f});
}

TEST(AgpTest, ScheduleMatchesTheClosedForm) {
  const AgpOptions o{.initial_sparsity = 0.1, .final_sparsity = 0.9, .start_step = 10, .end_step = 50,
                     .frequency = 10};
  EXPECT_DOUBLE_EQ(AgpSparsity(o, 0), 0.1);
  EXPECT_DOUBLE_EQ(AgpSparsity(o, 10), 0.1);
  for (int64_t t : {20, 30, 40, 25}) {
    const double r = 1.0 - (t - 10) / 40.0;
    EXPECT_NEAR(AgpSparsity(o, t), 0.9 + (0.1 - 0.9) * r * r * r, 1e-15) << t;
  }
  EXPECT_NEAR(AgpSparsity(o, 30), 0.9 - 0.8 / 8, 1e-15);  // half way: 1/8 of the gap left
  EXPECT_DOUBLE_EQ(AgpSparsity(o, 50), 0.9);
  EXPECT_DOUBLE_EQ(AgpSparsity(o, 1000), 0.9);
  std::vector<int64_t> pruning_steps;
  for (int64_t t = 0; t < 100; ++t) {
    if (IsAgpPruningStep(o, t)) pruning_steps.push_back(t);
  }
  EXPECT_THAT(pruning_steps, ::testing::ElementsAre(10, 20, 30, 40, 50));
  // end == start: one-shot to the final sparsity.
  const AgpOptions once{.final_sparsity = 0.5, .start_step = 3, .end_step = 3, .frequency = 1};
  EXPECT_TRUE(IsAgpPruningStep(once, 3));
  EXPECT_FALSE(IsAgpPruningStep(once, 4));
  EXPECT_DOUBLE_EQ(AgpSparsity(once, 3), 0.5);
}

// Training steps with random gradients: masks only grow, every pruned weight
// is exactly 0, each pruning step reaches round(s_t * n) (per tensor or over
// all), and the end is exactly the final sparsity.
TEST(AgpTest, MasksAreMonotoneAndTheFinalSparsityIsExact) {
  for (Scope scope : {Scope::kLayer, Scope::kGlobal}) {
    for (bool first_last : {false, true}) {
      Net net;
      const AgpOptions o{.initial_sparsity = 0.0, .final_sparsity = 0.8, .start_step = 2, .end_step = 14,
                         .frequency = 3, .scope = scope, .prune_first_last = first_last};
      AgpOptimizer agp(Sgd(net.params), net.params, o);
      ASSERT_EQ(agp.masks().size(), first_last ? 4 : 2);
      std::mt19937 rng(3);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<std::vector<float>> previous;
      for (int i = 0; i < agp.masks().size(); ++i) {
        previous.emplace_back(agp.masks().mask(i).begin(), agp.masks().mask(i).end());
      }
      for (int64_t step = 0; step < 20; ++step) {
        for (engine::Parameter* p : net.params) {
          for (float& g : p->grad.flat()) g = normal(rng);
        }
        agp.Step(0.05f);
        const std::vector<LayerSparsity> report = agp.masks().Report();
        // The sparsity of the last pruning step at or before `step`.
        const int64_t last = std::min<int64_t>(14, step < 2 ? -1 : 2 + (step - 2) / 3 * 3);
        const double s = last < 0 ? 0.0 : AgpSparsity(o, last);
        if (scope == Scope::kLayer) {
          for (const LayerSparsity& l : report) {
            EXPECT_EQ(l.pruned, std::llround(s * l.size)) << l.name << " step " << step;
          }
        } else {
          EXPECT_EQ(Total(report).pruned, std::llround(s * Total(report).size)) << step;
        }
        for (int i = 0; i < agp.masks().size(); ++i) {
          const absl::Span<const float> m = agp.masks().mask(i);
          const absl::Span<const float> w = agp.masks().parameter(i).value.flat();
          for (size_t j = 0; j < m.size(); ++j) {
            ASSERT_FALSE(previous[i][j] == 0.0f && m[j] != 0.0f) << "unpruned at step " << step;
            if (m[j] == 0.0f) {
              ASSERT_EQ(w[j], 0.0f);
            }
          }
          previous[i].assign(m.begin(), m.end());
        }
      }
      EXPECT_EQ(agp.steps(), 20);
      EXPECT_NEAR(Total(agp.masks().Report()).sparsity, 0.8, 0.02);
    }
  }
}

TEST(AgpTest, PrunesUnprunedWeightsByMagnitudeAndNeverUnprunes) {
  Net net;
  AgpOptimizer agp(Sgd(net.params), net.params,
                   {.final_sparsity = 0.9, .end_step = 0, .frequency = 1, .scope = Scope::kGlobal});
  agp.PruneTo(0.5);
  // Pruned weights are 0: the kept ones are the largest |w|.
  std::vector<float> kept;
  for (int i = 0; i < agp.masks().size(); ++i) {
    for (float w : agp.masks().parameter(i).value.flat()) {
      if (w != 0.0f) kept.push_back(std::fabs(w));
    }
  }
  std::sort(kept.begin(), kept.end());
  agp.PruneTo(0.7);
  const LayerSparsity total = Total(agp.masks().Report());
  EXPECT_EQ(total.pruned, std::llround(0.7 * total.size));
  // The newly pruned are the smallest of the previously kept.
  const int64_t newly = total.pruned - std::llround(0.5 * total.size);
  for (int i = 0; i < agp.masks().size(); ++i) {
    for (float w : agp.masks().parameter(i).value.flat()) {
      if (w != 0.0f) {
        EXPECT_GE(std::fabs(w), kept[newly]);
      }
    }
  }
  agp.PruneTo(0.2);  // lower: nothing comes back
  EXPECT_EQ(Total(agp.masks().Report()).pruned, total.pruned);
}

TEST(AgpTest, MasksAreOptimizerState) {
  Net net;
  AgpOptimizer agp(Sgd(net.params), net.params, {.final_sparsity = 0.5, .end_step = 0, .frequency = 1});
  std::vector<std::string> names;
  for (const auto& [name, tensor] : agp.State()) names.push_back(name);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"conv2.weight/momentum", "mask/conv2.weight", "mask/conv3.weight"}));
}

TEST(AgpTest, RejectsBadOptions) {
  Net net;
  auto make = [&](const AgpOptions& o) { AgpOptimizer(Sgd(net.params), net.params, o); };
  EXPECT_THAT([&] { make({.final_sparsity = 1.0}); }, ThrowsInvalidArgument("sparsity must be in [0, 1)"));
  EXPECT_THAT([&] { make({.initial_sparsity = 0.6, .final_sparsity = 0.5}); },
              ThrowsInvalidArgument("initial sparsity must be in [0, final sparsity 0.5], got 0.6"));
  EXPECT_THAT([&] { make({.start_step = 5, .end_step = 4}); },
              ThrowsInvalidArgument("end step (4) must be >= start step (5)"));
  EXPECT_THAT([&] { make({.end_step = 10, .frequency = 0}); }, ThrowsInvalidArgument("frequency must be >= 1"));
  EXPECT_THAT([&] { make({.end_step = 10, .frequency = 3}); },
              ThrowsInvalidArgument("frequency (3) must divide end step - start step (10)"));
  EXPECT_THAT([&] { make({.start_step = -1}); }, ThrowsInvalidArgument("start step must be >= 0"));
}

}  // namespace
}  // namespace psg::prune
