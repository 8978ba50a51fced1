#include "train/trainer.h"

#include <filesystem>
#include <functional>
#include <map>
#include <fstream>
#include <random>
#include <set>
#include <cmath>
#include <csignal>
#include <string>
#include <vector>

#include "data/image_set_dataset.h"
#include "absl/strings/match.h"
#include "engine/adam.h"
#include "engine/optimizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_files.h"
#include "models/zoo.h"
#include "train/gradient_norm.h"
#include "train/training_state.h"
#include "io/checkpoint.h"
#include "io/json_writer.h"
#include "train/stop_signals.h"

namespace psg::train {
namespace {

// 48 train / 16 test 32x32 images whose class shows in the mean brightness of
// one colour plane, so a few steps of training make real progress.
std::unique_ptr<data::TrainingData> SyntheticData() {
  auto data = std::make_unique<data::TrainingData>();
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

// metrics.jsonl of `dir`, one JSON object per line.
std::vector<io::Json> MetricsLines(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::vector<io::Json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(io::Json::parse(line));
  return lines;
}

// The step of <dir>/last.safetensors, loaded (so checked) into a ResNet-20;
// -1 if it does not load.
int64_t SavedStep(const std::string& dir) {
  auto model = models::BuildModel({"resnet20", 3});
  engine::ParameterList params;
  model->CollectParameters(&params);
  const absl::StatusOr<RunPosition> saved = LoadTrainingState(dir + "/last.safetensors", params, nullptr);
  EXPECT_TRUE(saved.ok()) << saved.status();
  return saved.ok() ? saved->step : -1;
}

// How TrainerTest::Train sets up a run besides its options.
struct RunSetup {
  RunSummary* summary = nullptr;
  std::function<std::map<std::string, double>()> epoch_metrics;
  const GradientNormOptions* gradient_l1 = nullptr;
  bool constant_lr = false;  // else cosine over 18 steps
  // Adds hooks; `params` are the model's.
  std::function<void(Trainer& trainer, const engine::ParameterList& params)> attach;
};


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
  absl::StatusOr<std::vector<std::vector<float>>> Train(const TrainerOptions& o, float lr,
                                                        const RunSetup& setup = {}) {
    auto model = models::BuildModel({"resnet20", 3});
    models::InitializeParameters(*model, o.seed);
    engine::ParameterList params;
    model->CollectParameters(&params);
    engine::Sgd sgd(engine::TrainableOnly(params), {.momentum = 0.9f, .weight_decay = 5e-4f});
    auto schedule = setup.constant_lr ? engine::Constant(lr) : engine::Cosine(lr, 18);
    Trainer trainer(o, *model, sgd, *schedule, *data_);
    if (setup.epoch_metrics) trainer.set_epoch_metrics(setup.epoch_metrics);
    if (setup.attach) setup.attach(trainer, params);
    RunSummary* summary = setup.summary;
    const GradientNormOptions* gradient_l1 = setup.gradient_l1;
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

  std::unique_ptr<data::TrainingData> data_ = SyntheticData();
};

TEST_F(TrainerTest, LearnsAndWritesMetricsAndCheckpoint) {
  const std::string dir = Dir("learns");
  RunSummary summary;
  ASSERT_TRUE(Train(Options(dir), 0.05f, {.summary = &summary}).ok());
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
  auto with_zero = Train(hooked, 0.05f, {.gradient_l1 = &zero});
  hooked.output_dir = Dir("hook_lambda");
  auto with_some = Train(hooked, 0.05f, {.gradient_l1 = &some});
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
  const io::Json json = io::Json::parse(in);
  EXPECT_EQ(json["steps"], 1);
  std::set<std::pair<std::string, std::string>> scopes;
  for (const io::Json& scope : json["scopes"]) {
    scopes.insert({scope["name"].get<std::string>(), scope["phase"].get<std::string>()});
  }
  for (const auto& scope : std::vector<std::pair<std::string, std::string>>{
           {"data", "other"}, {"layer3.2.conv2", "forward"}, {"layer3.2.conv2", "backward"},
           {"loss", "other"}, {"optimizer", "other"}}) {
    EXPECT_TRUE(scopes.count(scope)) << scope.first << " " << scope.second;
  }
  EXPECT_TRUE(json["primitive_ms_by_kind"].contains("convolution backward_weights"));
}

TEST_F(TrainerTest, ExtraMetricsAreLoggedFromTheStartingPointOn) {
  const std::string dir = Dir("extra");
  int calls = 0;
  ASSERT_TRUE(Train(Options(dir), 0.05f, {.epoch_metrics = [&] {
                      return std::map<std::string, double>{{"calls", ++calls}};
                    }}).ok());
  const std::vector<io::Json> lines = MetricsLines(dir);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["epoch"], 0);
  EXPECT_TRUE(lines[0]["test_loss"].is_number());
  EXPECT_FALSE(lines[0].contains("train_loss"));
  EXPECT_EQ(lines[0]["calls"], 1);
  EXPECT_EQ(lines[3]["epoch"], 3);
  EXPECT_EQ(lines[3]["calls"], 4);
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
  ASSERT_TRUE(Train(first, 0.05f, {.summary = &summary}).ok());
  EXPECT_TRUE(summary.stopped_early);
  TrainerOptions second = Options(dir);
  second.resume_from = dir + "/last.safetensors";
  const auto resumed = Train(second, 0.05f, {.summary = &summary});
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
              ::testing::HasSubstr("training diverged at step"));
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

// Issue 18, case 1: a run whose parameters go non-finite while the loss
// stays finite (here a BN running variance; fused ReLU hides NaN weights the
// same way) used to finish "successfully" and save the NaNs. It stops at the
// step, names the tensor, and keeps the last good checkpoint.
TEST_F(TrainerTest, NonFiniteBnStatisticsStopTheRunAndKeepTheLastGoodCheckpoint) {
  const std::string dir = Dir("nan_bn");
  TrainerOptions o = Options(dir);
  o.checkpoint_every_steps = 2;
  int steps = 0;
  const auto result = Train(o, 0.05f, {.attach = [&](Trainer& trainer, const engine::ParameterList& params) {
    engine::Parameter* running_var = nullptr;
    for (engine::Parameter* p : params) {
      if (p->name == "layer2.0.bn1.running_var") running_var = p;
    }
    ASSERT_NE(running_var, nullptr);
    trainer.AddStepHooks(nullptr, [&steps, running_var](engine::Mode mode) {
      if (mode == engine::Mode::kTrain && ++steps == 3) running_var->value.flat()[5] = NAN;
    });
  }});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("training diverged at step 3 (epoch 1, batch 3"));
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("'layer2.0.bn1.running_var' is nan at element 5 of [32] after the update"));
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr(dir + "/last.safetensors (step 2), is kept"));
  EXPECT_EQ(SavedStep(dir), 2);
}

