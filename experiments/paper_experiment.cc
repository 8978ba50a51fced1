#include "experiments/paper_experiment.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/common_flags.h"
#include "cli/output_dir_flag.h"
#include "cli/seed_flag.h"
#include "engine/precision.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "report/machine.h"
#include "report/result_json.h"

ABSL_FLAG(psg::experiments::Budget, budget, psg::experiments::Budget::kShort,
          "smoke, short or paper (experiments/budget.h)");
ABSL_FLAG(int, mpi_ranks, 0,
          "ImageNet: run the training stages data-parallel on this many MPI ranks (mpirun -np N "
          "... --distributed=mpi; the evaluations run alone); 0: one process");
PSG_FLAG_RANGE(mpi_ranks, psg::flags::AtLeast(0));
ABSL_FLAG(std::string, mpirun_args, "",
          "with --mpi_ranks: more mpirun arguments, e.g. '--hostfile hosts --map-by ppr:1:node'");
ABSL_FLAG(int, global_batch, 256,
          "ImageNet: images per step over all ranks (the learning rate scales as "
          "0.1 x global_batch / 256)");
PSG_FLAG_RANGE(global_batch, psg::flags::AtLeast(1));
ABSL_FLAG(std::string, shared_dir, "",
          "where the SGD stage shared by the experiments is kept "
          "(default runs/shared/<budget>_<model>_<dataset>_seed<seed>)");
ABSL_FLAG(psg::engine::Precision, train_precision, psg::engine::Precision::kFp32,
          "arithmetic of the training stages (train --precision): fp32, or bf16 where the CPU "
          "has AVX512-BF16 or AMX (engine/precision.h); evaluations run in fp32 either way");
ABSL_FLAG(std::string, paper_start, "",
          "--budget=paper: the SGD run's epoch-82 checkpoint to start the PSGD stages from instead "
          "of training it, e.g. the authors' ResNet82.pth imported with tools/torch_bridge.py (its "
          "momentum buffers let the SGD control continue it exactly)");

namespace psg::experiments {
namespace {

// mpirun by its real path (Open MPI derives its installation prefix from the
// path it is started by).
std::string MpirunPath() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty())) {
    std::error_code error;
    const std::filesystem::path real =
        std::filesystem::canonical(std::filesystem::path(std::string(dir)) / "mpirun", error);
    if (!error) return real.string();
  }
  throw std::runtime_error("--mpi_ranks: mpirun not found on PATH (tools/setup.sh installs it)");
}

// "--name=value" for each shared flag not at its default, for the commands.
std::vector<std::string> ChangedFlags(const std::vector<const char*>& names) {
  std::vector<std::string> out;
  for (const char* name : names) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      out.push_back(absl::StrCat("--", name, "=", flag->CurrentValue()));
    }
  }
  return out;
}

// Sets --model and --dataset to the table's setting; an error if the command
// line names another or the toolkit cannot run it.
void UseSetting(const std::string& table, const PaperSetting& setting) {
  if (!setting.available) {
    throw std::runtime_error(absl::StrCat(table, " --budget=paper: ", setting.why));
  }
  for (const auto& [name, value] : {std::pair<const char*, std::string>{"model", setting.model},
                                    {"dataset", setting.dataset}}) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    // (This Abseil does not say whether a flag was given, only whether it differs from its default.)
    if (flag->CurrentValue() != flag->DefaultValue() && flag->CurrentValue() != value) {
      throw std::runtime_error(absl::StrCat(
          table, " --budget=paper runs the paper's setting, --model=", setting.model,
          " --dataset=", setting.dataset, "; got --", name, "=", flag->CurrentValue(),
          " (use --budget=short for other settings)"));
    }
  }
  absl::SetFlag(&FLAGS_model, setting.model);
  absl::SetFlag(&FLAGS_dataset, setting.dataset);
}

}  // namespace

