// What every paper-reproduction target shares: its flags (--budget, --seed,
// --output_dir, --shared_dir), the run's Protocol, the SGD stage that several
// targets reuse (kept under --shared_dir, so a second target of the same
// budget, model and data set starts from the same SGD model), reading the
// commands' result files, and writing results.json / results.md with the
// command, seed and machine.
//
//   int Run(const std::string& command_line) {
//     PaperExperiment e("low_bits", command_line);        // reads the flags
//   const std::string init = e.SgdCheckpoint();             // trains SGD once
//   const std::string dir = PsgdStage(e.protocol(), e.recipe(), "psgd_w3", init, {...});
//   const RoundedModel r = ReadPtq(e.protocol().Stage("ptq_w3", "ptq", {...}, "ptq.json"));
//     e.WriteResults({{"rows", rows}}, markdown);
//   }
//   int main(int argc, char** argv) { return PaperMain(argc, argv, "low_bits", "...", Run); }
#ifndef PSG_EXPERIMENTS_PAPER_EXPERIMENT_H_
#define PSG_EXPERIMENTS_PAPER_EXPERIMENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "experiments/budget.h"
#include "experiments/protocol.h"
#include "io/json_writer.h"
#include "report/svg_plot.h"

namespace psg::experiments {

// The value, or a std::runtime_error naming `what` was being read.
template <typename T>
T OrThrow(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) throw std::runtime_error(absl::StrCat(what, ": ", v.status().message()));
  return *std::move(v);
}

class PaperExperiment {
 public:
  // Reads the shared flags (and --threads); `name` names the default run
  // directory runs/<name>_<budget>[_<suffix>]. At --budget=paper the model and
  // data set are the table's `setting` (a --model or --dataset naming another
  // is an error, as is a setting the toolkit cannot run yet).
  PaperExperiment(const std::string& name, std::string command_line, const std::string& suffix = "",
                  const PaperSetting& setting = ReleasedCifar100Setting());
  // Whether this run is the table's own setting at the paper's budget, the
  // only runs the paper's numbers are printed beside.
  bool in_paper_setting() const { return budget_ == Budget::kPaper; }

  Budget budget() const { return budget_; }
  // The budget's recipe with --seed added to both training stages.
  const Recipe& recipe() const { return recipe_; }
  const std::string& model() const { return model_; }
  const std::string& dataset() const { return dataset_; }
  const std::string& run_dir() const { return protocol_->run_dir(); }
  Protocol& protocol() { return *protocol_; }

  // The checkpoint PSGD stages start from (PsgdStartCheckpoint of the SGD
  // stage under --shared_dir, trained once per budget, model, data set and
  // seed; later calls return the first one's answer). At the paper budget it
  // trains no more than the first leg: the rest is SgdControlDir()'s.
  std::string SgdCheckpoint();
  // A PSGD stage of the recipe from SgdCheckpoint() with `psg_flags`, kept
  // under --shared_dir as `stage` (which must name the flags, e.g.
  // "psgd_w4_lambda150") so that experiments share it; returns its directory.
  // `init`: the checkpoint it starts from instead (e.g. AdamCheckpoint()).
  std::string SharedPsgdStage(const std::string& stage, const std::vector<std::string>& psg_flags,
                              const std::string& init = "");
  // The SGD stage's directory (its last.safetensors is the final SGD model).
  std::string SgdDir() const { return shared_->run_dir() + "/sgd"; }
  // The SGD model trained as long as the PSGD models, the control that FP
  // accuracy is compared with: at the paper budget the SGD stage itself (it
  // runs on from the PSGD start to the same final epoch, trained here);
  // otherwise the PSGD stage's schedule run with plain SGD from the SGD
  // checkpoint ("sgd_continued").
  std::string SgdControlDir();

