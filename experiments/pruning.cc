// Paper Table 1: pruning without fine-tuning. The SGD model and PSGD models
// trained towards zero (the pruning target) are magnitude-pruned at each
// sparsity (global by default, first and last layer kept) and evaluated as
// they are, each sparsity's PSGD model trained with the lambda_s that the
// released search chose for it on held-out training images
// (experiments/zero_lambda_search.h; --zero_lambdas with one value: that one); SNIP (pruned at initialization, then trained with its masks for
// the SGD stage's schedule) and L0 (hard-concrete gates trained from the SGD
// checkpoint for the PSGD phase's schedule) are the baselines that reach
// their sparsity by training.
//
//   bazel run //experiments:pruning -- --budget=short --data_dir=../shared/data
//   bazel run //experiments:pruning -- --budget=short --zero_lambdas=150   # no search
//
// Stages, files and flags as experiments/quant_vs_bits (shared SGD stage,
// results.json, results.md, accuracy.svg, training.svg).
#include <map>
#include <optional>
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
#include "experiments/zero_lambda_search.h"

ABSL_FLAG(std::string, snip_sparsities, "0.9", "SNIP runs, one per sparsity (empty: none)");
// L0 trains its gates with their own Adam, as the reference implementation
// (Louizos et al.); lambda is not yet tuned for it (experiments/RESULTS.md).
ABSL_FLAG(double, l0_lambda, 5e-4, "L0 run's lambda (0: no L0 run)");
PSG_FLAG_RANGE(l0_lambda, psg::flags::AtLeast(0));
ABSL_FLAG(double, l0_gate_lr, 1e-3, "L0 run's Adam learning rate for the gates, at the schedule's peak");
PSG_FLAG_RANGE(l0_gate_lr, psg::flags::GreaterThan(0));

namespace psg::experiments {
namespace {

std::vector<double> ParseSparsities(const std::string& list, const char* flag) {
  return OrThrow(flags::ParseNumbers(flag, flags::SplitList(list), flags::Range{0, 1, true, true}),
                 "the sparsities");
}

int Run(const std::string& command_line) {
  const std::vector<double> sparsities = SparsitiesFromFlag();
  const std::vector<double> snip = ParseSparsities(absl::GetFlag(FLAGS_snip_sparsities), "snip_sparsities");
  const std::vector<double> lambdas = ZeroLambdasFromFlag();
  PaperExperiment e("pruning", command_line);
  const std::string init = e.SgdCheckpoint();
  // lambda_s per sparsity (0: the dense row): one candidate is used at every
  // sparsity; several are chosen between on held-out training images.
  std::optional<ZeroLambdaSearch> search;
  std::map<double, double> zero_lambda;
  if (lambdas.size() > 1) {
    search = SearchZeroLambda(e, lambdas, sparsities, absl::GetFlag(FLAGS_scope));
    zero_lambda = search->chosen;
  } else {
    zero_lambda[0] = lambdas[0];
    for (double s : sparsities) zero_lambda[s] = lambdas[0];
  }
  std::vector<std::string> sweep_args = {"--sparsity=" + absl::GetFlag(FLAGS_sparsities),
                                         "--scope=" + absl::GetFlag(FLAGS_scope)};
  sweep_args.insert(sweep_args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
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
  std::vector<Series> accuracy;
  for (const auto& [name, dir] : models) {
    std::vector<std::string> args = sweep_args;
    args.push_back("--checkpoint=" + dir + "/last.safetensors");
    const std::string stage = "prune_sweep_" + dir.substr(dir.rfind('/') + 1);
    swept[name] = ReadPruneSweep(e.protocol().Stage(stage, "prune_sweep", args, "prune_sweep.json"));
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
      "fine-tuning; SGD trained as long as PSGD. PSGD (zero target): at each sparsity the "
      "model trained with that row's lambda_s%s.\n\n| sparsity | SGD | PSGD (zero target) | "
      "lambda_s |%s\n|---|---|---|---|%s\n",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::GetFlag(FLAGS_scope),
      search ? " (chosen on held-out training images, below)" : "",
      paper ? " paper: SGD / PSGD |" : "", paper ? "---|" : "");
  io::Json psgd_json = io::Json::object(), lambda_json = io::Json::object();
  for (const auto& [sparsity, a] : swept["SGD"]) {
    const double lambda = zero_lambda.at(sparsity);
    const double psgd = swept[zero_model.at(lambda)].at(sparsity);
    psgd_json[absl::StrFormat("%g", sparsity)] = psgd;
    lambda_json[absl::StrFormat("%g", sparsity)] = lambda;
    absl::StrAppendFormat(&md, "| %s | %.2f | %.2f | %g |%s\n",
                          sparsity == 0 ? "0 (dense)" : absl::StrFormat("%g", sparsity), 100 * a,
                          100 * psgd, lambda,
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
  if (search) {
    absl::StrAppend(&md, "\nlambda_s of PSGD towards zero, chosen as released (hyperparmeter_search.py):\n\n",
                    SearchMarkdown(*search));
  }
  e.WriteTrainingPlot({models.begin() + 1, models.end()});
  // "magnitude": SGD and PSGD-zero (each sparsity's chosen model) by
  // sparsity, and every swept model by name.
  io::Json swept_json = {{"PSGD-zero", psgd_json}};
  for (const auto& [name, by_sparsity] : swept) {
    io::Json& row = name == "SGD" ? swept_json["SGD"] : swept_json["models"][name];
    for (const auto& [sparsity, a] : by_sparsity) row[absl::StrFormat("%g", sparsity)] = a;
  }
  io::Json results = {{"scope", absl::GetFlag(FLAGS_scope)}, {"magnitude", swept_json},
                      {"zero_lambda", lambda_json}, {"trained", trained_json}};
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
