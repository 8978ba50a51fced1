// Runs a paper experiment target end to end at --budget=smoke on generated
// CIFAR-10 files (random pixels, the official binary layout) and checks its
// result files: every stage ran, results.json holds an accuracy per model and
// bit-width, the tables and plots were written. argv[1]: the target's name.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "experiments/protocol.h"
#include "experiments/result_json.h"
#include "gtest/gtest.h"

namespace psg::experiments {
namespace {

namespace fs = std::filesystem;

std::string target;  // from argv

// The six files of cifar-10-batches-bin, 10,000 records of label + 3072 pixels.
std::string WriteFakeCifar10(const std::string& root) {
  const std::string dir = root + "/cifar-10-batches-bin";
  fs::create_directories(dir);
  std::mt19937 rng(1);
  std::vector<char> record(1 + 3072);
  for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    for (int i = 0; i < 10000; ++i) {
      record[0] = static_cast<char>(rng() % 10);
      for (size_t k = 1; k < record.size(); ++k) record[k] = static_cast<char>(rng());
      out.write(record.data(), record.size());
    }
  }
  return root;
}

TEST(PaperSmokeTest, RunsTheWholeProtocolAndWritesItsResults) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string data = WriteFakeCifar10(tmp + "/data");
  const std::string run = tmp + "/run";
  const std::string binary =
      std::string(std::getenv("TEST_SRCDIR")) + "/psg_toolkit/experiments/" + target;
  ASSERT_EQ(RunAndLog({binary, "--budget=smoke", "--threads=1", "--data_dir=" + data,
                       "--output_dir=" + run},
                      tmp + "/log.txt"),
            0);
  absl::StatusOr<JsonValue> results = ReadJsonFile(run + "/results.json");
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(*results->StringAt("budget"), "smoke");
  for (const char* section : {"weights_only", "weights_and_activations"}) {
    const JsonValue* models = results->Find(section);
    ASSERT_NE(models, nullptr) << section;
    for (const char* model : {"SGD", "PSGD@W4"}) {
      const JsonValue* m = models->Find(model);
      ASSERT_NE(m, nullptr) << section << " " << model;
      EXPECT_GE(*m->NumberAt("fp"), 0.0);
      for (const char* bits : {"8", "6", "4", "3", "2"}) {
        absl::StatusOr<double> accuracy = m->Find("accuracy")->NumberAt(bits);
        ASSERT_TRUE(accuracy.ok()) << section << " " << model << " W" << bits;
        EXPECT_GE(*accuracy, 0.0);
        EXPECT_LE(*accuracy, 1.0);
      }
    }
  }
  for (const char* file : {"results.md", "accuracy.svg", "qmse.svg", "training.svg",
                           "histogram/histogram.svg", "commands.sh", "sgd/stage_done",
                           "psgd_w4/stage_done"}) {
    EXPECT_TRUE(fs::exists(run + "/" + file)) << file;
  }
  // A second run finds every stage done and only rewrites the results.
  const auto before = fs::last_write_time(run + "/sgd/last.safetensors");
  ASSERT_EQ(RunAndLog({binary, "--budget=smoke", "--threads=1", "--data_dir=" + data,
                       "--output_dir=" + run},
                      tmp + "/log2.txt"),
            0);
  EXPECT_EQ(fs::last_write_time(run + "/sgd/last.safetensors"), before);
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: paper_smoke_test <experiment target>\n");
    return 2;
  }
  psg::experiments::target = argv[1];
  return RUN_ALL_TESTS();
}
