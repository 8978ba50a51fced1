#include "experiments/protocol.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "io/files.h"

extern char** environ;

namespace psg::experiments {
namespace fs = std::filesystem;

namespace {

// Single-quoted for a POSIX shell, so commands.sh can be run as written.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Whether `args` already sets --name (as --name=... or --name / --noname).
bool HasFlag(const std::vector<std::string>& args, const std::string& arg) {
  const std::string name = arg.substr(0, arg.find('='));
  for (const std::string& a : args) {
    if (a == name || absl::StartsWith(a, name + "=")) return true;
  }
  return false;
}

}  // namespace

std::string CommandPath(const std::string& name) {
  const fs::path self = fs::read_symlink("/proc/self/exe");
  // Siblings first (binaries copied into one directory), then
  // bazel-bin/commands/<command> beside bazel-bin/experiments/<table>; under
  // `bazel test` the runfiles tree holds them at the same relative place.
  std::vector<fs::path> candidates = {self.parent_path() / name,
                                      self.parent_path().parent_path() / "commands" / name};
  if (const char* runfiles = std::getenv("RUNFILES_DIR")) {
    candidates.push_back(fs::path(runfiles) / "psg_toolkit/commands" / name);
  }
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(fs::path(srcdir) / "psg_toolkit/commands" / name);
  }
  for (const fs::path& p : candidates) {
    if (fs::exists(p)) return p.string();
  }
  throw std::runtime_error(absl::StrCat("command '", name, "' not found beside ", self.string(),
                                        "; build //commands:", name));
}

int RunAndLog(const std::vector<std::string>& argv, const std::string& log_path) {
  std::ofstream log(log_path, std::ios::app);
  if (!log) throw std::runtime_error("cannot write '" + log_path + "'");
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error(absl::StrCat("cannot run '", argv[0], "': error ", spawned));
  }
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) {
    fwrite(buffer, 1, n, stdout);
    fflush(stdout);
    log.write(buffer, n);
    log.flush();  // a crash of either process keeps the log up to here
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Protocol::Protocol(std::string run_dir, std::vector<std::string> common_args,
                   std::string command_dir)
    : run_dir_(std::move(run_dir)),
      common_args_(std::move(common_args)),
      command_dir_(std::move(command_dir)) {
  fs::create_directories(run_dir_);
}

std::string Protocol::Stage(const std::string& stage, const std::string& command,
                            std::vector<std::string> args, const std::string& result_file) {
  const std::string dir = run_dir_ + "/" + stage;
  const std::string result = dir + "/" + result_file;
  const std::string done_marker = dir + "/stage_done";
  if (fs::exists(done_marker) && fs::exists(result)) {
    std::printf("== stage %s: done before (%s)\n", stage.c_str(), result.c_str());
    return dir;
  }
  fs::create_directories(dir);
  std::vector<std::string> defaults = common_args_;
  if (const auto own = command_args_.find(command); own != command_args_.end()) {
    defaults.insert(defaults.end(), own->second.begin(), own->second.end());
  }
  for (const std::string& arg : defaults) {
    if (!HasFlag(args, arg)) args.push_back(arg);
  }
  args.push_back("--output_dir=" + dir);
  if (command == "train" && !HasFlag(args, "--resume")) args.push_back("--resume=auto");
  const auto launcher = launchers_.find(command);
  std::vector<std::string> argv;
  if (launcher != launchers_.end()) {
    argv = launcher->second.prefix;
    args.insert(args.end(), launcher->second.suffix.begin(), launcher->second.suffix.end());
  }
  argv.push_back(command_dir_.empty() ? CommandPath(command) : command_dir_ + "/" + command);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> quoted;
  for (const std::string& a : args) quoted.push_back(ShellQuote(a));
  // `bazel run` cannot run under a launcher (mpirun): then the built binary.
  std::string how = absl::StrCat("bazel run //experiments:", command, " --");
  if (launcher != launchers_.end()) {
    std::vector<std::string> prefix;
    for (const std::string& a : launcher->second.prefix) prefix.push_back(ShellQuote(a));
    how = absl::StrCat(absl::StrJoin(prefix, " "), " bazel-bin/commands/", command);
  }
  absl::StatusOr<io::AppendFile> commands = io::AppendFile::Open(run_dir_ + "/commands.sh");
  absl::Status written =
      commands.ok() ? commands->Append(absl::StrCat("# ", stage, "\n", how, " ",
                                                    absl::StrJoin(quoted, " "), "\n"))
                    : commands.status();
  if (!written.ok()) throw std::runtime_error(std::string(written.message()));
  std::printf("== stage %s: %s %s\n", stage.c_str(), command.c_str(),
              absl::StrJoin(args, " ").c_str());
  std::fflush(stdout);
  const int status = RunAndLog(argv, dir + "/log.txt");
  if (status != 0) {
    throw std::runtime_error(absl::StrCat("stage '", stage, "' (", command, ") failed with status ",
                                          status, "; see ", dir, "/log.txt"));
  }
  if (!fs::exists(result)) {
    throw std::runtime_error(absl::StrCat("stage '", stage, "' (", command, ") wrote no ", result));
  }
  if (absl::Status s = io::WriteFileAtomically(done_marker, "done\n"); !s.ok()) {
    throw std::runtime_error(std::string(s.message()));
  }
  return dir;
}

void Protocol::Redo(const std::string& stage) { fs::remove(run_dir_ + "/" + stage + "/stage_done"); }

void Protocol::SetLauncher(const std::string& command, std::vector<std::string> prefix,
                           std::vector<std::string> suffix) {
  launchers_[command] = {std::move(prefix), std::move(suffix)};
}

void Protocol::SetCommandArgs(const std::string& command, std::vector<std::string> args) {
  command_args_[command] = std::move(args);
}

std::string PsgdStartCheckpoint(Protocol& protocol, const Recipe& recipe, const std::string& stage) {
  if (recipe.psgd_start_step == 0) {
    return protocol.Stage(stage, "train", recipe.sgd, "result.json") + "/last.safetensors";
  }
  if (!recipe.start_checkpoint.empty()) return recipe.start_checkpoint;
  std::vector<std::string> first_leg = recipe.sgd;
  first_leg.push_back(absl::StrCat("--stop_after_steps=", recipe.psgd_start_step));
  return protocol.Stage(stage + "_start", "train", first_leg, "last.safetensors") + "/last.safetensors";
}

std::string PretrainingStage(Protocol& protocol, const Recipe& recipe, const std::string& stage) {
  const std::string start = PsgdStartCheckpoint(protocol, recipe, stage);
  if (recipe.psgd_start_step == 0) return protocol.run_dir() + "/" + stage;
  // The second leg continues from the first, or from its own checkpoint when
  // it was interrupted.
  const std::string own = protocol.run_dir() + "/" + stage + "/last.safetensors";
  std::vector<std::string> rest = recipe.sgd;
  rest.push_back("--resume=" + (fs::exists(own) ? own : start));
  return protocol.Stage(stage, "train", rest, "result.json");
}

std::string PsgdStage(Protocol& protocol, const Recipe& recipe, const std::string& stage,
                      const std::string& init, const std::vector<std::string>& psg_flags) {
  std::vector<std::string> args = PsgdStageFlags(recipe, psg_flags);
  args.push_back("--init_from=" + init);
  return protocol.Stage(stage, "train", args, "result.json");
}

}  // namespace psg::experiments