PaperExperiment::PaperExperiment(const std::string& name, std::string command_line,
                                 const std::string& suffix, const PaperSetting& setting)
    : name_(name), command_line_(std::move(command_line)) {
  cli::SetUpThreads();  // so the machine description reports the stages' threads
  budget_ = absl::GetFlag(FLAGS_budget);
  if (budget_ == Budget::kPaper) UseSetting(name, setting);
  model_ = absl::GetFlag(FLAGS_model);
  dataset_ = absl::GetFlag(FLAGS_dataset);
  const int ranks = absl::GetFlag(FLAGS_mpi_ranks);
  if (dataset_ == "imagenet") {
    recipe_ = OrThrow(ImageNetRecipeFor(budget_, std::max(ranks, 1), absl::GetFlag(FLAGS_global_batch)),
                      "the ImageNet recipe");
  } else if (ranks > 0) {
    throw std::invalid_argument(
        "--mpi_ranks is for --dataset=imagenet (the CIFAR recipes' batches are one process's)");
  } else {
    recipe_ = RecipeFor(budget_);
  }
  if (budget_ == Budget::kPaper) {
    recipe_.start_checkpoint = cli::UserPath(absl::GetFlag(FLAGS_paper_start));
    if (!recipe_.start_checkpoint.empty()) {
      recipe_.start_checkpoint = OrThrow(cli::ExistingCheckpoint(recipe_.start_checkpoint), "--paper_start");
    }
  } else if (!absl::GetFlag(FLAGS_paper_start).empty()) {
    throw std::runtime_error("--paper_start is for --budget=paper only");
  }
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  for (auto* stage_flags : {&recipe_.sgd, &recipe_.psgd}) {
    stage_flags->push_back(absl::StrCat("--seed=", seed));
  }
  std::string run_dir = cli::UserPath(absl::GetFlag(FLAGS_output_dir));
  if (run_dir.empty()) {
    run_dir = cli::UserPath(absl::StrCat("runs/", name, "_", BudgetName(budget_),
                                    suffix.empty() ? "" : "_", suffix));
  }
  std::string shared_dir = cli::UserPath(absl::GetFlag(FLAGS_shared_dir));
  if (shared_dir.empty()) {
    shared_dir = cli::UserPath(absl::StrCat("runs/shared/", BudgetName(budget_), "_", model_, "_",
                                       dataset_, "_seed", seed));
  }
  const std::vector<std::string> common =
      ChangedFlags({"model", "dataset", "data_dir", "shortcut", "threads", "workers"});
  protocol_ = std::make_unique<Protocol>(run_dir, common);
  shared_ = std::make_unique<Protocol>(shared_dir, common);
  const engine::Precision precision = absl::GetFlag(FLAGS_train_precision);
  if (precision != engine::Precision::kFp32) {
    engine::RequirePrecision(precision);  // here, not in the first stage's log
    for (Protocol* p : {protocol_.get(), shared_.get()}) {
      p->SetCommandArgs("train", {absl::StrCat("--precision=", engine::PrecisionName(precision))});
    }
  }
  if (ranks > 0) {
    std::vector<std::string> mpirun = {MpirunPath(), "-np", absl::StrCat(ranks)};
    if (geteuid() == 0) mpirun.push_back("--allow-run-as-root");  // Open MPI refuses root otherwise
    for (absl::string_view a :
         absl::StrSplit(absl::GetFlag(FLAGS_mpirun_args), ' ', absl::SkipWhitespace())) {
      mpirun.emplace_back(a);
    }
    for (Protocol* p : {protocol_.get(), shared_.get()}) {
      p->SetLauncher("train", mpirun, {"--distributed=mpi"});
    }
  }
  std::printf("%s, budget %s: %s on %s, in %s (SGD stage in %s)\n", name.c_str(),
              BudgetName(budget_), model_.c_str(), dataset_.c_str(), run_dir.c_str(),
              shared_dir.c_str());
}

std::string PaperExperiment::SgdCheckpoint() {
  if (sgd_checkpoint_.empty()) sgd_checkpoint_ = PsgdStartCheckpoint(*shared_, recipe_, "sgd");
  return sgd_checkpoint_;
}

std::string PaperExperiment::AdamCheckpoint() {
  if (adam_checkpoint_.empty()) adam_checkpoint_ = PsgdStartCheckpoint(*shared_, AdamRecipe(recipe_), "adam");
  return adam_checkpoint_;
}

