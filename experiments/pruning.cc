// Paper Table 1: pruning without fine-tuning. The SGD model and PSGD models
// trained towards zero (the pruning target) are magnitude-pruned at each
// sparsity (global by default, first and last layer kept) and evaluated as
// they are, each sparsity's PSGD model trained with the lambda_s that the
// released search chose for it on held-out training images
// (experiments/zero_lambda_search.h; --zero_lambdas with one value: that one
// everywhere). SNIP (pruned at initialization, then trained with its masks
// for the SGD stage's schedule, at each sparsity of the sweep) and L0
// (hard-concrete gates trained from the SGD checkpoint for the PSGD phase's
// schedule, at each of --l0_lambdas) are the baselines that reach their
// sparsity by training. L0 learns its sparsity, so the magnitude-pruned
// models are also pruned (and lambda_s chosen) at each sparsity an L0 model
// reached.
//
//   bazel run //experiments:pruning -- --budget=short --data_dir=../shared/data
//   bazel run //experiments:pruning -- --budget=short --zero_lambdas=150   # no search
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
#include "absl/flags/marshalling.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/common_flags.h"
#include "experiments/paper_experiment.h"
#include "experiments/zero_lambda_search.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "report/result_json.h"
#include "report/svg_plot.h"

ABSL_FLAG(std::string, snip_sparsities, "sweep",
          "SNIP runs, one per sparsity: sweep (every --sparsities value), a list of some of them, or empty "
          "(none)");
// L0 trains its gates with their own Adam, as the reference code (Louizos et
// al.) for LeNet-5; its sparsity is learned, so it runs at several lambdas
// and the magnitude-pruned models are also reported at each sparsity reached.
// At the short budget these reach 30, 74 and 97 % sparsity (experiments/RESULTS.md).
ABSL_FLAG(std::string, l0_lambdas, "2e-5,1e-4,5e-4", "L0 runs, one per lambda (empty: none)");
// Passed on to train's --l0_gate_lr; unset, the budget's (Recipe::l0_gate_lr).
ABSL_FLAG(std::optional<double>, l0_gate_lr, std::nullopt,
          "L0 runs' Adam learning rate for the gates, at the schedule's peak (> 0; unset: the budget's, "
          "smoke 2, short 1e-2, paper 1e-3)");
PSG_FLAG_RANGE(l0_gate_lr, psg::flags::GreaterThan(0));