// Case 1 as reported: a learning rate of 1000. Whatever goes non-finite
// first (loss, gradient or weight), the run fails at that step and every
// checkpoint on disk is finite.
TEST_F(TrainerTest, AHugeLearningRateStopsTheRunWithFiniteCheckpointsOnly) {
  const std::string dir = Dir("lr1000");
  TrainerOptions o = Options(dir);
  o.checkpoint_every_steps = 1;
  const auto result = Train(o, 1000.0f, {.constant_lr = true});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("training diverged at step"));
  if (std::filesystem::exists(dir + "/last.safetensors")) {
    absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(dir + "/last.safetensors");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    EXPECT_TRUE(ckpt->CheckFinite().ok()) << ckpt->CheckFinite();
  }
}

// Case 2: with --lr=inf --checkpoint_every_steps=1 the step checkpoint used
// to be written after the update that produced Inf, replacing the good one.
TEST_F(TrainerTest, TheUpdateThatGoesNonFiniteIsNeverCheckpointed) {
  const std::string dir = Dir("lr_inf");
  TrainerOptions first = Options(dir);
  first.checkpoint_every_steps = 1;
  first.stop_after_steps = 2;
  ASSERT_TRUE(Train(first, 0.05f, {.constant_lr = true}).ok());
  TrainerOptions second = Options(dir);
  second.checkpoint_every_steps = 1;
  second.resume_from = dir + "/last.safetensors";
  const auto result = Train(second, INFINITY, {.constant_lr = true});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("at step 3 "));
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("after the update"));
  EXPECT_EQ(SavedStep(dir), 2);
}