std::string PaperExperiment::AdamControlDir(double adam_lr) {
  if (budget_ == Budget::kPaper) return PretrainingStage(*shared_, AdamRecipe(recipe_), "adam");
  const std::string init = AdamCheckpoint();
  std::vector<std::string> args = recipe_.psgd;
  for (const std::string& flag : {std::string("--optimizer=adam"), absl::StrCat("--lr=", adam_lr),
                                  "--init_from=" + init, std::string("--init_optimizer_state")}) {
    args.push_back(flag);
  }
  return shared_->Stage(absl::StrCat("adam_continued_lr", adam_lr), "train", args, "result.json");
}

std::string PaperExperiment::SgdControlDir() {
  if (budget_ == Budget::kPaper) return PretrainingStage(*shared_, recipe_, "sgd");
  const std::string init = SgdCheckpoint();
  std::vector<std::string> args = recipe_.psgd;
  args.push_back("--init_from=" + init);
  return shared_->Stage("sgd_continued", "train", args, "result.json");
}

std::string PaperExperiment::SharedPsgdStage(const std::string& stage,
                                             const std::vector<std::string>& psg_flags,
                                             const std::string& init) {
  return PsgdStage(*shared_, recipe_, stage, init.empty() ? SgdCheckpoint() : init, psg_flags);
}

void PaperExperiment::WriteTrainingPlot(
    const std::vector<std::pair<std::string, std::string>>& continued,
    const std::optional<std::pair<std::string, std::string>>& first) const {
  std::vector<report::Series> curves;
  if (first) {
    curves.push_back(TrainingCurve(first->first, first->second, 0));
  } else if (recipe_.psgd_start_step == 0) {
    throw std::invalid_argument(
        "training.svg: without the first stage's curve, the epoch the PSGD stages start at is unknown");
  }
  // The PSGD stages start from the first stage's end, or (paper budget) from
  // its checkpoint at psgd_start_epoch.
  const int64_t start = recipe_.psgd_start_step > 0 ? recipe_.psgd_start_epoch
                                                    : static_cast<int64_t>(curves[0].x.size());
  for (const auto& [name, dir] : continued) curves.push_back(TrainingCurve(name, dir, start));
  report::WriteSvg(run_dir() + "/training.svg",
           report::LinePlotSvg(curves, {.title = "Test accuracy during training", .x_label = "epoch",
                                .y_label = "test accuracy (%)"}));
}

void PaperExperiment::WriteResults(const io::Json& results, std::string markdown) const {
  const io::Json machine = report::MachineJson();
  io::Json json = {{"experiment", name_},
                   {"budget", BudgetName(budget_)},
                   {"model", model_},
                   {"dataset", dataset_},
                   {"seed", absl::GetFlag(FLAGS_seed)},
                   {"command", command_line_},
                   {"machine", machine}};
  json.update(results);
  absl::StrAppend(&markdown, "\nCommand: `", command_line_, "` (seed ", absl::GetFlag(FLAGS_seed),
                  "). Every stage's command is in commands.sh here and, for the shared SGD "
                  "stage, in ",
                  shared_->run_dir(), "/commands.sh. Machine: ", io::JsonCompact(machine), "\n");
  const absl::Status written =
      cli::WriteResultFiles(run_dir(), {{"results.json", io::JsonText(json)}, {"results.md", markdown}});
  if (!written.ok()) throw std::runtime_error(std::string(written.message()));
  std::printf("\n%s\nwrote %s/results.json, results.md and plots (*.svg)\n", markdown.c_str(),
              run_dir().c_str());
}

RoundedModel ReadPtq(const std::string& stage_dir) {
  const std::string path = stage_dir + "/ptq.json";
  const io::Json json = OrThrow(report::ReadJsonFile(path), path);
  RoundedModel r;
  for (const io::Json& row : *OrThrow(report::ArrayAt(json, "results"), path)) {
    const int bits = static_cast<int>(OrThrow(report::NumberAt(row, "weight_bits"), path));
    const double accuracy = OrThrow(report::NumberAt(row, "test_accuracy"), path);
    if (bits == 0) {
      r.fp = accuracy;
      continue;
    }
    r.accuracy[bits] = accuracy;
    double sum = 0, size = 0;
    for (const io::Json& layer : *OrThrow(report::ArrayAt(row, "layers"), path)) {
      const double n = OrThrow(report::NumberAt(layer, "size"), path);
      sum += n * OrThrow(report::NumberAt(layer, "mse"), path);
      size += n;
    }
    r.mse[bits] = size > 0 ? sum / size : 0;
  }
  return r;
}

