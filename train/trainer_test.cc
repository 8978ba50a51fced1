#include "train/trainer.h"

#include <filesystem>
#include <functional>
#include <map>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "data/image_set_dataset.h"
#include "engine/optimizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/zoo.h"
#include "train/gradient_norm.h"
#include "train/training_state.h"

namespace psg::train {
namespace {

// 48 train / 16 test 32x32 images whose class shows in the mean brightness of
// one colour plane, so a few steps of training make real progress.
std::unique_ptr<TrainingData> SyntheticData() {
  auto data = std::make_unique<TrainingData>();
  std::mt19937 rng(5);
  auto fill = [&](data::ImageSet& set, int64_t count) {
    set.count = count;
    set.channels = 3;
    set.height = set.width = 32;
    set.num_classes = 3;
    set.pixels.resize(count * 3 * 32 * 32);
    set.labels.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      set.labels[i] = static_cast<int32_t>(i % 3);
      for (int64_t k = 0; k < 3 * 32 * 32; ++k) {
        const bool lit = k / (32 * 32) == set.labels[i];
        set.pixels[i * 3 * 32 * 32 + k] = static_cast<uint8_t>((lit ? 150 : 50) + rng() % 60);
      }
    }
  };
  fill(data->train_images, 48);
  fill(data->test_images, 16);
  data->num_classes = 3;
  data->train = std::make_unique<data::ImageSetDataset>(
      *data::ImageSetDataset::Create(data->train_images, data::ImageSetDataset::Mode::kTrain));
  data->test = std::make_unique<data::ImageSetDataset>(
      *data::ImageSetDataset::Create(data->test_images, data::ImageSetDataset::Mode::kEval));
  return data;
}

class TrainerTest : public ::testing::Test {
 protected:
  std::string Dir(const std::string& name) {
    const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
    std::filesystem::remove_all(dir);
    return dir;
  }

  TrainerOptions Options(const std::string& dir) {
    TrainerOptions o;
    o.epochs = 3;
    o.batch_size = 8;
    o.seed = 11;
    o.output_dir = dir;
    o.checkpoint_every_steps = 4;
    o.progress_every_steps = 0;
    return o;
  }

  // Trains a fresh ResNet-20 and returns its parameters (and BN statistics).
  absl::StatusOr<std::vector<std::vector<float>>> Train(
      const TrainerOptions& o, float lr, RunSummary* summary = nullptr,
      std::function<std::map<std::string, double>()> epoch_metrics = nullptr,
      const GradientNormOptions* gradient_l1 = nullptr) {
    auto model = models::BuildModel({"resnet20", 3});
    models::InitializeParameters(*model, o.seed);
    engine::ParameterList params;
    model->CollectParameters(&params);
    engine::Sgd sgd(engine::TrainableOnly(params), {.momentum = 0.9f, .weight_decay = 5e-4f});
    auto schedule = engine::Cosine(lr, 18);
    Trainer trainer(o, *model, sgd, *schedule, *data_);
    if (epoch_metrics) trainer.set_epoch_metrics(epoch_metrics);
    std::unique_ptr<GradientNormRegularizer> regularizer;
    if (gradient_l1 != nullptr) {
      regularizer = std::make_unique<GradientNormRegularizer>(params, *gradient_l1);
      trainer.AddGradientHook(
          [&](const std::function<void()>& recompute) { regularizer->Apply(recompute); });
    }
    absl::StatusOr<RunSummary> result = trainer.Run();
    if (!result.ok()) return result.status();
    if (summary != nullptr) *summary = *result;
    std::vector<std::vector<float>> values;
    for (engine::Parameter* p : params) values.push_back(p->value.ToPlain());
    return values;
  }