// Case 3: a checkpoint at an epoch's last batch (here --stop_after_steps on
// the boundary) records batch == batches per epoch; resuming it failed
// ("BatchLoader: bad start/end"). It resumes with that epoch's end.
TEST_F(TrainerTest, AStopAtAnEpochsLastBatchResumes) {
  RunSummary straight_summary;
  const auto straight = Train(Options(Dir("boundary_straight")), 0.05f, {.summary = &straight_summary});
  ASSERT_TRUE(straight.ok()) << straight.status();
  const std::string dir = Dir("boundary");
  TrainerOptions first = Options(dir);
  first.stop_after_steps = 6;  // 48 images / 8: the last batch of epoch 1
  ASSERT_TRUE(Train(first, 0.05f).ok());
  TrainerOptions second = Options(dir);
  second.resume_from = dir + "/last.safetensors";
  RunSummary summary;
  const auto resumed = Train(second, 0.05f, {.summary = &summary});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed, *straight);
  EXPECT_EQ(summary.last.test_accuracy, straight_summary.last.test_accuracy);
  const std::vector<io::Json> lines = MetricsLines(dir);
  ASSERT_EQ(lines.size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(lines[e]["epoch"], e + 1);
  EXPECT_TRUE(lines[0]["train_loss"].is_null());  // no batch of epoch 1 trained after the resume
}

// Case 3, the other way in: a run killed during an epoch's evaluation after
// a step checkpoint at that epoch's last batch.
TEST_F(TrainerTest, ARunKilledDuringEvaluationResumes) {
  const auto straight = Train(Options(Dir("eval_straight")), 0.05f);
  ASSERT_TRUE(straight.ok()) << straight.status();
  const std::string dir = Dir("eval_killed");
  TrainerOptions first = Options(dir);
  first.checkpoint_every_steps = 6;
  EXPECT_THROW((void)Train(first, 0.05f, {.attach = [](Trainer& trainer, const engine::ParameterList&) {
                 trainer.AddStepHooks(
                     [](engine::Mode mode) {
                       if (mode == engine::Mode::kEval) throw std::runtime_error("killed");
                     },
                     nullptr);
               }}),
               std::runtime_error);
  TrainerOptions second = Options(dir);
  second.resume_from = dir + "/last.safetensors";
  const auto resumed = Train(second, 0.05f);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed, *straight);
  EXPECT_EQ(MetricsLines(dir).size(), 3u);
}

// Case 4: resuming a finished run trains nothing and reports the run as it
// ended (it used to report 0 epochs and 0 % accuracy); metrics.jsonl is not
// touched.
TEST_F(TrainerTest, ResumingAFinishedRunReportsItUnchanged) {
  const std::string dir = Dir("finished");
  RunSummary done;
  ASSERT_TRUE(Train(Options(dir), 0.05f, {.summary = &done}).ok());
  const std::string metrics = io::ReadTestFile(dir + "/metrics.jsonl");
  TrainerOptions again = Options(dir);
  again.resume_from = dir + "/last.safetensors";
  RunSummary summary;
  ASSERT_TRUE(Train(again, 0.05f, {.summary = &summary}).ok());
  EXPECT_TRUE(summary.finished_before);
  EXPECT_EQ(summary.steps, 18);
  EXPECT_EQ(summary.last.epoch, 3);
  EXPECT_EQ(summary.last.test_accuracy, done.last.test_accuracy);
  EXPECT_EQ(summary.best_test_accuracy, done.best_test_accuracy);
  EXPECT_EQ(io::ReadTestFile(dir + "/metrics.jsonl"), metrics);
}

