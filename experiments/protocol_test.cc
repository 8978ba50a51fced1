#include "experiments/protocol.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_files.h"

namespace psg::experiments {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh directory with a fake "train" command: it records its arguments
// in <output_dir>/args.txt, prints a line, writes result.json (if it
// succeeds) and last.safetensors, and exits with $FAKE_STATUS (0 by default).
class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ + "/bin");
    const std::string train = root_ + "/bin/train";
    std::ofstream(train) << "#!/bin/sh\n"
                            "for a in \"$@\"; do case \"$a\" in --output_dir=*) out=${a#*=};; esac; done\n"
                            "echo \"$@\" > \"$out/args.txt\"\n"
                            "echo training >&2\n"
                            "[ \"${FAKE_STATUS:-0}\" = 0 ] && echo '{}' > \"$out/result.json\"\n"
                            "touch \"$out/last.safetensors\"\n"
                            "exit ${FAKE_STATUS:-0}\n";
    fs::permissions(train, fs::perms::owner_all);
  }
  std::string root_;
};

TEST_F(ProtocolTest, RunsAStageWithTheCommonArgsAndRecordsTheCommand) {
  Protocol p(root_ + "/run", {"--threads=2", "--dataset=cifar10"}, root_ + "/bin");
  const std::string dir = p.Stage("sgd", "train", {"--epochs=3", "--dataset=mnist"}, "result.json");
  EXPECT_EQ(dir, root_ + "/run/sgd");
  const std::string args = io::ReadTestFile(dir + "/args.txt");
  EXPECT_THAT(args, HasSubstr("--epochs=3 --dataset=mnist --threads=2 --output_dir=" + dir +
                              " --resume=auto"));
  EXPECT_THAT(args, ::testing::Not(HasSubstr("cifar10")));  // the stage's own value wins
  EXPECT_THAT(io::ReadTestFile(dir + "/log.txt"), HasSubstr("training"));
  EXPECT_THAT(io::ReadTestFile(root_ + "/run/commands.sh"),
              HasSubstr("# sgd\nbazel run //experiments:train -- '--epochs=3' '--dataset=mnist'"));
}

// A command's own args go to its stages only, and a stage's own value wins.
TEST_F(ProtocolTest, GivesACommandItsOwnArgs) {
  fs::copy_file(root_ + "/bin/train", root_ + "/bin/ptq");
  Protocol p(root_ + "/run", {"--threads=1"}, root_ + "/bin");
  p.SetCommandArgs("train", {"--precision=bf16"});
  EXPECT_THAT(io::ReadTestFile(p.Stage("sgd", "train", {"--epochs=3"}, "result.json") + "/args.txt"),
              HasSubstr("--epochs=3 --threads=1 --precision=bf16 --output_dir="));
  EXPECT_THAT(io::ReadTestFile(p.Stage("fp32", "train", {"--precision=fp32"}, "result.json") + "/args.txt"),
              ::testing::Not(HasSubstr("bf16")));
  EXPECT_THAT(io::ReadTestFile(p.Stage("eval", "ptq", {"--bits=4"}, "result.json") + "/args.txt"),
              ::testing::Not(HasSubstr("precision")));
}

// A launcher (here a shell script standing in for mpirun) runs the command
// with its prefix and suffix, and commands.sh shows the launch.
TEST_F(ProtocolTest, RunsACommandUnderItsLauncher) {
  const std::string launcher = root_ + "/bin/launch";
  std::ofstream(launcher) << "#!/bin/sh\n"
                             "[ \"$1\" = -np ] && [ \"$2\" = 2 ] || exit 9\n"
                             "shift 2\n"
                             "exec \"$@\"\n";
  fs::permissions(launcher, fs::perms::owner_all);
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  p.SetLauncher("train", {launcher, "-np", "2"}, {"--distributed=mpi"});
  const std::string dir = p.Stage("sgd", "train", {"--epochs=3"}, "result.json");
  EXPECT_THAT(io::ReadTestFile(dir + "/args.txt"),
              HasSubstr("--epochs=3 --output_dir=" + dir + " --resume=auto --distributed=mpi"));
  EXPECT_THAT(io::ReadTestFile(root_ + "/run/commands.sh"),
              HasSubstr("# sgd\n'" + launcher + "' '-np' '2' bazel-bin/commands/train '--epochs=3' "));
}

TEST_F(ProtocolTest, SkipsAFinishedStage) {
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  const std::string dir = p.Stage("sgd", "train", {"--epochs=1"}, "result.json");
  fs::remove(dir + "/args.txt");
  p.Stage("sgd", "train", {"--epochs=1"}, "result.json");
  EXPECT_FALSE(fs::exists(dir + "/args.txt"));  // not run again
}

