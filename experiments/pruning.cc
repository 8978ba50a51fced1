// Paper Table 1: pruning without fine-tuning. The SGD model and a PSGD model
// trained towards zero (the pruning target) are magnitude-pruned at each
// sparsity (global by default, first and last layer kept) and evaluated as
// they are; SNIP (pruned at initialization, then trained with its masks for
// the SGD stage's schedule) and L0 (hard-concrete gates trained from the SGD
// checkpoint for the PSGD phase's schedule) are the baselines that reach
// their sparsity by training.
//
//   bazel run //experiments:pruning -- --budget=short --data_dir=../shared/data
//
// Stages, files and flags as experiments/quant_vs_bits (shared SGD stage,
// results.json, results.md, accuracy.svg, training.svg).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "experiments/common_flags.h"
#include "experiments/paper_experiment.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "experiments/result_json.h"
#include "experiments/svg_plot.h"

ABSL_FLAG(std::string, sparsities, "0.5,0.7,0.8,0.9", "sparsities of the magnitude sweep");
ABSL_FLAG(std::string, scope, "global", "magnitude pruning scope: global or layer");
ABSL_FLAG(double, zero_lambda, 150.0, "lambda_s of PSGD towards zero");
PSG_FLAG_RANGE(zero_lambda, psg::flags::AtLeast(0));
ABSL_FLAG(std::string, snip_sparsities, "0.9", "SNIP runs, one per sparsity (empty: none)");
// L0 trains its gates with their own Adam, as the reference implementation
// (Louizos et al.); lambda is not yet tuned for it (experiments/RESULTS.md).
ABSL_FLAG(double, l0_lambda, 5e-4, "L0 run's lambda (0: no L0 run)");
PSG_FLAG_RANGE(l0_lambda, psg::flags::AtLeast(0));
ABSL_FLAG(double, l0_gate_lr, 1e-3, "L0 run's Adam learning rate for the gates, at the schedule's peak");
PSG_FLAG_RANGE(l0_gate_lr, psg::flags::GreaterThan(0));