// Case 10: SIGINT stops the run at the next step boundary with a checkpoint
// (it used to kill it, losing up to checkpoint_every_steps steps); the
// resumed run equals an uninterrupted one. SIGTERM during an evaluation stops
// after that epoch's checkpoint.
TEST_F(TrainerTest, StopSignalsCheckpointAtTheNextStepBoundary) {
  const auto straight = Train(Options(Dir("signal_straight")), 0.05f);
  ASSERT_TRUE(straight.ok()) << straight.status();
  InstallStopSignalHandlers();
  for (const int signal : {SIGINT, SIGTERM}) {
    ClearStopSignal();
    const std::string dir = Dir(signal == SIGINT ? "sigint" : "sigterm");
    TrainerOptions first = Options(dir);
    first.checkpoint_every_steps = 100;
    int calls = 0;
    RunSummary summary;
    ASSERT_TRUE(Train(first, 0.05f, {.summary = &summary, .attach = [&](Trainer& trainer, const engine::ParameterList&) {
                  trainer.AddStepHooks(
                      [&calls, signal](engine::Mode mode) {
                        // SIGINT before step 3; SIGTERM in the first evaluation.
                        if ((signal == SIGINT && mode == engine::Mode::kTrain && ++calls == 3) ||
                            (signal == SIGTERM && mode == engine::Mode::kEval && ++calls == 1)) {
                          std::raise(signal);
                        }
                      },
                      nullptr);
                }}).ok());
    EXPECT_TRUE(summary.stopped_early);
    EXPECT_EQ(summary.stop_signal, signal);
    EXPECT_EQ(summary.steps, signal == SIGINT ? 3 : 6);
    ClearStopSignal();
    TrainerOptions second = Options(dir);
    second.resume_from = dir + "/last.safetensors";
    const auto resumed = Train(second, 0.05f);
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    EXPECT_EQ(*resumed, *straight) << "signal " << signal;
    EXPECT_EQ(MetricsLines(dir).size(), 3u);
  }
}

// metrics.jsonl holds each epoch once: lines written after the checkpoint a
// run resumes from (a crash between the metrics line and the checkpoint) and
// a torn last line are dropped; a fresh run starts the file anew.
TEST_F(TrainerTest, MetricsHoldEachEpochOnce) {
  const std::string dir = Dir("metrics_once");
  TrainerOptions first = Options(dir);
  first.stop_after_steps = 7;  // epoch 2, batch 1
  ASSERT_TRUE(Train(first, 0.05f).ok());
  {
    std::ofstream append(dir + "/metrics.jsonl", std::ios::app);
    append << "{\"epoch\": 2, \"test_accuracy\": 0.5}\n{\"epoch\": 3, \"te";
  }
  TrainerOptions second = Options(dir);
  second.resume_from = dir + "/last.safetensors";
  ASSERT_TRUE(Train(second, 0.05f).ok());
  std::vector<io::Json> lines = MetricsLines(dir);
  ASSERT_EQ(lines.size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(lines[e]["epoch"], e + 1);
  EXPECT_NE(lines[1]["test_accuracy"], 0.5);
  TrainerOptions fresh = Options(dir);
  fresh.epochs = 1;
  ASSERT_TRUE(Train(fresh, 0.05f).ok());
  EXPECT_EQ(MetricsLines(dir).size(), 1u);
}

// Case 11: an output directory that cannot be written is reported before
// the first step, not at the first checkpoint.
TEST_F(TrainerTest, AnUnwritableOutputDirectoryFailsBeforeTraining) {
  const std::string parent = Dir("blocked");
  std::filesystem::create_directories(parent);
  std::ofstream(parent + "/file") << "x";
  int steps = 0;
  const auto result = Train(Options(parent + "/file/run"), 0.05f,
                            {.attach = [&steps](Trainer& trainer, const engine::ParameterList&) {
                              trainer.AddStepHooks([&steps](engine::Mode) { ++steps; }, nullptr);
                            }});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("output directory '" + parent + "/file/run'"));
  EXPECT_EQ(steps, 0);
}