  // PSG-Adam's counterparts (AdamRecipe): the Adam-trained starting model
  // (shared stage "adam"), its directory, and its control trained as long as
  // the PSG-Adam models: at the paper budget the Adam stage itself, otherwise
  // the PSGD stage's schedule with plain Adam at PSG-Adam's lr `adam_lr`,
  // continuing the Adam model's moments ("adam_continued_lr<adam_lr>").
  std::string AdamCheckpoint();
  std::string AdamDir() const { return shared_->run_dir() + "/adam"; }
  std::string AdamControlDir(double adam_lr);

  // training.svg: test accuracy per epoch of the first stage (`first`: name
  // and directory, the SGD stage when not given; std::nullopt: none, allowed
  // when the PSGD stages start at a known epoch, recipe().psgd_start_step > 0),
  // then of each (name, stage directory) that continued from its checkpoint.
  void WriteTrainingPlot(const std::vector<std::pair<std::string, std::string>>& continued) const {
    WriteTrainingPlot(continued, std::pair<std::string, std::string>{"SGD", SgdDir()});
  }
  void WriteTrainingPlot(const std::vector<std::pair<std::string, std::string>>& continued,
                         const std::optional<std::pair<std::string, std::string>>& first) const;

  // results.json: {"experiment", "budget", "model", "dataset", "seed",
  // "command", "machine", <the members of `results`>}; results.md: `markdown`
  // plus the command, seed and machine. Prints the markdown.
  void WriteResults(const io::Json& results, std::string markdown) const;

 private:
  std::string name_, command_line_;
  Budget budget_;
  Recipe recipe_;
  std::string model_, dataset_;
  std::unique_ptr<Protocol> protocol_, shared_;
  std::string sgd_checkpoint_, adam_checkpoint_;  // empty until the stage ran
};

// One model's results from a ptq.json: FP accuracy, accuracy and size-weighted
// mean weight quantization MSE by weight bit-width.
struct RoundedModel {
  double fp = 0;
  std::map<int, double> accuracy;
  std::map<int, double> mse;
};
RoundedModel ReadPtq(const std::string& stage_dir);
io::Json RoundedModelJson(const RoundedModel& r);

// Each model (name, training stage directory) rounded without fine-tuning at
// `bits` by a ptq stage "ptq_<prefix><stage>" with `ptq_args`: its results,
// the Markdown table rows "| name | FP | W<b>... |" in the order of `bits`,
// the JSON object {"name": {...}, ...} and one accuracy-vs-bits series per model.
struct RoundedModels {
  std::map<std::string, RoundedModel> by_name;
  std::string table_rows;
  io::Json json_members = io::Json::object();
  std::vector<report::Series> accuracy;
};
RoundedModels RoundModels(PaperExperiment& e,
                          const std::vector<std::pair<std::string, std::string>>& models,
                          const std::vector<int>& bits, const std::string& prefix = "",
                          const std::vector<std::string>& ptq_args = {});

// "| <first> | FP | W<b> |..." and its rule line, for RoundModels' rows.
std::string RoundingTableHeader(const std::string& first, const std::vector<int>& bits);

// Test accuracy (%) after each epoch of a training stage's metrics.jsonl,
// epochs numbered from `first_epoch` + 1.
report::Series TrainingCurve(const std::string& name, const std::string& stage_dir, int64_t first_epoch);

// A stage's final test accuracy, from its result.json.
double FinalTestAccuracy(const std::string& stage_dir);

// main() of a paper experiment target: parses the flags and returns
// run(the command line as `bazel run //experiments:<target> -- ...`), turning
// an escaped exception into an error message and exit code 1.
int PaperMain(int argc, char** argv, const char* target, const char* usage,
              int (*run)(const std::string& command_line));

// Bit-widths in 2..8 from a comma-separated list `list` of flag --`flag`;
// throws std::invalid_argument naming the flag and the element.
std::vector<int> ParseBitList(const std::string& flag, const std::string& list);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_PAPER_EXPERIMENT_H_
