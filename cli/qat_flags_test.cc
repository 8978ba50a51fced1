#include "cli/qat_flags.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "data/image_set_dataset.h"
#include "engine/optimizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/json_writer.h"
#include "models/zoo.h"

ABSL_DECLARE_FLAG(psg::cli::QatMethod, qat);
ABSL_DECLARE_FLAG(int, qat_bits);
ABSL_DECLARE_FLAG(int, qat_act_bits);

namespace psg::cli {
namespace {

// 64 train / 16 test 28x28 grayscale images (LeNet-5's input) whose class is
// the bright third of the image, so a few steps of training make progress.
std::unique_ptr<data::TrainingData> SyntheticData() {
  auto data = std::make_unique<data::TrainingData>();
  std::mt19937 rng(7);
  auto fill = [&](data::ImageSet& set, int64_t count) {
    set.count = count;
    set.channels = 1;
    set.height = set.width = 28;
    set.num_classes = 3;
    set.pixels.resize(count * 28 * 28);
    set.labels.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      set.labels[i] = static_cast<int32_t>(i % 3);
      for (int64_t k = 0; k < 28 * 28; ++k) {
        const bool lit = k / 28 * 3 / 28 == set.labels[i];
        set.pixels[i * 28 * 28 + k] = static_cast<uint8_t>((lit ? 170 : 40) + rng() % 60);
      }
    }
  };
  fill(data->train_images, 64);
  fill(data->test_images, 16);
  data->num_classes = 3;
  data::CifarAugmenter::Options augment;  // flips only, one channel
  augment.pad = 0;
  augment.normalization = {{0.4f}, {0.25f}};
  data->train = std::make_unique<data::ImageSetDataset>(*data::ImageSetDataset::Create(
      data->train_images, data::ImageSetDataset::Mode::kTrain, augment));
  data->test = std::make_unique<data::ImageSetDataset>(*data::ImageSetDataset::Create(
      data->test_images, data::ImageSetDataset::Mode::kEval, augment));
  return data;
}

void SetFlags(const std::string& qat, int bits, int act_bits) {
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag("qat")->ParseFrom(qat, &error)) << error;
  absl::SetFlag(&FLAGS_qat_bits, bits);
  absl::SetFlag(&FLAGS_qat_act_bits, act_bits);
}

struct RunResult {
  std::vector<double> train_losses;            // per epoch, from metrics.jsonl
  std::vector<std::vector<float>> parameters;  // model and quantizer, after the run
  std::vector<std::string> names;
  int activation_layers = 0;
};

// LeNet-5 under the QAT of the current flags, trained as commands/train.cc does.
RunResult Train(const data::TrainingData& data, const std::string& dir, int64_t stop_after,
                bool resume) {
  absl::StatusOr<QatFromFlags> qat = ReadQatFlags();
  EXPECT_TRUE(qat.ok()) << qat.status();
  RunResult result;
  models::ModelOptions mo{.name = "lenet5", .num_classes = 3};
  if (qat->activation_layer) {
    mo.activation_layer = [&](const std::string& name) {
      ++result.activation_layers;
      return qat->activation_layer(name);
    };
  }
  auto model = models::BuildModel(mo);
  models::InitializeParameters(*model, 1);
  engine::ParameterList params;
  model->CollectParameters(&params);
  auto weights = MakeWeightQuantizer(*qat, params);
  engine::ParameterList trainable = engine::TrainableOnly(params);
  if (weights) {
    for (engine::Parameter* p : weights->parameters()) trainable.push_back(p);
  }
  engine::Sgd sgd(trainable, {.momentum = 0.9f, .weight_decay = 5e-4f});
  auto schedule = engine::Cosine(0.05f, 24);
  train::TrainerOptions o;
  o.epochs = 3;
  o.batch_size = 8;
  o.seed = 3;
  o.output_dir = dir;
  o.progress_every_steps = 0;
  o.stop_after_steps = stop_after;
  if (resume) o.resume_from = dir + "/last.safetensors";
  train::Trainer trainer(o, *model, sgd, *schedule, data);
  AttachWeightQuantizer(weights.get(), &trainer);
  absl::StatusOr<train::RunSummary> summary = trainer.Run();
  EXPECT_TRUE(summary.ok()) << summary.status();
  if (weights) {
    EXPECT_FALSE(weights->quantized());  // left with the floating-point weights
    for (engine::Parameter* p : weights->parameters()) params.push_back(p);
  }
  for (engine::Parameter* p : params) {
    result.names.push_back(p->name);
    result.parameters.push_back(p->value.ToPlain());
  }
  std::ifstream metrics(dir + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    const io::Json json = io::Json::parse(line);
    if (json.contains("train_loss")) result.train_losses.push_back(json["train_loss"].get<double>());
  }
  return result;
}