namespace psg::experiments {
namespace {

// Test accuracy by requested sparsity (0: dense) from a prune_sweep stage.
std::map<double, double> ReadSweep(const std::string& stage_dir) {
  const std::string path = stage_dir + "/prune_sweep.json";
  const JsonValue json = OrThrow(ReadJsonFile(path), path);
  std::map<double, double> accuracy;
  for (const JsonValue& row : *OrThrow(json.ArrayAt("results"), path)) {
    accuracy[OrThrow(row.NumberAt("sparsity"), path)] = OrThrow(row.NumberAt("test_accuracy"), path);
  }
  return accuracy;
}

std::vector<double> ParseSparsities(const std::string& list, const char* flag) {
  return OrThrow(flags::ParseNumbers(flag, flags::SplitList(list), flags::Range{0, 1, true, true}),
                 "the sparsities");
}

int Run(const std::string& command_line) {
  const std::vector<double> sparsities = ParseSparsities(absl::GetFlag(FLAGS_sparsities), "sparsities");
  const std::vector<double> snip = ParseSparsities(absl::GetFlag(FLAGS_snip_sparsities), "snip_sparsities");
  PaperExperiment e("pruning", command_line);
  const std::string init = e.SgdCheckpoint();
  const std::string psgd_dir = e.SharedPsgdStage(
      absl::StrCat("psgd_zero_lambda", absl::GetFlag(FLAGS_zero_lambda)),
      {"--psg_target=zero", absl::StrCat("--psg_lambda=", absl::GetFlag(FLAGS_zero_lambda))});
  std::vector<std::string> sweep_args = {"--sparsity=" + absl::GetFlag(FLAGS_sparsities),
                                         "--scope=" + absl::GetFlag(FLAGS_scope)};
  sweep_args.insert(sweep_args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
  std::map<std::string, std::map<double, double>> swept;
  std::vector<Series> accuracy;
  for (const auto& [name, dir] : {std::pair<std::string, std::string>{"SGD", e.SgdControlDir()},
                                  {"PSGD-zero", psgd_dir}}) {
    std::vector<std::string> args = sweep_args;
    args.push_back("--checkpoint=" + dir + "/last.safetensors");
    const std::string stage = "prune_sweep_" + dir.substr(dir.rfind('/') + 1);
    swept[name] = ReadSweep(e.protocol().Stage(stage, "prune_sweep", args, "prune_sweep.json"));
    Series s{name, {}, {}};
    for (const auto& [sparsity, a] : swept[name]) {
      s.x.push_back(sparsity);
      s.y.push_back(100 * a);
    }
    accuracy.push_back(std::move(s));
  }

  // Baselines that reach their sparsity by training.
  std::vector<std::pair<std::string, std::pair<double, double>>> trained;  // name, {sparsity, acc}
  for (double s : snip) {
    std::vector<std::string> args = e.recipe().sgd;
    args.push_back("--prune_method=snip");
    args.push_back(absl::StrCat("--prune_sparsity=", s));
    const std::string dir = e.protocol().Stage(absl::StrCat("snip_", s), "train", args, "result.json");
    trained.push_back({"SNIP", {s, FinalTestAccuracy(dir)}});
  }
  if (absl::GetFlag(FLAGS_l0_lambda) > 0) {
    std::vector<std::string> args = e.recipe().psgd;
    args.push_back("--init_from=" + init);
    args.push_back("--prune_method=l0");
    args.push_back(absl::StrCat("--l0_lambda=", absl::GetFlag(FLAGS_l0_lambda)));
    args.push_back("--l0_gate_optimizer=adam");
    args.push_back(absl::StrCat("--l0_gate_lr=", absl::GetFlag(FLAGS_l0_gate_lr)));
    const std::string dir = e.protocol().Stage(
        absl::StrCat("l0_lambda", absl::GetFlag(FLAGS_l0_lambda), "_adam_lr", absl::GetFlag(FLAGS_l0_gate_lr)),
        "train", args, "result.json");
    const std::string path = dir + "/result.json";
    const double sparsity = OrThrow(OrThrow(ReadJsonFile(path), path).NumberAt("l0_sparsity"), path);
    trained.push_back({"L0", {sparsity, FinalTestAccuracy(dir)}});
  }
  Series trained_points{"SNIP / L0 (trained sparse)", {}, {}};
  for (const auto& [name, point] : trained) {
    trained_points.x.push_back(point.first);
    trained_points.y.push_back(100 * point.second);
  }
  if (!trained.empty()) accuracy.push_back(trained_points);

  // The paper's numbers (CIFAR-100: SGD's 1.00 % is chance) beside its own setting only.
  const bool paper = e.in_paper_setting();
  std::string md = absl::StrFormat(
      "# Pruning without fine-tuning: %s on %s, budget %s\n\nTest accuracy (%%) after %s "
      "magnitude pruning of the trained weights (first and last layer kept), no "
      "fine-tuning; SGD trained as long as PSGD.\n\n| sparsity | SGD | PSGD (zero target) |%s\n"
      "|---|---|---|%s\n",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::GetFlag(FLAGS_scope),
      paper ? " paper: SGD / PSGD |" : "", paper ? "---|" : "");
  for (const auto& [sparsity, a] : swept["SGD"]) {
    absl::StrAppendFormat(&md, "| %s | %.2f | %.2f |%s\n",
                          sparsity == 0 ? "0 (dense)" : absl::StrFormat("%g", sparsity), 100 * a,
                          100 * swept["PSGD-zero"].at(sparsity),
                          !paper ? "" : sparsity == 0.9 ? " 1.00 / 64.33 (secondary source) |" : " |");
  }
  absl::StrAppendFormat(&md, "\nBaselines that train to their sparsity:\n\n| method | sparsity | test "
                             "accuracy |%s\n|---|---|---|%s\n",
                        paper ? " paper at 0.9 |" : "", paper ? "---|" : "");
  io::Json trained_json = io::Json::array();
  for (const auto& [name, point] : trained) {
    absl::StrAppendFormat(&md, "| %s | %.4f | %.2f |%s\n", name, point.first, 100 * point.second,
                          !paper ? "" : name == "SNIP" ? " 4.70 |" : " 2.85 |");
    trained_json.push_back({{"method", name}, {"sparsity", point.first}, {"accuracy", point.second}});
  }
  WriteSvg(e.run_dir() + "/accuracy.svg",
           LinePlotSvg(accuracy, {.title = "Pruning without fine-tuning", .x_label = "sparsity",
                                  .y_label = "test accuracy (%)", .width = 760}));
  e.WriteTrainingPlot({{"PSGD-zero", psgd_dir}});
  io::Json swept_json = io::Json::object();
  for (const auto& [name, by_sparsity] : swept) {
    for (const auto& [sparsity, a] : by_sparsity) swept_json[name][absl::StrFormat("%g", sparsity)] = a;
  }
  e.WriteResults({{"scope", absl::GetFlag(FLAGS_scope)}, {"magnitude", swept_json}, {"trained", trained_json}},
                 md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "pruning",
      "SGD, PSGD towards zero, SNIP and L0 pruned without fine-tuning (paper Table 1).",
      psg::experiments::Run);
}
