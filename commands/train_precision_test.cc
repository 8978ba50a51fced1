// //experiments:train --precision end to end on generated CIFAR-10 files: a
// bf16 run trains, records its precision and writes a checkpoint that an
// fp32 run resumes (master weights are f32 in both); on a CPU without bf16
// the same command stops with the clear error instead. Combinations bf16
// cannot serve are refused with their reason.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/precision.h"
#include "experiments/protocol.h"
#include "experiments/testing/fake_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/result_json.h"

namespace psg::commands {
namespace {

using ::testing::HasSubstr;

class TrainPrecisionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::getenv("TEST_TMPDIR");
    data_ = experiments::testing::WriteFakeCifar10(tmp_ + "/data");
  }

  // Runs train with a small budget and `flags`; returns its exit status and
  // its output in *log.
  int Train(const std::vector<std::string>& flags, const std::string& name, std::string* log) {
    std::vector<std::string> command = {
        std::string(std::getenv("TEST_SRCDIR")) + "/psg_toolkit/commands/train",
        "--data_dir=" + data_, "--threads=1", "--batch_size=64", "--max_train_images=256",
        "--max_eval_images=128", "--progress_every=0", "--checkpoint_every_steps=0"};
    command.insert(command.end(), flags.begin(), flags.end());
    const std::string log_path = tmp_ + "/" + name + ".log";
    const int status = experiments::RunAndLog(command, log_path);
    std::ifstream in(log_path);
    std::stringstream text;
    text << in.rdbuf();
    *log = text.str();
    return status;
  }

  static std::string tmp_, data_;
};

std::string TrainPrecisionTest::tmp_, TrainPrecisionTest::data_;

TEST_F(TrainPrecisionTest, Bf16TrainsAndItsCheckpointResumesInFp32) {
  const std::string run = tmp_ + "/bf16";
  std::string log;
  const int status = Train({"--epochs=1", "--precision=bf16", "--output_dir=" + run}, "bf16", &log);
  if (!engine::Bf16Supported()) {
    EXPECT_EQ(status, 1);
    EXPECT_THAT(log, HasSubstr("precision bf16 needs a CPU with AVX512-BF16"));
    return;
  }
  ASSERT_EQ(status, 0) << log;
  EXPECT_THAT(log, HasSubstr("precision: bf16"));
  absl::StatusOr<io::Json> result = report::ReadJsonFile(run + "/result.json");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->contains("flags"));
  const absl::StatusOr<std::string> precision = report::StringAt(result->at("flags"), "precision");
  ASSERT_TRUE(precision.ok()) << precision.status();
  EXPECT_EQ(*precision, "bf16");
  const absl::StatusOr<double> accuracy = report::NumberAt(*result, "final_test_accuracy");
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  EXPECT_GE(*accuracy, 0.0);
  EXPECT_LE(*accuracy, 1.0);
  // A bf16 run stopped after its first epoch (4 steps) continues in fp32:
  // checkpoints hold the f32 master weights, whatever the precision.
  const std::string stopped = tmp_ + "/bf16_stopped";
  ASSERT_EQ(Train({"--epochs=2", "--stop_after_steps=4", "--precision=bf16",
                   "--output_dir=" + stopped},
                  "bf16_stopped", &log),
            0)
      << log;
  ASSERT_EQ(Train({"--epochs=2", "--precision=fp32", "--output_dir=" + stopped, "--resume=auto"},
                  "fp32_resume", &log),
            0)
      << log;
  EXPECT_THAT(log, HasSubstr("resumed from"));
  EXPECT_THAT(log, HasSubstr("precision: fp32"));
}

TEST_F(TrainPrecisionTest, RefusesWhatBf16CannotServe) {
  std::string log;
  EXPECT_EQ(Train({"--precision=fp16", "--output_dir=" + tmp_ + "/fp16"}, "fp16", &log), 1);
  EXPECT_THAT(log,
              HasSubstr("Illegal value 'fp16' specified for flag 'precision'; expected one of: fp32, bf16"));
  if (!engine::Bf16Supported()) return;  // bf16 itself is refused (above)
  EXPECT_EQ(Train({"--precision=bf16", "--qat=lsq", "--qat_act_bits=4",
                   "--output_dir=" + tmp_ + "/qat"},
                  "qat", &log),
            1);
  EXPECT_THAT(log, HasSubstr("activation quantization (--qat_act_bits) runs on f32"));
  EXPECT_EQ(Train({"--precision=bf16", "--gradient_l1=0.01", "--output_dir=" + tmp_ + "/gl1"},
                  "gl1", &log),
            1);
  EXPECT_THAT(log, HasSubstr("Gradient-L1/L2's finite differences"));
}

}  // namespace
}  // namespace psg::commands