class QatFlagsTest : public ::testing::Test {
 protected:
  std::string Dir(const std::string& name) {
    const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
    std::filesystem::remove_all(dir);
    return dir;
  }
  void TearDown() override { SetFlags("none", 4, 4); }

  std::unique_ptr<data::TrainingData> data_ = SyntheticData();
};

TEST_F(QatFlagsTest, RejectsUnknownMethodsAndBitWidths) {
  std::string error;
  EXPECT_FALSE(absl::FindCommandLineFlag("qat")->ParseFrom("ternary", &error));
  EXPECT_EQ(error,
            "Illegal value 'ternary' specified for flag 'qat'; expected one of: none, dorefa, pact, lsq");
  SetFlags("lsq", 9, 4);
  EXPECT_THAT(ReadQatFlags().status().message(), ::testing::HasSubstr("--qat_bits must be in [2, 8], got 9"));
  SetFlags("lsq", 0, 4);
  EXPECT_THAT(ReadQatFlags().status().message(), ::testing::HasSubstr("got 0"));
  SetFlags("pact", 4, 9);
  EXPECT_THAT(ReadQatFlags().status().message(),
              ::testing::HasSubstr("--qat_act_bits must be 0 (weights only) or in [2, 8], got 9"));
  SetFlags("none", 4, 4);
  absl::StatusOr<QatFromFlags> none = ReadQatFlags();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->activation_layer);
  EXPECT_EQ(MakeWeightQuantizer(*none, {}), nullptr);
}

TEST_F(QatFlagsTest, LsqTrainingReducesTheLossAndLearnsItsSteps) {
  SetFlags("lsq", 4, 4);
  const RunResult r = Train(*data_, Dir("lsq"), 0, false);
  EXPECT_EQ(r.activation_layers, 4);  // LeNet-5's four ReLUs
  ASSERT_EQ(r.train_losses.size(), 3u);
  EXPECT_LT(r.train_losses.back(), r.train_losses.front());
  int steps = 0;
  for (size_t i = 0; i < r.names.size(); ++i) {
    if (r.names[i].ends_with(".step") || r.names[i].ends_with(".lsq_step")) {
      ++steps;
      EXPECT_GT(r.parameters[i][0], 0.0f) << r.names[i];
    }
  }
  EXPECT_EQ(steps, 4 + 3);  // four activation steps, three covered weights (conv1, conv2, fc)
}

TEST_F(QatFlagsTest, LsqRunResumesExactly) {
  SetFlags("lsq", 3, 4);
  const RunResult whole = Train(*data_, Dir("whole"), 0, false);
  const std::string dir = Dir("split");
  Train(*data_, dir, 10, false);  // stops mid-epoch 2 with a checkpoint
  const RunResult split = Train(*data_, dir, 0, true);
  ASSERT_EQ(whole.names, split.names);
  for (size_t i = 0; i < whole.names.size(); ++i) EXPECT_EQ(whole.parameters[i], split.parameters[i]) << whole.names[i];
}

TEST_F(QatFlagsTest, PactAndDoReFaTrainWithWeightsOnlyOrActivationsToo) {
  for (const auto& [method, act_bits, layers] :
       {std::tuple<std::string, int, int>{"pact", 4, 4}, {"dorefa", 2, 4}, {"lsq", 0, 0}}) {
    SCOPED_TRACE(method);
    SetFlags(method, 2, act_bits);
    const RunResult r = Train(*data_, Dir(method), 0, false);
    EXPECT_EQ(r.activation_layers, layers);
    ASSERT_EQ(r.train_losses.size(), 3u);
    for (double loss : r.train_losses) EXPECT_TRUE(std::isfinite(loss));
  }
}

}  // namespace
}  // namespace psg::cli