  std::unique_ptr<TrainingData> data_ = SyntheticData();
};

TEST_F(TrainerTest, LearnsAndWritesMetricsAndCheckpoint) {
  const std::string dir = Dir("learns");
  RunSummary summary;
  ASSERT_TRUE(Train(Options(dir), 0.05f, &summary).ok());
  EXPECT_EQ(summary.steps, 18);
  EXPECT_GT(summary.last.test_accuracy, 0.6);
  std::ifstream metrics(dir + "/metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    ++lines;
    EXPECT_THAT(line, ::testing::HasSubstr("\"test_accuracy\""));
  }
  EXPECT_EQ(lines, 3);
  EXPECT_TRUE(std::filesystem::exists(dir + "/last.safetensors"));
}

// A gradient hook's extra pass leaves no trace: Gradient-L1 with lambda 0
// trains bit for bit as plain SGD (batch-norm statistics included); lambda >
// 0 trains differently.
TEST_F(TrainerTest, GradientHookRecomputesWithoutSideEffects) {
  TrainerOptions plain = Options(Dir("no_hook"));
  plain.epochs = 1;
  TrainerOptions hooked = plain;
  hooked.output_dir = Dir("hook");
  const GradientNormOptions zero{.lambda = 0.0f}, some{.lambda = 0.1f};
  auto expected = Train(plain, 0.05f);
  auto with_zero = Train(hooked, 0.05f, nullptr, nullptr, &zero);
  hooked.output_dir = Dir("hook_lambda");
  auto with_some = Train(hooked, 0.05f, nullptr, nullptr, &some);
  ASSERT_TRUE(expected.ok() && with_zero.ok() && with_some.ok());
  EXPECT_EQ(*with_zero, *expected);
  EXPECT_NE(*with_some, *expected);
}

TEST_F(TrainerTest, ProfilesOneStepWithoutChangingTheRun) {
  TrainerOptions plain = Options(Dir("unprofiled"));
  plain.epochs = 1;
  TrainerOptions profiled = plain;
  profiled.output_dir = Dir("profiled");
  profiled.profile_step = 2;
  auto expected = Train(plain, 0.05f);
  auto actual = Train(profiled, 0.05f);
  ASSERT_TRUE(expected.ok() && actual.ok());
  EXPECT_EQ(*actual, *expected);
  EXPECT_FALSE(std::filesystem::exists(plain.output_dir + "/profile.json"));
  std::ifstream in(profiled.output_dir + "/profile.json");
  std::stringstream json;
  json << in.rdbuf();
  EXPECT_THAT(json.str(), ::testing::HasSubstr("\"steps\": 1,"));
  for (const char* scope : {"{\"name\": \"data\", \"phase\": \"other\"",
                            "{\"name\": \"layer3.2.conv2\", \"phase\": \"forward\"",
                            "{\"name\": \"layer3.2.conv2\", \"phase\": \"backward\"",
                            "{\"name\": \"loss\", \"phase\": \"other\"",
                            "{\"name\": \"optimizer\", \"phase\": \"other\""}) {
    EXPECT_THAT(json.str(), ::testing::HasSubstr(scope));
  }
  EXPECT_THAT(json.str(), ::testing::HasSubstr("\"convolution backward_weights\": "));
}

TEST_F(TrainerTest, ExtraMetricsAreLoggedFromTheStartingPointOn) {
  const std::string dir = Dir("extra");
  int calls = 0;
  ASSERT_TRUE(Train(Options(dir), 0.05f, nullptr, [&] {
                return std::map<std::string, double>{{"calls", ++calls}};
              }).ok());
  std::ifstream metrics(dir + "/metrics.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(metrics, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], ::testing::StartsWith("{\"epoch\": 0, \"test_loss\": "));
  EXPECT_THAT(lines[0], ::testing::HasSubstr("\"calls\": 1}"));
  EXPECT_THAT(lines[3], ::testing::HasSubstr("\"epoch\": 3,"));
  EXPECT_THAT(lines[3], ::testing::HasSubstr("\"calls\": 4}"));
}

// Hook pairs nest: befores in the order added, afters in the reverse order;
// a null hook is skipped.
TEST_F(TrainerTest, StepHooksNestInTheOrderAdded) {
  auto model = models::BuildModel({"resnet20", 3});
  models::InitializeParameters(*model, 1);
  engine::ParameterList params;
  model->CollectParameters(&params);
  engine::Sgd sgd(engine::TrainableOnly(params), {});
  TrainerOptions o = Options(Dir("hooks"));
  o.epochs = 1;
  o.max_train_images = 8;  // one step
  o.max_eval_images = 8;
  auto schedule = engine::Cosine(0.01f, 1);
  Trainer trainer(o, *model, sgd, *schedule, *data_);
  std::vector<std::string> calls;
  auto record = [&calls](const std::string& name) {
    return [&calls, name](engine::Mode mode) {
      calls.push_back(name + (mode == engine::Mode::kTrain ? " train" : " eval"));
    };
  };
  trainer.AddStepHooks(record("before A"), record("after A"));
  trainer.AddStepHooks(record("before B"), nullptr);
  trainer.AddStepHooks(record("before C"), record("after C"));
  ASSERT_TRUE(trainer.Run().ok());
  EXPECT_THAT(calls, ::testing::ElementsAre("before A train", "before B train", "before C train", "after C train",
                                            "after A train", "before A eval", "before B eval", "before C eval",
                                            "after C eval", "after A eval"));
}

TEST_F(TrainerTest, ResumeAfterAStopMidEpochEqualsAnUninterruptedRun) {
  const auto straight = Train(Options(Dir("straight")), 0.05f);
  ASSERT_TRUE(straight.ok()) << straight.status();

  const std::string dir = Dir("interrupted");
  TrainerOptions first = Options(dir);
  first.stop_after_steps = 7;  // epoch 2, batch 1 of 6
  RunSummary summary;
  ASSERT_TRUE(Train(first, 0.05f, &summary).ok());
  EXPECT_TRUE(summary.stopped_early);
  TrainerOptions second = Options(dir);
  second.resume_from = dir + "/last.safetensors";
  const auto resumed = Train(second, 0.05f, &summary);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(summary.steps, 18);
  ASSERT_EQ(resumed->size(), straight->size());
  for (size_t i = 0; i < straight->size(); ++i) {
    EXPECT_EQ((*resumed)[i], (*straight)[i]) << "parameter " << i << " differs after resume";
  }
}

TEST_F(TrainerTest, StopsWithAClearMessageWhenTheLossDiverges) {
  const auto result = Train(Options(Dir("diverges")), 1e12f);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("training diverged: loss is"));
}