namespace psg::experiments {
namespace {

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
// magnitude-pruned at `sparsities` by the stage
// "prune_sweep_<model's stage>".
std::map<double, double> MagnitudeSweep(PaperExperiment& e, const std::string& model_dir,
                                        const std::vector<double>& sparsities) {
  std::vector<std::string> args = {"--scope=" + absl::UnparseFlag(absl::GetFlag(FLAGS_scope))};
  args.insert(args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
  args.push_back("--checkpoint=" + model_dir + "/last.safetensors");
  return PruneSweepStage(e, absl::StrCat("prune_sweep_", model_dir.substr(model_dir.rfind('/') + 1)), args,
                         sparsities);
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

report::Series Curve(const std::string& name, const std::map<double, double>& accuracy_by_sparsity) {
  report::Series s{name, {}, {}};
  for (const auto& [sparsity, a] : accuracy_by_sparsity) {
    s.x.push_back(sparsity);
    s.y.push_back(100 * a);
  }
  return s;
}

int Run(const std::string& command_line) {
  const std::vector<double> sparsities = SparsitiesFromFlag();
  const std::vector<double> snip = SnipSparsities(sparsities);
  const std::vector<double> l0_lambdas = OrThrow(
      flags::ParseNumbers("l0_lambdas", flags::SplitList(absl::GetFlag(FLAGS_l0_lambdas)), flags::GreaterThan(0)),
      "the L0 lambdas");
  const std::vector<double> zero_lambdas = ZeroLambdasFromFlag();
  PaperExperiment e("pruning", command_line);
  const std::string init = e.SgdCheckpoint();

  // Baselines that reach their sparsity by training.
  std::map<double, double> snip_accuracy;
  for (double s : snip) {
    std::vector<std::string> args = e.recipe().sgd;
    args.push_back("--prune_method=snip");
    args.push_back(absl::StrCat("--prune_sparsity=", s));
    snip_accuracy[s] = FinalTestAccuracy(e.protocol().Stage(absl::StrCat("snip_", s), "train", args, "result.json"));
  }
  const double gate_lr = absl::GetFlag(FLAGS_l0_gate_lr).value_or(e.recipe().l0_gate_lr);
  std::vector<L0Run> l0_runs;
  for (double lambda : l0_lambdas) {
    std::vector<std::string> args = e.recipe().psgd;
    args.push_back("--init_from=" + init);
    args.push_back("--prune_method=l0");
    args.push_back(absl::StrCat("--l0_lambda=", lambda));
    args.push_back("--l0_gate_optimizer=adam");
    args.push_back(absl::StrCat("--l0_gate_lr=", gate_lr));
    const std::string dir =
        e.protocol().Stage(absl::StrCat("l0_lambda", lambda, "_adam_lr", gate_lr), "train", args, "result.json");
    const std::string path = dir + "/result.json";
    const io::Json result = OrThrow(report::ReadJsonFile(path), path);
    L0Run run{.lambda = lambda,
              .sparsity = OrThrow(report::NumberAt(result, "l0_sparsity"), path),
              .accuracy = FinalTestAccuracy(dir)};
    run.magnitude_sparsity = std::round(1e4 * run.sparsity) / 1e4;
    l0_runs.push_back(std::move(run));
  }

  // Every sparsity the magnitude-pruned models are needed at: the sweep's
  // and each L0 model's (prune_sweep takes (0, 1); dense is always its first row).
  std::vector<double> rows = sparsities;
  for (const L0Run& run : l0_runs) {
    if (run.magnitude_sparsity > 0 && run.magnitude_sparsity < 1) rows.push_back(run.magnitude_sparsity);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());

  // lambda_s per sparsity (0: the dense row): one candidate is used at every
  // sparsity; several are chosen between on held-out training images.
  std::optional<ZeroLambdaSearch> search;
  std::map<double, double> zero_lambda;
  if (zero_lambdas.size() > 1) {
    search = SearchZeroLambda(e, zero_lambdas, rows, absl::UnparseFlag(absl::GetFlag(FLAGS_scope)));
    zero_lambda = search->chosen;
  } else {
    zero_lambda[0] = zero_lambdas[0];
    for (double s : rows) zero_lambda[s] = zero_lambdas[0];
  }
  // The models swept: SGD and the PSGD-zero model of each chosen lambda_s,
  // trained on the whole training set.
  std::vector<std::pair<std::string, std::string>> models = {{"SGD", e.SgdControlDir()}};
  std::map<double, std::string> zero_model;  // lambda -> its name in `models`
  for (const auto& [sparsity, lambda] : zero_lambda) {
    if (zero_model.contains(lambda)) continue;
    zero_model[lambda] = absl::StrCat("PSGD-zero lambda_s ", lambda);
    models.push_back({zero_model[lambda],
                      e.SharedPsgdStage(ZeroStageName(lambda, /*held_out=*/false),
                                        {"--psg_target=zero", absl::StrCat("--psg_lambda=", lambda)})});
  }
  std::map<std::string, std::map<double, double>> swept;
  for (const auto& [name, dir] : models) swept[name] = MagnitudeSweep(e, dir, rows);
  // The table's two magnitude columns by sparsity: SGD, and PSGD-zero from
  // each sparsity's chosen model.
  std::map<std::string, std::map<double, double>> magnitude = {{"SGD", swept["SGD"]}};
  for (const auto& [sparsity, lambda] : zero_lambda) {
    magnitude["PSGD-zero"][sparsity] = swept[zero_model.at(lambda)].at(sparsity);
  }
  for (L0Run& run : l0_runs) {
    for (const auto& [name, by_sparsity] : magnitude) {
      if (run.magnitude_sparsity < 1) run.magnitude[name] = by_sparsity.at(run.magnitude_sparsity);
      else run.magnitude[name] = std::nullopt;
    }
  }

  std::vector<report::Series> accuracy;
  for (const auto& [name, by_sparsity] : magnitude) accuracy.push_back(Curve(name, by_sparsity));
  if (!snip_accuracy.empty()) accuracy.push_back(Curve("SNIP (trained sparse)", snip_accuracy));
  std::map<double, double> l0_accuracy;
  for (const L0Run& run : l0_runs) l0_accuracy[run.sparsity] = run.accuracy;
  if (!l0_accuracy.empty()) accuracy.push_back(Curve("L0 (trained sparse)", l0_accuracy));

  // The paper's numbers (CIFAR-100: SGD's 1.00 % is chance) beside its own setting only.
  const bool paper = e.in_paper_setting();
  std::string md = absl::StrFormat(
      "# Pruning without fine-tuning: %s on %s, budget %s\n\nTest accuracy (%%) after %s "
      "magnitude pruning of the trained weights (first and last layer kept), no "
      "fine-tuning; SGD trained as long as PSGD. PSGD (zero target): at each sparsity the "
      "model trained with that row's lambda_s%s. SNIP is pruned at initialization and "
      "trained with its masks for the SGD stage's schedule, so it needs no fine-tuning "
      "either.\n\n| sparsity | SGD | PSGD (zero target) | lambda_s | SNIP |%s\n|---|---|---|---|---|%s\n",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::UnparseFlag(absl::GetFlag(FLAGS_scope)),
      search ? " (chosen on held-out training images, below)" : "",
      paper ? " paper: SGD / PSGD / SNIP |" : "", paper ? "---|" : "");
  std::vector<double> table_rows = {0};
  table_rows.insert(table_rows.end(), sparsities.begin(), sparsities.end());
  for (double sparsity : table_rows) {
    const auto snip_at = snip_accuracy.find(sparsity);
    absl::StrAppendFormat(
        &md, "| %s | %.2f | %.2f | %g | %s |%s\n", sparsity == 0 ? "0 (dense)" : absl::StrFormat("%g", sparsity),
        100 * magnitude["SGD"].at(sparsity), 100 * magnitude["PSGD-zero"].at(sparsity), zero_lambda.at(sparsity),
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
  if (search) {
    absl::StrAppend(&md, "\nlambda_s of PSGD towards zero, chosen as released (hyperparmeter_search.py):\n\n",
                    SearchMarkdown(*search));
  }
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(accuracy, {.title = "Pruning without fine-tuning", .x_label = "sparsity",
                                  .y_label = "test accuracy (%)", .width = 760}));
  e.WriteTrainingPlot({models.begin() + 1, models.end()});

  // "magnitude": the table's SGD and PSGD-zero columns by sparsity, and every
  // swept model by name ("models").
  io::Json magnitude_json = io::Json::object(), lambda_json = io::Json::object();
  for (const auto& [name, by_sparsity] : magnitude) {
    for (const auto& [sparsity, a] : by_sparsity) magnitude_json[name][absl::StrFormat("%g", sparsity)] = a;
  }
  for (const auto& [name, by_sparsity] : swept) {
    for (const auto& [sparsity, a] : by_sparsity) {
      magnitude_json["models"][name][absl::StrFormat("%g", sparsity)] = a;
    }
  }
  for (const auto& [sparsity, lambda] : zero_lambda) lambda_json[absl::StrFormat("%g", sparsity)] = lambda;
  io::Json snip_json = io::Json::object();
  io::Json trained_json = io::Json::array();
  for (const auto& [sparsity, a] : snip_accuracy) {
    snip_json[absl::StrFormat("%g", sparsity)] = a;
    trained_json.push_back({{"method", "SNIP"}, {"sparsity", sparsity}, {"accuracy", a}});
  }
  io::Json l0_json = io::Json::array();
  for (const L0Run& run : l0_runs) {
    io::Json at_l0 = io::Json::object();
    for (const auto& [name, a] : run.magnitude) at_l0[name] = a ? io::Json(*a) : io::Json(nullptr);
    l0_json.push_back({{"lambda", run.lambda},
                       {"gate_lr", gate_lr},
                       {"sparsity", run.sparsity},
                       {"accuracy", run.accuracy},
                       {"magnitude_sparsity", run.magnitude_sparsity},
                       {"magnitude", at_l0}});
    trained_json.push_back({{"method", "L0"}, {"sparsity", run.sparsity}, {"accuracy", run.accuracy}});
  }
  io::Json results = {{"scope", absl::UnparseFlag(absl::GetFlag(FLAGS_scope))},
                      {"magnitude", magnitude_json},
                      {"zero_lambda", lambda_json},
                      {"snip", snip_json},
                      {"l0", l0_json},
                      {"trained", trained_json}};
  if (search) results["search"] = SearchJson(*search);
  e.WriteResults(results, md);
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
