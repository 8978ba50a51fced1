#include "io/files.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_files.h"

namespace psg::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string FreshDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

// Runs `fn` in a child process whose files may not grow beyond `limit` bytes
// (RLIMIT_FSIZE, with SIGXFSZ ignored, so writes fail with EFBIG like on a
// full disk, also for root); returns the status message the child sent back,
// or "OK".
std::string WithFileSizeLimit(rlim_t limit, const std::function<absl::Status()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    const rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(2);
    const absl::Status s = fn();
    const std::string msg = s.ok() ? "OK" : std::string(s.message());
    if (write(fds[1], msg.data(), msg.size()) < 0) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t r; (r = read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return msg;
}

TEST(RegularFileTest, ReportsWhatAPathIsInsteadOfReadingIt) {
  const std::string dir = FreshDir("kinds");
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  // Opening a FIFO without a writer for reading would block: it must not.
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<RegularFile> f = RegularFile::Open(fifo, "checkpoint");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.status().message(), "checkpoint '" + fifo + "': is a FIFO, not a regular file");

  absl::StatusOr<RegularFile> d = RegularFile::Open(dir, "checkpoint");
  EXPECT_EQ(d.status().message(), "checkpoint '" + dir + "': is a directory, not a regular file");
  absl::StatusOr<RegularFile> null = RegularFile::Open("/dev/null", "CIFAR file");
  EXPECT_EQ(null.status().message(),
            "CIFAR file '/dev/null': is a character device, not a regular file");
  absl::StatusOr<RegularFile> missing = RegularFile::Open(dir + "/none", "checkpoint");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("No such file or directory"));
}

TEST(RegularFileTest, ReadsWholeFilesUpToALimit) {
  const std::string dir = FreshDir("read");
  std::ofstream(dir + "/f") << "hello";
  absl::StatusOr<std::string> text = ReadRegularFile(dir + "/f", "test file");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello");
  absl::StatusOr<std::string> capped = ReadRegularFile(dir + "/f", "test file", 4);
  EXPECT_EQ(capped.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(capped.status().message(), HasSubstr("5 bytes, more than the 4"));
}

TEST(WriteFileAtomicallyTest, ReplacesTheFileAndLeavesNoTemporaryFile) {
  const std::string dir = FreshDir("atomic");
  ASSERT_TRUE(WriteFileAtomically(dir + "/r.json", "old").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/r.json", {"n", "e", "w"}).ok());
  EXPECT_EQ(ReadTestFile(dir + "/r.json"), "new");
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"r.json"});
}

TEST(WriteFileAtomicallyTest, RefusesToReplaceWhatIsNotARegularFile) {
  const std::string dir = FreshDir("not_regular");
  const std::string fifo = dir + "/out.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const absl::Status s = WriteFileAtomically(fifo, "{}");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "writing '" + fifo + "': it exists and is a FIFO, not a regular file");
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"out.json"});
}

// A write that fails midway (EFBIG, as ENOSPC would) keeps the old file and
// removes the temporary one.
TEST(WriteFileAtomicallyTest, AFailedWriteKeepsTheOldFile) {
  const std::string dir = FreshDir("failing");
  ASSERT_TRUE(WriteFileAtomically(dir + "/r.json", "old").ok());
  const std::string message =
      WithFileSizeLimit(16, [&] { return WriteFileAtomically(dir + "/r.json", std::string(100, 'x')); });
  EXPECT_THAT(message, StartsWith("writing '" + dir + "/r.json': cannot write temporary file"));
  EXPECT_THAT(message, HasSubstr("File too large"));
  EXPECT_EQ(ReadTestFile(dir + "/r.json"), "old");
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"r.json"});
}

TEST(AppendFileTest, ReportsAFailedAppend) {
  const std::string dir = FreshDir("append");
  absl::StatusOr<AppendFile> log = AppendFile::Open(dir + "/m.jsonl");
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE(log->Append("{\"epoch\": 1}\n").ok());
  const std::string message = WithFileSizeLimit(20, [&] { return log->Append("{\"epoch\": 2}\n"); });
  EXPECT_EQ(message, "cannot write '" + dir + "/m.jsonl': File too large");
  absl::StatusOr<AppendFile> fresh = AppendFile::Open(dir + "/m.jsonl", /*truncate=*/true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(ReadTestFile(dir + "/m.jsonl"), "");
}

TEST(CheckWritableDirectoryTest, CreatesTheDirectoryOrSaysWhyNot) {
  const std::string dir = FreshDir("writable");
  ASSERT_TRUE(CheckWritableDirectory(dir + "/a/b").ok());
  EXPECT_TRUE(fs::is_directory(dir + "/a/b"));
  EXPECT_TRUE(fs::is_empty(dir + "/a/b"));  // the probe file is gone
  std::ofstream(dir + "/file") << "x";
  const absl::Status under_file = CheckWritableDirectory(dir + "/file/run");
  EXPECT_FALSE(under_file.ok());
  EXPECT_THAT(under_file.message(), HasSubstr("cannot create '" + dir + "/file/run'"));
  EXPECT_THAT(under_file.message(), HasSubstr("Not a directory"));
  const absl::Status is_file = CheckWritableDirectory(dir + "/file");
  EXPECT_EQ(is_file.message(),
            "output directory '" + dir + "/file' is a regular file, not a directory");
  // A directory where nothing can be created (a full disk or a read-only
  // file system; here a file-size limit of 0 bytes).
  const std::string full = WithFileSizeLimit(0, [&] { return CheckWritableDirectory(dir); });
  EXPECT_EQ(full, "output directory '" + dir +
                      "' is not writable: cannot write a file there: File too large");
}

TEST(TemporaryFilesTest, RemovesOnlyThoseOfProcessesThatAreGone) {
  const std::string dir = FreshDir("stale");
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  for (const std::string& name :
       {"last.safetensors.tmp." + std::to_string(dead), "result.json.tmp." + std::to_string(getpid()),
        std::string("init.tmp.1"), std::string("notes.tmp.x"), std::string("last.safetensors")}) {
    std::ofstream(dir + "/" + name) << "x";
  }
  const std::vector<std::string> removed = RemoveStaleTemporaryFiles(dir);
  EXPECT_EQ(std::set<std::string>(removed.begin(), removed.end()),
            (std::set<std::string>{dir + "/last.safetensors.tmp." + std::to_string(dead),
                                   dir + "/result.json.tmp." + std::to_string(getpid())}));
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"init.tmp.1", "notes.tmp.x", "last.safetensors"}));
  EXPECT_TRUE(RemoveStaleTemporaryFiles(dir + "/missing").empty());
}

// A signal that ends the process during a write: its handler removes the
// temporary file. The write is held in open(2) by a FIFO in the temporary
// file's place, so the signal surely arrives mid-write.
TEST(TemporaryFilesTest, ASignalHandlerRemovesTheFileBeingWritten) {
  const std::string dir = FreshDir("signal");
  const std::string path = dir + "/last.safetensors";
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGTERM, [](int) {
      RemoveTemporaryFilesInProgress();
      _exit(0);
    });
    if (mkfifo(TemporaryFileName(path).c_str(), 0644) != 0) _exit(2);
    (void)WriteFileAtomically(path, "data");  // blocks: the FIFO has no reader
    _exit(3);
  }
  const std::string tmp = path + ".tmp." + std::to_string(child);
  // Wait until the child sleeps in open(2) on the FIFO.
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    if (fs::exists(tmp) && state == "S") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(fs::exists(tmp));
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(ListDir(dir).empty());
}

}  // namespace
}  // namespace psg::io