// Case 8: a metrics line that cannot be written (here: a full disk,
// /dev/full) is an error naming the file, not a silently short log.
TEST_F(TrainerTest, AFailedMetricsWriteIsAnError) {
  const std::string dir = Dir("full_disk");
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("/dev/full", dir + "/metrics.jsonl");
  const auto result = Train(Options(dir), 0.05f);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "cannot write '" + dir + "/metrics.jsonl': No space left on device");
}

// Case 9: resuming under another batch size (or any setting the caller
// records) would reinterpret the saved position; it is refused, naming the
// flag and both values.
TEST_F(TrainerTest, ResumeRefusesSettingsThatReinterpretThePosition) {
  const std::string dir = Dir("invariants");
  TrainerOptions first = Options(dir);
  first.stop_after_steps = 2;
  first.resume_invariants = {{"lr", "0.05"}, {"schedule", "cosine"}};
  ASSERT_TRUE(Train(first, 0.05f).ok());
  TrainerOptions second = first;
  second.stop_after_steps = 0;
  second.resume_from = dir + "/last.safetensors";
  second.batch_size = 4;
  second.resume_invariants["schedule"] = "constant";
  const auto result = Train(second, 0.05f);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::HasSubstr("--batch_size=8 (now 4), --schedule=cosine (now constant)"));
  second.batch_size = 8;
  second.resume_invariants["schedule"] = "cosine";
  EXPECT_TRUE(Train(second, 0.05f).ok());
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

// Case 1: no checkpoint with a non-finite value is written or loaded (unless
// asked, to look at a diverged run); both errors name the tensor.
TEST(TrainingStateTest, NonFiniteValuesAreNeitherSavedNorLoaded) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  auto model = models::BuildModel({"resnet20", 3});
  engine::ParameterList params;
  model->CollectParameters(&params);
  params[0]->value.flat()[7] = -INFINITY;
  const absl::Status saved = SaveTrainingState(dir + "/nan.safetensors", params, nullptr, {}, {});
  EXPECT_EQ(saved.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(saved.message()),
              ::testing::HasSubstr("tensor 'conv1.weight' holds -inf at element 7 of [16,3,3,3]"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/nan.safetensors"));

  io::CheckpointWriter writer;  // as a diverged run of an older version saved it
  for (engine::Parameter* p : params) {
    const engine::Dims d = p->value.dims();
    ASSERT_TRUE(writer.AddF32(p->name, std::vector<int64_t>(d.begin(), d.end()), p->value.ToPlain()).ok());
  }
  ASSERT_TRUE(writer.AddU64("rng/run_position", {4}, {0, 0, 0, 1}).ok());
  ASSERT_TRUE(writer.WriteAtomically(dir + "/nan.safetensors").ok());
  const auto loaded = LoadTrainingState(dir + "/nan.safetensors", params, nullptr);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()),
              ::testing::HasSubstr("checkpoint '" + dir + "/nan.safetensors': tensor \"conv1.weight\" "
                                   "holds a non-finite value (-inf at element 7 of shape [16,3,3,3])"));
  EXPECT_TRUE(LoadTrainingState(dir + "/nan.safetensors", params, nullptr, {.allow_nonfinite = true}).ok());
}

