// Paper Table 1: pruning without fine-tuning. The SGD model and a PSGD model
// trained towards zero (the pruning target) are magnitude-pruned at each
// sparsity (global by default, first and last layer kept) and evaluated as
// they are; SNIP (pruned at initialization, then trained with its masks for
// the SGD stage's schedule, at each sparsity of the sweep) and L0
// (hard-concrete gates trained from the SGD checkpoint for the PSGD phase's
// schedule, at each of --l0_lambdas) are the baselines that reach their
// sparsity by training. L0 learns its sparsity, so the two magnitude-pruned
// models are also pruned at each sparsity an L0 model reached.
//
//   bazel run //experiments:pruning -- --budget=short --data_dir=../shared/data
//
// Stages, files and flags as experiments/quant_vs_bits (shared SGD stage,
// results.json, results.md, accuracy.svg, training.svg).
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
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
ABSL_FLAG(std::string, snip_sparsities, "sweep",
          "SNIP runs, one per sparsity: sweep (every --sparsities value), a list of some of them, or empty "
          "(none)");
// L0 trains its gates with their own Adam, as the reference implementation
// (Louizos et al.); its sparsity is learned, so it runs at several lambdas
// and the magnitude-pruned models are also reported at each sparsity reached.
ABSL_FLAG(std::string, l0_lambdas, "1e-4,5e-4,2e-3", "L0 runs, one per lambda (empty: none)");
ABSL_FLAG(double, l0_gate_lr, 1e-3, "L0 runs' Adam learning rate for the gates, at the schedule's peak");
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

// --snip_sparsities: each SNIP model stands beside the magnitude rows of its
// sparsity, so only the sweep's sparsities (never 0: the sweep's dense row
// is implicit) are allowed.
std::vector<double> SnipSparsities(const std::vector<double>& sweep) {
  const std::string list = absl::GetFlag(FLAGS_snip_sparsities);
  if (list == "sweep") return sweep;
  const std::vector<double> snip = ParseSparsities(list, "snip_sparsities");
  for (double s : snip) {
    if (std::find(sweep.begin(), sweep.end(), s) == sweep.end()) {
      throw std::invalid_argument(absl::StrFormat("--snip_sparsities: %g is not one of --sparsities=%s", s,
                                                  absl::GetFlag(FLAGS_sparsities)));
    }
  }
  return snip;
}

