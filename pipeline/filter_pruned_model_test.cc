#include "pipeline/filter_pruned_model.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "pipeline/model_loading.h"
#include "engine/graph.h"
#include "engine/testing/graph_reference.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "train/training_state.h"

namespace psg::pipeline {
namespace {

using engine::Mode;
using engine::Tensor;

std::vector<float> Images(int64_t n, uint32_t seed) {
  std::vector<float> v(n * 3 * 32 * 32);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  for (float& x : v) x = g(rng);
  return v;
}

// The narrower zoo model with the sliced parameters computes (on oneDNN, in
// eval mode) what the dense model computes with the removed channels zeroed
// (prune::ZeroRemovedChannels), for both shortcut kinds.
TEST(StructuredPruningTest, PrunedModelMatchesTheMaskedDenseModel) {
  for (models::ShortcutKind shortcut : {models::ShortcutKind::kProjection, models::ShortcutKind::kZeroPad}) {
    const models::ModelOptions options{"resnet20", 10, shortcut};
    auto dense = models::BuildModel(options);
    models::InitializeParameters(*dense, 3);
    engine::reference::RandomizeBatchNorm(*dense, 4);
    PrunedModel pruned = PruneFilters(options, *dense, {.ratio = 0.5, .skip = {"layer3.0"}});
    EXPECT_EQ(pruned.options.block_mid_channels.at("layer1.0"), 8);
    EXPECT_EQ(pruned.options.block_mid_channels.at("layer3.0"), 64);  // skipped
    EXPECT_EQ(pruned.options.block_mid_channels.at("layer3.2"), 32);
    EXPECT_EQ(models::CountTrainableParameters(*pruned.model),
              models::CountTrainableParameters(*dense) - 8 * (16 * 9 * 2 + 2) * 3 -
                  16 * (16 * 9 + 32 * 9 + 2) - 16 * (32 * 9 * 2 + 2) * 2 -
                  32 * (64 * 9 * 2 + 2) * 2);  // layer2.0.conv1 reads 16 channels

    engine::Graph graph;
    dense->Export(&graph, graph.AddInput("input"));
    prune::ZeroRemovedChannels(graph, pruned.plan);  // writes into dense's parameters
    std::vector<float> images = Images(4, 5);
    const Tensor x = Tensor::View(images.data(), {4, 3, 32, 32});
    const std::vector<float> want = dense->Forward(x, Mode::kEval).ToPlain();
    const std::vector<float> got = pruned.model->Forward(x, Mode::kEval).ToPlain();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i]))) << "logit " << i;
    }
  }
}

// The pruned model trains like any zoo model: a training step runs and
// writes gradients of the narrower shapes.
TEST(StructuredPruningTest, PrunedModelTrains) {
  const models::ModelOptions options{"resnet20"};
  auto dense = models::BuildModel(options);
  models::InitializeParameters(*dense, 1);
  PrunedModel pruned = PruneFilters(options, *dense, {.ratio = 0.3});
  std::vector<float> images = Images(2, 6);
  const Tensor x = Tensor::View(images.data(), {2, 3, 32, 32});
  const Tensor& y = pruned.model->Forward(x, Mode::kTrain);
  Tensor dy = Tensor::Plain(y.dims());
  dy.Fill(1.0f);
  pruned.model->Backward(dy);
  engine::ParameterList params;
  pruned.model->CollectParameters(&params);
  for (const engine::Parameter* p : params) {
    if (p->name == "layer2.1.conv1.weight") {
      EXPECT_EQ(p->grad.dims(), (engine::Dims{23, 32, 3, 3}));  // 32 - floor(0.3 * 32)
    }
  }
}

// A saved pruned model loads back into the model its widths build.
TEST(StructuredPruningTest, SavedPrunedModelLoadsWithItsWidths) {
  const models::ModelOptions options{"resnet20"};
  auto dense = models::BuildModel(options);
  models::InitializeParameters(*dense, 2);
  engine::reference::RandomizeBatchNorm(*dense, 3);
  PrunedModel pruned = PruneFilters(options, *dense, {.ratio = 0.5, .channel_multiple = 16});
  EXPECT_EQ(pruned.options.block_mid_channels.at("layer1.0"), 16);
  EXPECT_EQ(pruned.options.block_mid_channels.at("layer2.0"), 16);
  engine::ParameterList params;
  pruned.model->CollectParameters(&params);
  const std::string path = ::testing::TempDir() + "/pruned.safetensors";
  ASSERT_TRUE(train::SaveTrainingState(path, params, nullptr, {}, {}).ok());
  auto loaded = LoadModel(pruned.options, path, {}, /*seed=*/9);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<float> images = Images(2, 7);
  const Tensor x = Tensor::View(images.data(), {2, 3, 32, 32});
  EXPECT_EQ((*loaded)->Forward(x, Mode::kEval).ToPlain(), pruned.model->Forward(x, Mode::kEval).ToPlain());
  EXPECT_FALSE(LoadModel(options, path, {}).ok());  // the dense widths do not fit
}

TEST(StructuredPruningTest, BadRequestsAreRejected) {
  const models::ModelOptions options{"resnet20"};
  auto dense = models::BuildModel(options);
  EXPECT_THAT([&] { PruneFilters(options, *dense, {.ratio = 1.0}); },
              ThrowsInvalidArgument("ratio must be in [0, 1)"));
  EXPECT_THAT([&] { PruneFilters(options, *dense, {.ratio = 0.5, .skip = {"layer3.9"}}); },
              ThrowsInvalidArgument("skip name 'layer3.9' names no prunable block"));
}

}  // namespace
}  // namespace psg::pipeline