// Case 6: a resnet32 checkpoint loaded into a resnet20 (whose tensors it all
// has) used to load silently; the model it records is compared.
TEST(TrainingStateTest, ACheckpointOfAnotherModelIsRefused) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/r32.safetensors";
  auto r32 = models::BuildModel({"resnet32", 3});
  engine::ParameterList deeper;
  r32->CollectParameters(&deeper);
  auto r20 = models::BuildModel({"resnet20", 3});
  engine::ParameterList params;
  r20->CollectParameters(&params);
  for (const std::map<std::string, std::string>& metadata :
       {std::map<std::string, std::string>{{"model", "resnet32"}},
        std::map<std::string, std::string>{{"flags", "{\"model\": \"resnet32\", \"epochs\": 3}"}}}) {
    ASSERT_TRUE(SaveTrainingState(path, deeper, nullptr, {}, metadata).ok());
    EXPECT_TRUE(LoadTrainingState(path, params, nullptr).ok());  // unchecked: the tensors fit
    const auto checked = LoadTrainingState(path, params, nullptr, {.model = "resnet20"});
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(checked.status().message()),
                ::testing::HasSubstr("holds a resnet32 model, not resnet20: pass --model=resnet32"));
    EXPECT_TRUE(LoadTrainingState(path, deeper, nullptr, {.model = "resnet32"}).ok());
  }
}


// Starting from another run's optimizer state (released PSG-Adam): weights by
// LoadTrainingState without the optimizer, then LoadOptimizerState; the
// continued run must take exactly the steps the original run takes.
TEST(TrainingStateTest, OptimizerStateContinuesAnotherRunExactly) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/adam.safetensors";
  auto make = [](const std::string& name) {
    engine::Parameter p = engine::Parameter::Trainable(name, engine::ParamKind::kConvWeight, {5});
    p.value.CopyFromPlain({0.5f, -1.0f, 2.0f, 0.0f, 3.0f});
    return p;
  };
  auto step = [](engine::Parameter& p, engine::Optimizer& opt, int t) {
    std::vector<float> g(5);
    for (int i = 0; i < 5; ++i) g[i] = std::sin(1.3f * t + i) * (i + 1);
    p.grad.CopyFromPlain(g);
    opt.Step(0.01f);
  };
  engine::Parameter original = make("w");
  engine::Adam adam({&original}, {});
  for (int t = 1; t <= 3; ++t) step(original, adam, t);
  ASSERT_TRUE(SaveTrainingState(path, {&original}, &adam, {2, 0, 3, 1}, {}).ok());

  engine::Parameter continued = make("w");
  engine::Adam fresh({&continued}, {});
  ASSERT_TRUE(LoadTrainingState(path, {&continued}, nullptr).ok());
  const absl::StatusOr<int> restored =
      LoadOptimizerState(path, fresh, [](const std::string&) { return false; });
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, 2);  // w/adam_m, w/adam_v
  EXPECT_EQ(fresh.steps(), 3);
  for (int t = 4; t <= 6; ++t) {
    step(original, adam, t);
    step(continued, fresh, t);
  }
  EXPECT_EQ(continued.value.ToPlain(), original.value.ToPlain());

  // An SGD run's checkpoint has no Adam moments: an error naming the tensor,
  // unless the caller says the tensor may be absent.
  engine::Parameter sgd_param = make("w");
  engine::Sgd sgd({&sgd_param}, {});
  const absl::StatusOr<int> wrong =
      LoadOptimizerState(path, sgd, [](const std::string&) { return false; });
  ASSERT_EQ(wrong.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(wrong.status().message()), ::testing::HasSubstr("'w/momentum'"));
  const absl::StatusOr<int> optional = LoadOptimizerState(
      path, sgd, [](const std::string& name) { return absl::EndsWith(name, "/momentum"); });
  ASSERT_TRUE(optional.ok());
  EXPECT_EQ(*optional, 0);
}

}  // namespace
}  // namespace psg::train