io::Json RoundedModelJson(const RoundedModel& r) {
  io::Json accuracy = io::Json::object(), mse = io::Json::object();
  for (const auto& [b, a] : r.accuracy) accuracy[absl::StrCat(b)] = a;
  for (const auto& [b, m] : r.mse) mse[absl::StrCat(b)] = m;
  return {{"fp", r.fp}, {"accuracy", accuracy}, {"mse", mse}};
}

RoundedModels RoundModels(PaperExperiment& e,
                          const std::vector<std::pair<std::string, std::string>>& models,
                          const std::vector<int>& bits, const std::string& prefix,
                          const std::vector<std::string>& ptq_args) {
  std::vector<std::string> bit_strings;
  for (int b : bits) bit_strings.push_back(std::to_string(b));
  RoundedModels out;
  for (const auto& [name, dir] : models) {
    const std::string stage = dir.substr(dir.rfind('/') + 1);
    std::vector<std::string> args = {"--checkpoint=" + dir + "/last.safetensors",
                                     "--bits=" + absl::StrJoin(bit_strings, ",")};
    args.insert(args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
    args.insert(args.end(), ptq_args.begin(), ptq_args.end());
    const RoundedModel r =
        ReadPtq(e.protocol().Stage("ptq_" + prefix + stage, "ptq", args, "ptq.json"));
    absl::StrAppendFormat(&out.table_rows, "| %s | %.2f |", name, 100 * r.fp);
    report::Series s{name, {}, {}};
    for (int b : bits) absl::StrAppendFormat(&out.table_rows, " %.2f |", 100 * r.accuracy.at(b));
    for (const auto& [b, accuracy] : r.accuracy) {  // ascending bits
      s.x.push_back(b);
      s.y.push_back(100 * accuracy);
    }
    out.table_rows += "\n";
    out.accuracy.push_back(std::move(s));
    out.json_members[name] = RoundedModelJson(r);
    out.by_name[name] = r;
  }
  return out;
}

std::string RoundingTableHeader(const std::string& first, const std::vector<int>& bits) {
  std::string header = absl::StrCat("| ", first, " | FP |"), rule = "|---|---|";
  for (int b : bits) {
    absl::StrAppend(&header, " W", b, " |");
    rule += "---|";
  }
  return absl::StrCat(header, "\n", rule, "\n");
}

report::Series TrainingCurve(const std::string& name, const std::string& stage_dir, int64_t first_epoch) {
  report::Series s{name, {}, {}};
  const std::string path = stage_dir + "/metrics.jsonl";
  for (const io::Json& line : OrThrow(report::ReadJsonLinesFile(path), path)) {
    const double epoch = OrThrow(report::NumberAt(line, "epoch"), path);
    if (epoch == 0) continue;  // the starting point, logged by runs from a checkpoint
    s.x.push_back(static_cast<double>(first_epoch) + epoch);
    s.y.push_back(100 * OrThrow(report::NumberAt(line, "test_accuracy"), path));
  }
  return s;
}

double FinalTestAccuracy(const std::string& stage_dir) {
  const std::string path = stage_dir + "/result.json";
  return OrThrow(report::NumberAt(OrThrow(report::ReadJsonFile(path), path), "final_test_accuracy"), path);
}

namespace {

std::string paper_command_line;
int (*paper_run)(const std::string&) = nullptr;
int RunPaper() { return paper_run(paper_command_line); }

}  // namespace

int PaperMain(int argc, char** argv, const char* target, const char* usage,
              int (*run)(const std::string& command_line)) {
  std::vector<std::string> args(argv, argv + argc);
  args[0] = absl::StrCat("bazel run //experiments:", target, " --");
  paper_command_line = absl::StrJoin(args, " ");
  paper_run = run;
  return cli::RunCommand(argc, argv, usage, RunPaper);
}

std::vector<int> ParseBitList(const std::string& flag, const std::string& list) {
  absl::StatusOr<std::vector<int>> bits =
      flags::ParseIntegers(flag, flags::SplitList(list), flags::Between(2, 8));
  if (!bits.ok()) throw std::invalid_argument(std::string(bits.status().message()));
  if (bits->empty()) throw std::invalid_argument(absl::StrCat("--", flag, ": no bit-width given"));
  return *bits;
}

}  // namespace psg::experiments