TEST_F(TrainerTest, ResumeRejectsACheckpointOfAnotherSeed) {
  const std::string dir = Dir("seed");
  TrainerOptions first = Options(dir);
  first.stop_after_steps = 2;
  ASSERT_TRUE(Train(first, 0.05f).ok());
  TrainerOptions second = Options(dir);
  second.seed = 12;
  second.resume_from = dir + "/last.safetensors";
  const auto result = Train(second, 0.05f);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("--seed=11"));
}

TEST(TrainingStateTest, MissingOrMismatchedTensorsAreNamed) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/state.safetensors";
  auto small = models::BuildModel({"resnet20", 3});
  engine::ParameterList params;
  small->CollectParameters(&params);
  ASSERT_TRUE(SaveTrainingState(path, params, nullptr, {1, 2, 3, 4}, {}).ok());
  auto restored = LoadTrainingState(path, params, nullptr);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->epoch, 1);
  EXPECT_EQ(restored->batch, 2);
  EXPECT_EQ(restored->step, 3);
  EXPECT_EQ(restored->seed, 4u);
  auto wider = models::BuildModel({"resnet20", 10});
  engine::ParameterList other;
  wider->CollectParameters(&other);
  const auto mismatch = LoadTrainingState(path, other, nullptr);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(std::string(mismatch.status().message()), ::testing::HasSubstr("fc.weight"));
  auto deeper = models::BuildModel({"resnet32", 3});
  engine::ParameterList more;
  deeper->CollectParameters(&more);
  EXPECT_EQ(LoadTrainingState(path, more, nullptr).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace psg::train