// Test accuracy by sparsity (0: dense) of the model trained in `model_dir`,
// magnitude-pruned at `sparsities` (prune_sweep's list) by the stage
// "prune_sweep_<model's stage><suffix>".
std::map<double, double> MagnitudeSweep(PaperExperiment& e, const std::string& model_dir,
                                        const std::string& sparsities, const std::string& suffix = "") {
  std::vector<std::string> args = {"--sparsity=" + sparsities, "--scope=" + absl::GetFlag(FLAGS_scope)};
  args.insert(args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
  args.push_back("--checkpoint=" + model_dir + "/last.safetensors");
  const std::string stage = absl::StrCat("prune_sweep_", model_dir.substr(model_dir.rfind('/') + 1), suffix);
  return ReadSweep(e.protocol().Stage(stage, "prune_sweep", args, "prune_sweep.json"));
}

// One L0 model and the magnitude-pruned models at the sparsity it reached.
struct L0Run {
  double lambda = 0, sparsity = 0, accuracy = 0;
  // `sparsity` to 4 decimals, a readable --sparsity (1e-4 of the covered
  // weights changes nothing measurable).
  double magnitude_sparsity = 0;
  // By model name; none when L0 pruned every covered weight (prune_sweep takes [0, 1)).
  std::map<std::string, std::optional<double>> magnitude;
};

// "12.34", or "-" for a model that was not run.
std::string Percent(std::optional<double> accuracy) {
  return accuracy ? absl::StrFormat("%.2f", 100 * *accuracy) : "-";
}

Series Curve(const std::string& name, const std::map<double, double>& accuracy_by_sparsity) {
  Series s{name, {}, {}};
  for (const auto& [sparsity, a] : accuracy_by_sparsity) {
    s.x.push_back(sparsity);
    s.y.push_back(100 * a);
  }
  return s;
}

int Run(const std::string& command_line) {
  const std::vector<double> sparsities = ParseSparsities(absl::GetFlag(FLAGS_sparsities), "sparsities");
  const std::vector<double> snip = SnipSparsities(sparsities);
  const std::vector<double> l0_lambdas = OrThrow(
      flags::ParseNumbers("l0_lambdas", flags::SplitList(absl::GetFlag(FLAGS_l0_lambdas)), flags::GreaterThan(0)),
      "the L0 lambdas");
  PaperExperiment e("pruning", command_line);
  const std::string init = e.SgdCheckpoint();
  const std::string psgd_dir = e.SharedPsgdStage(
      absl::StrCat("psgd_zero_lambda", absl::GetFlag(FLAGS_zero_lambda)),
      {"--psg_target=zero", absl::StrCat("--psg_lambda=", absl::GetFlag(FLAGS_zero_lambda))});
  const std::vector<std::pair<std::string, std::string>> pruned_models = {{"SGD", e.SgdControlDir()},
                                                                          {"PSGD-zero", psgd_dir}};
  std::map<std::string, std::map<double, double>> swept;
  for (const auto& [name, dir] : pruned_models) {
    swept[name] = MagnitudeSweep(e, dir, absl::GetFlag(FLAGS_sparsities));
  }

  // Baselines that reach their sparsity by training.
  std::map<double, double> snip_accuracy;
  for (double s : snip) {
    std::vector<std::string> args = e.recipe().sgd;
    args.push_back("--prune_method=snip");
    args.push_back(absl::StrCat("--prune_sparsity=", s));
    snip_accuracy[s] = FinalTestAccuracy(e.protocol().Stage(absl::StrCat("snip_", s), "train", args, "result.json"));
  }
  const double gate_lr = absl::GetFlag(FLAGS_l0_gate_lr);
  std::vector<L0Run> l0_runs;
  for (double lambda : l0_lambdas) {
    std::vector<std::string> args = e.recipe().psgd;
    args.push_back("--init_from=" + init);
    args.push_back("--prune_method=l0");
    args.push_back(absl::StrCat("--l0_lambda=", lambda));
    args.push_back("--l0_gate_optimizer=adam");
    args.push_back(absl::StrCat("--l0_gate_lr=", gate_lr));
    const std::string stage = absl::StrCat("l0_lambda", lambda, "_adam_lr", gate_lr);
    const std::string dir = e.protocol().Stage(stage, "train", args, "result.json");
    const std::string path = dir + "/result.json";
    L0Run run{.lambda = lambda,
              .sparsity = OrThrow(OrThrow(ReadJsonFile(path), path).NumberAt("l0_sparsity"), path),
              .accuracy = FinalTestAccuracy(dir)};
    run.magnitude_sparsity = std::round(1e4 * run.sparsity) / 1e4;
    for (const auto& [name, model_dir] : pruned_models) {
      if (run.magnitude_sparsity == 0) {
        run.magnitude[name] = swept[name].at(0);
      } else if (run.magnitude_sparsity < 1) {
        run.magnitude[name] = MagnitudeSweep(e, model_dir, absl::StrFormat("%.4f", run.magnitude_sparsity),
                                             "_at_" + stage)
                                  .at(run.magnitude_sparsity);
      } else {
        run.magnitude[name] = std::nullopt;
      }
    }
    l0_runs.push_back(std::move(run));
  }

  // The magnitude curves pass through L0's sparsities too.
  std::vector<Series> accuracy;
  for (const auto& [name, dir] : pruned_models) {
    std::map<double, double> curve = swept[name];
    for (const L0Run& run : l0_runs) {
      if (run.magnitude.at(name)) curve[run.magnitude_sparsity] = *run.magnitude.at(name);
    }
    accuracy.push_back(Curve(name, curve));
  }
  if (!snip_accuracy.empty()) accuracy.push_back(Curve("SNIP (trained sparse)", snip_accuracy));
  std::map<double, double> l0_accuracy;
  for (const L0Run& run : l0_runs) l0_accuracy[run.sparsity] = run.accuracy;
  if (!l0_accuracy.empty()) accuracy.push_back(Curve("L0 (trained sparse)", l0_accuracy));

  // The paper's numbers (CIFAR-100: SGD's 1.00 % is chance) beside its own setting only.
  const bool paper = e.in_paper_setting();
  std::string md = absl::StrFormat(
      "# Pruning without fine-tuning: %s on %s, budget %s\n\nTest accuracy (%%) after %s "
      "magnitude pruning of the trained weights (first and last layer kept), no "
      "fine-tuning; SGD trained as long as PSGD. SNIP is pruned at initialization and "
      "trained with its masks for the SGD stage's schedule, so it needs no fine-tuning "
      "either.\n\n| sparsity | SGD | PSGD (zero target) | SNIP |%s\n|---|---|---|---|%s\n",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::GetFlag(FLAGS_scope),
      paper ? " paper: SGD / PSGD / SNIP |" : "", paper ? "---|" : "");
  for (const auto& [sparsity, a] : swept["SGD"]) {
    const auto snip_at = snip_accuracy.find(sparsity);
    absl::StrAppendFormat(
        &md, "| %s | %.2f | %.2f | %s |%s\n", sparsity == 0 ? "0 (dense)" : absl::StrFormat("%g", sparsity),
        100 * a, 100 * swept["PSGD-zero"].at(sparsity),
        Percent(snip_at == snip_accuracy.end() ? std::nullopt : std::optional(snip_at->second)),
        !paper ? "" : sparsity == 0.9 ? " 1.00 / 64.33 / 4.70 (secondary source) |" : " |");
  }
  if (!l0_runs.empty()) {
    absl::StrAppendFormat(
        &md,
        "\nAt L0's sparsities: L0 (hard concrete gates by Adam at lr %g, trained from the SGD "
        "checkpoint for the PSGD phase's schedule) learns its sparsity; the SGD and PSGD-zero "
        "models are magnitude-pruned at the sparsity each L0 model reached:\n\n"
        "| L0 lambda | sparsity | L0 | SGD | PSGD (zero target) |\n|---|---|---|---|---|\n",
        gate_lr);
    for (const L0Run& run : l0_runs) {
      absl::StrAppendFormat(&md, "| %g | %.4f | %.2f | %s | %s |\n", run.lambda, run.sparsity, 100 * run.accuracy,
                            Percent(run.magnitude.at("SGD")), Percent(run.magnitude.at("PSGD-zero")));
    }
    if (paper) md += "\nPaper (secondary source): L0 2.85 % at sparsity 0.9.\n";
  }
  WriteSvg(e.run_dir() + "/accuracy.svg",
           LinePlotSvg(accuracy, {.title = "Pruning without fine-tuning", .x_label = "sparsity",
                                  .y_label = "test accuracy (%)", .width = 760}));
  e.WriteTrainingPlot({{"PSGD-zero", psgd_dir}});

  io::Json swept_json = io::Json::object();
  for (const auto& [name, by_sparsity] : swept) {
    for (const auto& [sparsity, a] : by_sparsity) swept_json[name][absl::StrFormat("%g", sparsity)] = a;
  }
  io::Json snip_json = io::Json::object();
  io::Json trained_json = io::Json::array();
  for (const auto& [sparsity, a] : snip_accuracy) {
    snip_json[absl::StrFormat("%g", sparsity)] = a;
    trained_json.push_back({{"method", "SNIP"}, {"sparsity", sparsity}, {"accuracy", a}});
  }
  io::Json l0_json = io::Json::array();
  for (const L0Run& run : l0_runs) {
    io::Json magnitude = io::Json::object();
    for (const auto& [name, a] : run.magnitude) magnitude[name] = a ? io::Json(*a) : io::Json(nullptr);
    l0_json.push_back({{"lambda", run.lambda},
                       {"gate_lr", gate_lr},
                       {"sparsity", run.sparsity},
                       {"accuracy", run.accuracy},
                       {"magnitude_sparsity", run.magnitude_sparsity},
                       {"magnitude", magnitude}});
    trained_json.push_back({{"method", "L0"}, {"sparsity", run.sparsity}, {"accuracy", run.accuracy}});
  }
  e.WriteResults({{"scope", absl::GetFlag(FLAGS_scope)},
                  {"magnitude", swept_json},
                  {"snip", snip_json},
                  {"l0", l0_json},
                  {"trained", trained_json}},
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