TEST_F(ProtocolTest, RedoRunsAFinishedStageAgain) {
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  const std::string dir = p.Stage("sweep", "train", {"--sparsity=0.5"}, "result.json");
  p.Redo("sweep");
  p.Stage("sweep", "train", {"--sparsity=0.5,0.9"}, "result.json");
  EXPECT_THAT(io::ReadTestFile(dir + "/args.txt"), HasSubstr("--sparsity=0.5,0.9"));
}

TEST_F(ProtocolTest, RerunsAStageThatDidNotFinish) {
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  fs::create_directories(root_ + "/run/sgd");
  std::ofstream(root_ + "/run/sgd/result.json") << "{}";  // but no stage_done marker
  p.Stage("sgd", "train", {}, "result.json");
  EXPECT_TRUE(fs::exists(root_ + "/run/sgd/args.txt"));
}

TEST_F(ProtocolTest, AFailingCommandNamesTheStageAndItsLog) {
  setenv("FAKE_STATUS", "3", 1);
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  try {
    p.Stage("psgd", "train", {}, "result.json");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("stage 'psgd' (train) failed with status 3"));
    EXPECT_THAT(e.what(), HasSubstr(root_ + "/run/psgd/log.txt"));
  }
  unsetenv("FAKE_STATUS");
  EXPECT_THROW(p.Stage("x", "no_such_command", {}, "result.json"), std::runtime_error);
}

TEST(RunAndLogTest, ReturnsTheExitStatusAndKeepsTheOutput) {
  const std::string log = std::string(std::getenv("TEST_TMPDIR")) + "/run_and_log.txt";
  fs::remove(log);
  EXPECT_EQ(RunAndLog({"/bin/sh", "-c", "echo out; echo err >&2; exit 5"}, log), 5);
  EXPECT_EQ(io::ReadTestFile(log), "out\nerr\n");
}

TEST_F(ProtocolTest, PaperSgdStageKeepsTheCheckpointPsgdStartsFrom) {
  Protocol p(root_ + "/run", {}, root_ + "/bin");
  const std::string start = PsgdStartCheckpoint(p, RecipeFor(Budget::kPaper), "sgd");
  EXPECT_EQ(start, root_ + "/run/sgd_start/last.safetensors");
  EXPECT_THAT(io::ReadTestFile(root_ + "/run/sgd_start/args.txt"),
              HasSubstr("--stop_after_steps=32062 "));  // epoch 82 of 391 steps
  // The start alone trains no more than the first leg; the control is the rest.
  EXPECT_FALSE(fs::exists(root_ + "/run/sgd"));
  EXPECT_EQ(PretrainingStage(p, RecipeFor(Budget::kPaper), "sgd"), root_ + "/run/sgd");
  const std::string rest = io::ReadTestFile(root_ + "/run/sgd/args.txt");
  EXPECT_THAT(rest, HasSubstr("--epochs=150"));
  EXPECT_THAT(rest, HasSubstr("--resume=" + start));
  EXPECT_THAT(rest, ::testing::Not(HasSubstr("--resume=auto")));
  // A given start checkpoint replaces the first leg and trains nothing; the
  // SGD stage continues it.
  Recipe given = RecipeFor(Budget::kPaper);
  given.start_checkpoint = root_ + "/ResNet82.safetensors";
  Protocol g(root_ + "/given", {}, root_ + "/bin");
  EXPECT_EQ(PsgdStartCheckpoint(g, given, "sgd"), given.start_checkpoint);
  EXPECT_FALSE(fs::exists(root_ + "/given/sgd_start"));
  EXPECT_FALSE(fs::exists(root_ + "/given/sgd"));
  EXPECT_EQ(PretrainingStage(g, given, "sgd"), root_ + "/given/sgd");
  EXPECT_FALSE(fs::exists(root_ + "/given/sgd_start"));
  EXPECT_THAT(io::ReadTestFile(root_ + "/given/sgd/args.txt"), HasSubstr("--resume=" + given.start_checkpoint));
  // Short budgets start PSGD from the end of SGD, the whole stage.
  Protocol q(root_ + "/short", {}, root_ + "/bin");
  EXPECT_EQ(PsgdStartCheckpoint(q, RecipeFor(Budget::kShort), "sgd"), root_ + "/short/sgd/last.safetensors");
  EXPECT_EQ(PretrainingStage(q, RecipeFor(Budget::kShort), "sgd"), root_ + "/short/sgd");
  const std::string psgd = PsgdStage(q, RecipeFor(Budget::kShort), "psgd", "x.safetensors",
                                     {"--psg_bits=3"});
  EXPECT_THAT(io::ReadTestFile(psgd + "/args.txt"),
              HasSubstr("--optimizer=psgd --psg_bits=3 --init_from=x.safetensors"));
}

}  // namespace
}  // namespace psg::experiments
