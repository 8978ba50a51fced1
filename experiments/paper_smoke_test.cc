// Runs a paper experiment target end to end at --budget=smoke on generated
// CIFAR-10 files (random pixels, the official binary layout), or with
// --dataset=imagenet among the target flags on the 100-image ImageNet sample
// (skipped with a message where it is missing), and checks its
// result files: results.json holds a number in [0, 1] at each given path
// (keys joined by '/'),
// results.md and the plots were written, and a second run finds every stage
// done (the shared first model, SGD or Adam, is not trained again). Each
// --absent=<text> must occur in neither results.json nor results.md (a row
// the target flags turned off), each --train_arg=<text> in every training
// command of commands.sh, the run's and the shared stages' (a flag the target
// must pass to them). With --train_precision=bf16 among
// the target flags it is skipped, with a message, on CPUs without bf16.
//
//   paper_smoke_test [--first_stage=adam] [--absent=<text>]... [--train_arg=<text>]...
//       <target> <json path>... [-- <target flags>...]
//   e.g. paper_smoke_test quant_vs_bits weights_only/SGD/accuracy/4
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/precision.h"
#include "experiments/protocol.h"
#include "experiments/testing/fake_data.h"
#include "gtest/gtest.h"
#include "io/test_files.h"
#include "report/result_json.h"

namespace psg::experiments {
namespace {

namespace fs = std::filesystem;

std::string target;
std::string first_stage = "sgd";  // the shared stage every other one starts from
std::vector<std::string> json_paths;
std::vector<std::string> absent;  // text neither result file may hold
std::vector<std::string> train_args;  // text every training command must hold
std::vector<std::string> target_flags;

TEST(PaperSmokeTest, RunsTheWholeProtocolAndWritesItsResults) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string run = tmp + "/run";
  const auto has_target_flag = [](const std::string& flag) {
    return std::find(target_flags.begin(), target_flags.end(), flag) != target_flags.end();
  };
  if (has_target_flag("--train_precision=bf16") && !engine::Bf16Supported()) {
    GTEST_SKIP() << "this CPU lacks bf16 (AVX512-BF16 or AMX) for --train_precision=bf16";
  }
  std::string data;
  if (has_target_flag("--dataset=imagenet")) {
    const std::string sample = testing::ImageNetSampleDir();
    if (sample.empty()) {
      GTEST_SKIP() << "ImageNet sample not found in <repository>/../shared/data/imagenet-sample "
                      "(or $PSG_IMAGENET_SAMPLE)";
    }
    data = testing::ImageNetFromSample(sample, tmp + "/imagenet");
  } else {
    data = testing::WriteFakeCifar10(tmp + "/data");
  }
  std::vector<std::string> command = {
      std::string(std::getenv("TEST_SRCDIR")) + "/psg_toolkit/experiments/" + target,
      "--budget=smoke", "--threads=1", "--data_dir=" + data,
      "--output_dir=" + run, "--shared_dir=" + tmp + "/shared"};
  command.insert(command.end(), target_flags.begin(), target_flags.end());
  ASSERT_EQ(RunAndLog(command, tmp + "/log.txt"), 0);
  absl::StatusOr<io::Json> results = report::ReadJsonFile(run + "/results.json");
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(*report::StringAt(*results, "budget"), "smoke");
  EXPECT_EQ(*report::StringAt(*results, "experiment"), target);
  for (const std::string& path : json_paths) {
    const io::Json* v = &*results;
    for (absl::string_view key : absl::StrSplit(path, '/')) {
      size_t index = 0;
      if (v->is_array() && absl::SimpleAtoi(key, &index)) {
        ASSERT_LT(index, v->size()) << path;
        v = &(*v)[index];
      } else {
        const auto member = v->find(std::string(key));  // end() unless an object with that member
        ASSERT_NE(member, v->end()) << path << ": no " << key << " in " << report::KindName(*v);
        v = &*member;
      }
    }
    ASSERT_TRUE(v->is_number()) << path << ": " << report::KindName(*v) << ", not a number";
    EXPECT_GE(v->get<double>(), 0.0) << path;
    EXPECT_LE(v->get<double>(), 1.0) << path;
  }
  EXPECT_TRUE(fs::exists(run + "/results.md"));
  for (const std::string& file : {run + "/results.json", run + "/results.md"}) {
    const std::string text = io::ReadTestFile(file);
    for (const std::string& a : absent) EXPECT_FALSE(absl::StrContains(text, a)) << file << " mentions " << a;
  }
  EXPECT_TRUE(fs::exists(run + "/commands.sh"));
  if (!train_args.empty()) {
    int training_commands = 0;
    for (const std::string& file : {run + "/commands.sh", tmp + "/shared/commands.sh"}) {
      for (absl::string_view line : absl::StrSplit(io::ReadTestFile(file), '\n')) {
        if (!absl::StrContains(line, "experiments:train ")) continue;
        ++training_commands;
        for (const std::string& a : train_args) EXPECT_TRUE(absl::StrContains(line, a)) << file << ": " << line;
      }
    }
    EXPECT_GT(training_commands, 0);
  }
  const std::string first = tmp + "/shared/" + first_stage;
  EXPECT_TRUE(fs::exists(first + "/stage_done"));
  int plots = 0;
  for (const auto& entry : fs::directory_iterator(run)) plots += entry.path().extension() == ".svg";
  EXPECT_GE(plots, 2);
  const auto before = fs::last_write_time(first + "/last.safetensors");
  ASSERT_EQ(RunAndLog(command, tmp + "/log2.txt"), 0);
  EXPECT_EQ(fs::last_write_time(first + "/last.safetensors"), before);
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  constexpr absl::string_view kFirstStage = "--first_stage=";
  int arg = 1;
  constexpr absl::string_view kAbsent = "--absent=";
  constexpr absl::string_view kTrainArg = "--train_arg=";
  for (; arg < argc; ++arg) {
    if (absl::StartsWith(argv[arg], kFirstStage)) {
      psg::experiments::first_stage = std::string(argv[arg]).substr(kFirstStage.size());
    } else if (absl::StartsWith(argv[arg], kAbsent)) {
      psg::experiments::absent.push_back(std::string(argv[arg]).substr(kAbsent.size()));
    } else if (absl::StartsWith(argv[arg], kTrainArg)) {
      psg::experiments::train_args.push_back(std::string(argv[arg]).substr(kTrainArg.size()));
    } else {
      break;
    }
  }
  if (arg >= argc) {
    std::fprintf(stderr,
                 "usage: paper_smoke_test [--first_stage=adam] [--absent=<text>]... "
                 "[--train_arg=<text>]... <experiment target> <json path>...\n");
    return 2;
  }
  psg::experiments::target = argv[arg];
  char** flags = std::find(argv + arg + 1, argv + argc, std::string("--"));
  psg::experiments::json_paths.assign(argv + arg + 1, flags);
  if (flags != argv + argc) psg::experiments::target_flags.assign(flags + 1, argv + argc);
  return RUN_ALL_TESTS();
}
