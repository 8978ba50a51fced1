// A paper experiment as a chain of the toolkit's commands (train, ptq,
// prune_sweep, weight_histogram), each a stage with its own directory under
// the run directory.
//
//   Protocol p("runs/quant_vs_bits", {"--dataset=cifar10", "--threads=2"});
//   const std::string sgd = p.Stage("sgd", "train", {"--epochs=20", ...}, "result.json");
//   p.Stage("ptq_sgd", "ptq", {"--checkpoint=" + sgd + "/last.safetensors"}, "ptq.json");
//
// A stage that finished before (its result file and a stage_done marker
// exist) is skipped, so an interrupted experiment resumes where it stopped (a training stage gets --resume=auto and continues
// from its last checkpoint). Every command is appended to
// <run_dir>/commands.sh exactly as run; a stage's output goes to the terminal
// and to <stage dir>/log.txt. The commands are the sibling binaries of the
// running one (their targets are its data dependencies).
#ifndef PSG_EXPERIMENTS_PROTOCOL_H_
#define PSG_EXPERIMENTS_PROTOCOL_H_

#include <map>
#include <string>
#include <vector>

#include "experiments/budget.h"

namespace psg::experiments {

class Protocol {
 public:
  // `common_args` go to every command that is not given them itself
  // (e.g. --dataset, --data_dir, --threads). Creates `run_dir`. The commands
  // are looked up in `command_dir`, by default beside the running binary.
  Protocol(std::string run_dir, std::vector<std::string> common_args,
           std::string command_dir = "");

  // Runs `command` (e.g. "train") with `args`, --output_dir=<stage dir> and the
  // common args, unless the stage finished before. Returns the stage
  // directory. Throws std::runtime_error naming the stage and its log when the
  // command fails or does not write `result_file`.
  std::string Stage(const std::string& stage, const std::string& command,
                    std::vector<std::string> args, const std::string& result_file);

  // Makes the next Stage(stage, ...) run its command again even if it
  // finished (e.g. an evaluation asked for more than it computed then).
  void Redo(const std::string& stage);

  const std::string& run_dir() const { return run_dir_; }

  // Runs `command`'s stages as `prefix... <command> <args>... suffix...`,
  // e.g. the training stages under mpirun: prefix {"/usr/bin/mpirun", "-np",
  // "8"}, suffix {"--distributed=mpi"}. prefix[0] is a path.
  void SetLauncher(const std::string& command, std::vector<std::string> prefix,
                   std::vector<std::string> suffix);

  // `args` go to every stage of `command` that is not given them itself, as
  // the common args do to all commands (e.g. train's --precision=bf16).
  void SetCommandArgs(const std::string& command, std::vector<std::string> args);

 private:
  struct Launcher {
    std::vector<std::string> prefix, suffix;
  };

  std::string run_dir_;
  std::vector<std::string> common_args_;
  std::string command_dir_;
  std::map<std::string, Launcher> launchers_;
  std::map<std::string, std::vector<std::string>> command_args_;
};

// The checkpoint the recipe's PSGD stages start from, of its first training
// stage `stage` ("sgd"; "adam" for PSG-Adam's start) with the recipe's `sgd`
// flags: the stage's end (trained here), or (paper budget) its checkpoint at
// recipe.psgd_start_step, given as recipe.start_checkpoint or kept by a first
// leg "<stage>_start" (trained here). The paper budget's rest of the stage is
// not trained: only the control needs it (PretrainingStage).
std::string PsgdStartCheckpoint(Protocol& protocol, const Recipe& recipe, const std::string& stage);

// The whole first training stage `stage`: PsgdStartCheckpoint(), then (paper
// budget) the rest of the schedule from that checkpoint, the control trained
// as long as the PSGD stages; returns the stage directory.
std::string PretrainingStage(Protocol& protocol, const Recipe& recipe, const std::string& stage);

// A PSGD stage of the recipe from `init`, with the PSG flags `psg_flags`
// (e.g. --psg_target=grid --psg_bits=4); returns the stage directory.
std::string PsgdStage(Protocol& protocol, const Recipe& recipe, const std::string& stage,
                      const std::string& init, const std::vector<std::string>& psg_flags);

// The path of the toolkit command `name` beside the running binary (as
// the commands of //commands, as `bazel run` and `bazel test` lay them out, or a sibling). Throws std::runtime_error if it
// is not there.
std::string CommandPath(const std::string& name);

// Runs `argv` (argv[0]: the program path), copying its stdout and stderr to
// ours and to `log_path`; returns its exit status (128 + signal if killed).
int RunAndLog(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_PROTOCOL_H_
