// The commands as a careless or hostile user runs them (issue 18): each test
// reproduces one of the reported failures with the built binaries on
// generated data and checks the fixed behaviour: a clear error naming the
// flag, file or tensor and a non-zero exit, or a run that resumes, keeps its
// results and writes valid JSON.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/protocol.h"
#include "experiments/testing/fake_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/checkpoint.h"
#include "io/json_writer.h"
#include "io/test_files.h"

extern char** environ;

namespace psg::commands {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Tmp() { return std::getenv("TEST_TMPDIR"); }

std::string Command(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_SRCDIR"), "/psg_toolkit/commands/", name);
}

io::Json ReadJson(const std::string& path) { return io::Json::parse(io::ReadTestFile(path)); }

struct Result {
  int status = -1;     // exit code, or 128 + signal
  std::string output;  // stdout and stderr
};

int log_count = 0;

// Runs `command` (a toolkit command name) with `args`, after the `prefix`
// program (e.g. a shell that sets a limit) if any.
Result RunCommandLine(const std::string& command, const std::vector<std::string>& args,
                      std::vector<std::string> prefix = {}) {
  prefix.push_back(Command(command));
  prefix.insert(prefix.end(), args.begin(), args.end());
  const std::string log = absl::StrCat(Tmp(), "/run_", ++log_count, ".log");
  Result r;
  r.status = experiments::RunAndLog(prefix, log);
  r.output = io::ReadTestFile(log);
  return r;
}

// The same under a file-size limit of `bytes` (writes beyond it fail with
// EFBIG, as they would with ENOSPC on a full disk, also for root).
Result RunWithFileSizeLimit(int64_t bytes, const std::string& command, const std::vector<std::string>& args) {
  return RunCommandLine(
      command, args,
      {"/bin/sh", "-c", absl::StrCat("trap '' XFSZ; ulimit -f ", bytes / 512, "; exec \"$0\" \"$@\"")});
}

// A command running in the background, its output in a file.
class Background {
 public:
  Background(const std::string& command, const std::vector<std::string>& args)
      : log_(absl::StrCat(Tmp(), "/background_", ++log_count, ".log")) {
    std::vector<std::string> argv = {Command(command)};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    EXPECT_EQ(posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  // Waits (up to 10 minutes) until the output holds `text`.
  bool WaitFor(const std::string& text) {
    for (int i = 0; i < 6000; ++i) {
      if (Output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  void Signal(int signal) { kill(pid_, signal); }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Output() const { return io::ReadTestFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// Generated data, written once per test process.
const std::string& Mnist() {
  static const std::string dir = experiments::testing::WriteFakeFashionMnist(Tmp() + "/mnist", 64, 32);
  return dir;
}
const std::string& Cifar() {
  static const std::string dir = experiments::testing::WriteFakeCifar10(Tmp() + "/cifar");
  return dir;
}

// A small, fast run: LeNet-5 on 64 Fashion-MNIST images, 2 steps per epoch.
std::vector<std::string> LenetFlags(const std::string& output_dir, int epochs) {
  return {"--dataset=fashion_mnist", "--data_dir=" + Mnist(), "--model=lenet5", "--batch_size=32",
          "--threads=1", absl::StrCat("--epochs=", epochs), "--progress_every=0", "--output_dir=" + output_dir};
}

// ResNets on 64 of the CIFAR-10 images.
std::vector<std::string> CifarFlags(const std::string& model) {
  return {"--dataset=cifar10", "--data_dir=" + Cifar(), "--model=" + model, "--batch_size=32",
          "--threads=1", "--max_eval_images=64"};
}

std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> TemporaryFiles(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(entry.path());
  }
  return found;
}

// Cases 5 and 9: numeric flags out of range are errors naming the flag, the
// value and the range, before anything is read (--batch_size=0 used to end
// in SIGFPE, the others were accepted).
TEST(ReliabilityTest, NumericFlagsAreRangeCheckedAtStartUp) {
  const struct {
    std::string command, flag, message;
  } cases[] = {
      {"train", "--batch_size=0", "--batch_size=0 is out of range: allowed [1, 1048576]"},
      {"train", "--max_train_images=-5", "--max_train_images=-5 is out of range: allowed [0, inf)"},
      {"train", "--threads=-1", "--threads=-1 is out of range: allowed [0, 4096]"},
      {"train", "--checkpoint_every_steps=-1", "--checkpoint_every_steps=-1 is out of range: allowed [0, inf)"},
      {"train", "--stop_after_steps=-1", "--stop_after_steps=-1 is out of range: allowed [0, inf)"},
      {"train", "--momentum=5", "--momentum=5 is out of range: allowed [0, 1)"},
      {"train", "--warmup_fraction=2", "--warmup_fraction=2 is out of range: allowed [0, 1)"},
      {"train", "--max_eval_images=-1", "--max_eval_images=-1 is out of range: allowed [0, inf)"},
      {"train", "--lr=inf", "--lr=inf is out of range: allowed (0, inf)"},
      {"ptq", "--calibration_batches=0", "--calibration_batches=0 is out of range: allowed [1, inf)"},
      {"ptq", "--lapq_evaluations=5", "--lapq_evaluations=5 is out of range: allowed [10, inf)"},
      {"int8_eval", "--calibration_batches=0", "--calibration_batches=0 is out of range: allowed [1, inf)"},
      {"prune_sweep", "--max_eval_images=-1", "--max_eval_images=-1 is out of range: allowed [0, inf)"},
      {"structured_prune", "--ratio=1", "--ratio=1 is out of range: allowed [0, 1)"},
      {"weight_histogram", "--bins=0", "--bins=0 is out of range: allowed [1, 100000]"},
      {"export_onnx", "--reference_images=-1", "--reference_images=-1 is out of range: allowed [0, inf)"},
      {"export_onnx", "--act_range_momentum=0", "--act_range_momentum=0 is out of range: allowed (0, 1]"},
      {"logits", "--max_eval_images=-1", "--max_eval_images=-1 is out of range: allowed [0, inf)"},
  };
  for (const auto& c : cases) {
    const Result r = RunCommandLine(c.command, {c.flag});
    EXPECT_EQ(r.status, 1) << c.command << " " << c.flag << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("error: " + c.message)) << c.command;
  }
}

// Cases 9 and 11: list flags are checked element by element; a model that
// does not take the data's images, and a data set that is missing, get
// messages about the model and that data set.
TEST(ReliabilityTest, ListFlagsModelsAndDataSetsAreCheckedWithClearMessages) {
  const std::string out = Tmp() + "/checks";
  Result r = RunCommandLine("train", Plus(LenetFlags(out, 3), {"--schedule=multistep", "--milestones=-1,100"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("error: --milestones: '-1' is out of range: allowed (0, 3]"));
  r = RunCommandLine("train", Plus(LenetFlags(out, 3), {"--schedule=multistep", "--milestones=2,1"}));
  EXPECT_THAT(r.output, HasSubstr("error: --milestones: '1' does not increase"));

  r = RunCommandLine("train", Plus(LenetFlags(out, 1), {"--model=resnet20"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("error: --dataset=fashion_mnist: --model=resnet20 takes 3-channel square "
                                  "images of any size, but the data set's are 1x28x28 (models that "
                                  "take them: lenet5)"));
  r = RunCommandLine("train", {"--dataset=cifar10", "--data_dir=" + Cifar(), "--model=resnet18",
                               "--batch_size=32", "--threads=1", "--max_train_images=32", "--max_eval_images=32",
                               "--epochs=1", "--progress_every=0", "--output_dir=" + out + "/r18"});
  EXPECT_EQ(r.status, 0) << r.output;  // ResNet-18 takes CIFAR's 32x32 images
  r = RunCommandLine("train", Plus(LenetFlags(out, 1), {"--model=vgg16_bn"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("--model=vgg16_bn takes 3x32x32 images (channels x height x width), but the "
                                  "data set's are 1x28x28"));

  fs::create_directories(Tmp() + "/no_data");
  r = RunCommandLine("train", Plus(LenetFlags(out, 1), {"--data_dir=" + Tmp() + "/no_data"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("Fashion-MNIST is read from " + Tmp() + "/no_data: the four IDX files"));
  EXPECT_THAT(r.output, Not(HasSubstr("get_cifar10")));
}

// Case 11: the output directory is checked before anything else (it used to
// be found unwritable at the first checkpoint).
TEST(ReliabilityTest, AnUnwritableOutputDirectoryIsReportedFirst) {
  std::ofstream(Tmp() + "/a_file") << "x";
  const Result r = RunCommandLine("train", Plus(LenetFlags(Tmp() + "/a_file/run", 1), {"--data_dir=/nonexistent"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("error: output directory '" + Tmp() + "/a_file/run': cannot create"));
}

// Cases 3 and 4: a run stopped at an epoch's last batch resumes (it failed
// with "BatchLoader: bad start/end"); --resume=auto on a finished run leaves
// its result.json as it was (it was rewritten with 0 epochs and 0.00 %), and
// writes a missing one from metrics.jsonl.
TEST(ReliabilityTest, RunsStoppedAnywhereResumeAndFinishedRunsKeepTheirResults) {
  const std::string out = Tmp() + "/boundary";
  Result r = RunCommandLine("train", Plus(LenetFlags(out, 2), {"--stop_after_steps=2"}));  // the end of epoch 1
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCommandLine("train", Plus(LenetFlags(out, 2), {"--resume=auto"}));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string result = io::ReadTestFile(out + "/result.json");
  const io::Json json = io::Json::parse(result);
  EXPECT_EQ(json["steps"], 4);
  std::istringstream metrics(io::ReadTestFile(out + "/metrics.jsonl"));
  std::vector<int> epochs;
  for (std::string line; std::getline(metrics, line);) epochs.push_back(io::Json::parse(line)["epoch"]);
  EXPECT_EQ(epochs, (std::vector<int>{1, 2}));

  r = RunCommandLine("train", Plus(LenetFlags(out, 2), {"--resume=auto"}));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the run finished all 2 epochs (step 4); nothing to train"));
  EXPECT_EQ(io::ReadTestFile(out + "/result.json"), result);

  fs::remove(out + "/result.json");
  r = RunCommandLine("train", Plus(LenetFlags(out, 2), {"--resume=auto"}));
  ASSERT_EQ(r.status, 0) << r.output;
  const io::Json rebuilt = ReadJson(out + "/result.json");
  EXPECT_EQ(rebuilt["final_test_accuracy"], json["final_test_accuracy"]);
  EXPECT_EQ(rebuilt["steps"], 4);
}

// Case 9: resuming under another batch size or learning-rate schedule is
// refused, naming the flags (it silently reinterpreted the position).
TEST(ReliabilityTest, ResumingUnderOtherSettingsIsRefused) {
  const std::string out = Tmp() + "/settings";
  ASSERT_EQ(RunCommandLine("train", Plus(LenetFlags(out, 2), {"--stop_after_steps=1"})).status, 0);
  const struct {
    std::string flag, message;
  } cases[] = {{"--batch_size=16", "--batch_size=32 (now 16)"},
               {"--lr=0.2", "--lr=0.1 (now 0.2)"},
               {"--schedule=constant", "--schedule=onecycle (now constant)"},
               {"--epochs=3", "--epochs=2 (now 3)"}};
  for (const auto& c : cases) {
    const Result r = RunCommandLine("train", Plus(LenetFlags(out, 2), {"--resume=auto", c.flag}));
    EXPECT_EQ(r.status, 1) << c.flag;
    EXPECT_THAT(r.output, HasSubstr("cannot resume from '" + out + "/last.safetensors'")) << c.flag;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.flag;
  }
  EXPECT_EQ(RunCommandLine("train", Plus(LenetFlags(out, 2), {"--resume=auto"})).status, 0);
}

// Case 1: a diverging run stops with an error at the step that went wrong;
// whatever it left on disk is finite and valid JSON.
TEST(ReliabilityTest, ADivergingRunStopsAndLeavesNothingNonFinite) {
  const std::string out = Tmp() + "/diverges";
  const Result r =
      RunCommandLine("train", Plus(LenetFlags(out, 2), {"--lr=1000", "--schedule=constant", "--checkpoint_every_steps=1"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("error: training diverged at step"));
  if (fs::exists(out + "/last.safetensors")) {
    absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(out + "/last.safetensors");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    EXPECT_TRUE(ckpt->CheckFinite().ok()) << ckpt->CheckFinite();
  }
  std::istringstream metrics(io::ReadTestFile(out + "/metrics.jsonl"));
  for (std::string line; std::getline(metrics, line);) EXPECT_NO_THROW(io::Json::parse(line)) << line;
}

// Case 7: paths holding '"' and '\' made the result files and the
// checkpoint's flags metadata invalid JSON.
TEST(ReliabilityTest, PathsWithQuotesAndBackslashesGiveValidJson) {
  const std::string first = Tmp() + "/a \"quoted\" \\ dir";
  ASSERT_EQ(RunCommandLine("train", LenetFlags(first, 1)).status, 0);
  const std::string checkpoint = first + "/last.safetensors";
  const std::string second = Tmp() + "/b \\\" dir";
  ASSERT_EQ(RunCommandLine("train", Plus(LenetFlags(second, 1), {"--init_from=" + checkpoint})).status, 0);
  EXPECT_EQ(ReadJson(second + "/result.json")["flags"]["init_from"], checkpoint);
  absl::StatusOr<io::Checkpoint> saved = io::Checkpoint::Read(second + "/last.safetensors");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(io::Json::parse(*saved->GetMetadata("flags"))["init_from"], checkpoint);

  const std::vector<std::string> data = {"--dataset=fashion_mnist", "--data_dir=" + Mnist(), "--model=lenet5",
                                         "--threads=1", "--checkpoint=" + checkpoint};
  ASSERT_EQ(RunCommandLine("ptq", Plus(data, {"--bits=8,4"})).status, 0);
  EXPECT_EQ(ReadJson(first + "/ptq/ptq.json")["flags"]["checkpoint"], checkpoint);
  ASSERT_EQ(RunCommandLine("prune_sweep", Plus(data, {"--sparsity=0.5"})).status, 0);
  EXPECT_EQ(ReadJson(first + "/prune_sweep/prune_sweep.json")["flags"]["checkpoint"], checkpoint);
}

// Cases 1, 6, 7, 8 and 11 with the ResNet commands on CIFAR-10: a checkpoint
// of another model or with a non-finite value is refused by every command
// that loads one; int8_eval's and structured_prune's JSON is valid for any
// path; an output path that cannot be written is reported before any data is
// read; a result that cannot be written is an error.
TEST(ReliabilityTest, EveryLoaderChecksTheCheckpointAndEveryWriterItsFiles) {
  const std::string r32 = Tmp() + "/r32";
  ASSERT_EQ(RunCommandLine("train", Plus(CifarFlags("resnet32"), {"--output_dir=" + r32, "--stop_after_steps=1"})).status, 0);
  const std::string r20 = Tmp() + "/r20 \"x\" \\";
  ASSERT_EQ(RunCommandLine("train", Plus(CifarFlags("resnet20"), {"--output_dir=" + r20, "--epochs=1",
                                                        "--max_train_images=64"}))
                .status,
            0);
  const std::string wrong = r32 + "/last.safetensors", good = r20 + "/last.safetensors";

  // A NaN in one weight of the good checkpoint, as a diverged run saved it.
  const std::string nan = Tmp() + "/nan.safetensors";
  {
    absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(good);
    ASSERT_TRUE(ckpt.ok());
    io::CheckpointWriter writer;
    for (const io::TensorInfo& t : ckpt->tensors()) {
      if (t.dtype == io::DType::kF32) {
        std::vector<float> values(ckpt->F32(t.name)->begin(), ckpt->F32(t.name)->end());
        if (t.name == "layer1.0.conv1.weight") values[3] = NAN;
        ASSERT_TRUE(writer.AddF32(t.name, t.shape, values).ok());
      } else {
        ASSERT_TRUE(writer.AddU64(t.name, t.shape, *ckpt->U64(t.name)).ok());
      }
    }
    ASSERT_TRUE(writer.WriteAtomically(nan).ok());
  }
  const std::string out = Tmp() + "/loaders";
  const std::vector<std::pair<std::string, std::vector<std::string>>> loaders = {
      {"train", {"--output_dir=" + out + "/train", "--init_from="}},
      {"train", {"--output_dir=" + out + "/resume", "--resume="}},
      {"ptq", {"--output_dir=" + out + "/ptq", "--calibration_batches=1", "--checkpoint="}},
      {"prune_sweep", {"--output_dir=" + out + "/sweep", "--checkpoint="}},
      {"int8_eval", {"--calibration_batches=1", "--timing_passes=1", "--checkpoint="}},
      {"structured_prune", {"--output_dir=" + out + "/structured", "--timing_passes=1", "--checkpoint="}},
      {"export_onnx", {"--undefok=max_eval_images", "--output=" + out + "/r20.onnx", "--bits=4", "--act_bits=8",
                       "--calibration_batches=1", "--checkpoint="}},
      {"logits", {"--output_dir=" + out + "/logits", "--checkpoint="}},
  };
  for (auto [command, args] : loaders) {
    const std::string flag = args.back();
    args.back() = flag + wrong;
    Result r = RunCommandLine(command, Plus(CifarFlags("resnet20"), args));
    EXPECT_EQ(r.status, 1) << command << " " << flag;
    EXPECT_THAT(r.output, HasSubstr("checkpoint '" + wrong + "' holds a resnet32 model, not resnet20: pass "
                                    "--model=resnet32"))
        << command << " " << flag;
    args.back() = flag + nan;
    r = RunCommandLine(command, Plus(CifarFlags("resnet20"), args));
    EXPECT_EQ(r.status, 1) << command << " " << flag;
    EXPECT_THAT(r.output, HasSubstr("checkpoint '" + nan + "': tensor \"layer1.0.conv1.weight\" holds a "
                                    "non-finite value (nan at element 3 of shape [16,16,3,3])"))
        << command << " " << flag;
  }
  EXPECT_EQ(RunCommandLine("ptq", Plus(CifarFlags("resnet20"), {"--output_dir=" + out + "/ptq_nan", "--calibration_batches=1",
                                                      "--bits=8", "--checkpoint=" + nan,
                                                      "--allow_nonfinite_checkpoint"}))
                .status,
            0);
  Result r = RunCommandLine("weight_histogram", {"--checkpoints=NaN=" + nan, "--layer=layer1.0.conv1.weight",
                                      "--output_dir=" + out + "/histogram"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("holds a non-finite value"));

  // Valid JSON for any path.
  const std::string int8 = r20 + "/int8 \"q\".json";
  ASSERT_EQ(RunCommandLine("int8_eval", Plus(CifarFlags("resnet20"), {"--calibration_batches=1", "--timing_passes=1",
                                                            "--checkpoint=" + good, "--output=" + int8}))
                .status,
            0);
  EXPECT_EQ(ReadJson(int8)["checkpoint"], good);
  ASSERT_EQ(RunCommandLine("structured_prune", Plus(CifarFlags("resnet20"), {"--timing_passes=1", "--checkpoint=" + good}))
                .status,
            0);
  EXPECT_EQ(ReadJson(r20 + "/structured_prune/result.json")["checkpoint"], good);

  // export_onnx and logits check where they write before reading any data.
  std::ofstream(Tmp() + "/not_a_dir") << "x";
  r = RunCommandLine("export_onnx", {"--data_dir=/nonexistent", "--checkpoint=" + good,
                                     "--output=" + Tmp() + "/not_a_dir/r20.onnx"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: output directory '" + Tmp() + "/not_a_dir' is a regular file, not a directory"));
  r = RunCommandLine("export_onnx", {"--data_dir=/nonexistent", "--checkpoint=" + good, "--output=" + out + "/r20.onnx",
                                     "--reference_dir=" + Tmp() + "/not_a_dir/reference"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: output directory '" + Tmp() + "/not_a_dir/reference': cannot create"));
  r = RunCommandLine("logits", {"--data_dir=/nonexistent", "--checkpoint=" + good,
                                "--output_dir=" + Tmp() + "/not_a_dir/logits"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: output directory '" + Tmp() + "/not_a_dir/logits': cannot create"));

  // Case 8: results that cannot be written (a 512-byte file-size limit: the
  // writes fail with EFBIG as on a full disk) are errors, not "results: ...".
  r = RunWithFileSizeLimit(512, "ptq", Plus(CifarFlags("resnet20"), {"--output_dir=" + out + "/ptq_full",
                                                                     "--calibration_batches=1", "--bits=8",
                                                                     "--checkpoint=" + good}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: writing '" + out + "/ptq_full/ptq.json': cannot write temporary file"));
  EXPECT_THAT(r.output, HasSubstr("File too large"));
  r = RunWithFileSizeLimit(512, "int8_eval", Plus(CifarFlags("resnet20"), {"--calibration_batches=1",
                                                                           "--timing_passes=1",
                                                                           "--checkpoint=" + good,
                                                                           "--output=" + out + "/int8.json"}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: writing '" + out + "/int8.json'"));
  r = RunWithFileSizeLimit(512, "structured_prune",
                           Plus(CifarFlags("resnet20"), {"--output_dir=" + out + "/structured_full",
                                                         "--timing_passes=1", "--checkpoint=" + good}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("File too large"));
  r = RunWithFileSizeLimit(512, "export_onnx", Plus(CifarFlags("resnet20"), {"--undefok=max_eval_images", "--checkpoint=" + good,
                                                                             "--output=" + out + "/full.onnx"}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: writing '" + out + "/full.onnx': cannot write temporary file"));
  EXPECT_THAT(r.output, HasSubstr("File too large"));
  r = RunWithFileSizeLimit(512, "logits", Plus(CifarFlags("resnet20"), {"--checkpoint=" + good,
                                                                        "--output_dir=" + out + "/logits_full"}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: writing '" + out + "/logits_full/logits.npy'"));
  EXPECT_THAT(r.output, HasSubstr("File too large"));
  const std::string blocked = Tmp() + "/blocked";
  fs::create_directories(blocked + "/result.json");  // a directory where the result goes
  r = RunCommandLine("train", Plus(LenetFlags(blocked, 1), {}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("error: writing '" + blocked + "/result.json': it exists and is a directory"));
}

// Case 11: checkpoint paths that are no file are named for what they are; a
// FIFO does not hang the command.
TEST(ReliabilityTest, CheckpointPathsThatAreNoFileAreNamed) {
  const std::string fifo = Tmp() + "/fifo.safetensors";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const std::string dir = Tmp() + "/a_directory";
  fs::create_directories(dir);
  const struct {
    std::string path, what;
  } cases[] = {{fifo, "a FIFO"}, {dir, "a directory"}, {"/dev/null", "a character device"}};
  for (const auto& c : cases) {
    Result r = RunCommandLine("ptq", {"--checkpoint=" + c.path, "--output_dir=" + Tmp() + "/unused"});
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.output, HasSubstr("error: --checkpoint '" + c.path + "': is " + c.what + ", not a regular file"));
    r = RunCommandLine("train", Plus(LenetFlags(Tmp() + "/init", 1), {"--init_from=" + c.path}));
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.output, HasSubstr("error: checkpoint '" + c.path + "': is " + c.what + ", not a regular file"));
  }
}

// Case 10: SIGINT stops a run at the next step with a checkpoint and exit
// code 0, and --resume=auto continues it; a second signal ends the process
// at once; temporary files a killed process left are removed.
TEST(ReliabilityTest, SignalsStopRunsCleanly) {
  const std::string out = Tmp() + "/signals";
  fs::create_directories(out);
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  const std::string stale = absl::StrCat(out, "/last.safetensors.tmp.", gone);
  std::ofstream(stale) << "left by a killed process";

  Background run("train", Plus(LenetFlags(out, 1000), {"--checkpoint_every_steps=0"}));
  ASSERT_TRUE(run.WaitFor("epoch 2/1000 done")) << run.Output();
  run.Signal(SIGINT);
  EXPECT_EQ(run.Wait(), 0) << run.Output();
  EXPECT_THAT(run.Output(), HasSubstr("removed " + stale));
  EXPECT_THAT(run.Output(), HasSubstr("interrupted by SIGINT after"));
  EXPECT_THAT(TemporaryFiles(out), ::testing::IsEmpty());
  absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(out + "/last.safetensors");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  const uint64_t step = (*ckpt->U64("rng/run_position"))[2];
  EXPECT_GE(step, 4u);
  const Result resumed =
      RunCommandLine("train", Plus(LenetFlags(out, 1000), {"--resume=auto", absl::StrCat("--stop_after_steps=", step + 2)}));
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr(absl::StrCat("step ", step, "\n")));

  // Two signals: the second one (mid-step of a slow ResNet step) ends it.
  const std::string twice = Tmp() + "/signals_twice";
  Background slow("train", Plus(CifarFlags("resnet20"), {"--output_dir=" + twice, "--batch_size=256",
                                                        "--checkpoint_every_steps=0", "--progress_every=1"}));
  ASSERT_TRUE(slow.WaitFor("batch 1/")) << slow.Output();
  slow.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  slow.Signal(SIGINT);
  EXPECT_EQ(slow.Wait(), 128 + SIGINT) << slow.Output();
  EXPECT_THAT(TemporaryFiles(twice), ::testing::IsEmpty());
}

}  // namespace
}  // namespace psg::commands
