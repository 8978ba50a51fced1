// The released hyper-parameter search for PSGD towards zero, alone: for each
// --zero_lambdas candidate, PSGD from the shared SGD model with the recipe's
// held-out training images (10,000 at the short and paper budgets) left out,
// magnitude-pruned at each --sparsities value and evaluated on those images;
// per sparsity the best lambda_s. //experiments:pruning runs the same stages
// (shared under --shared_dir) and trains its PSGD-zero rows with the choice.
//
//   bazel run //experiments:lambda_search -- --budget=short --zero_lambdas=50,150,500
//
// Writes results.json ("search": experiments/zero_lambda_search.h's
// SearchJson), results.md and commands.sh in the run directory.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/paper_experiment.h"
#include "experiments/zero_lambda_search.h"
#include "report/svg_plot.h"

namespace psg::experiments {
namespace {

int Run(const std::string& command_line) {
  PaperExperiment e("lambda_search", command_line);
  const ZeroLambdaSearch search = SearchZeroLambda(e, ZeroLambdasFromFlag(), SparsitiesFromFlag(),
                                                   absl::UnparseFlag(absl::GetFlag(FLAGS_scope)));
  const std::string md = absl::StrFormat(
      "# lambda_s of PSGD towards zero, chosen on held-out training images: %s on %s, budget "
      "%s\n\nPSGD from the SGD model without the held-out images (%s pruning, first and last "
      "layer kept), as PSG-pytorch hyperparmeter_search.py; the test set is not used.\n\n%s",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::UnparseFlag(absl::GetFlag(FLAGS_scope)),
      SearchMarkdown(search));
  std::vector<report::Series> curves;
  std::vector<std::pair<std::string, std::string>> trained;
  for (const auto& [lambda, by_sparsity] : search.accuracy) {
    const std::string name = absl::StrCat("lambda_s ", lambda);
    report::Series s{name, {}, {}};
    for (const auto& [sparsity, a] : by_sparsity) {
      s.x.push_back(sparsity);
      s.y.push_back(100 * a);
    }
    curves.push_back(std::move(s));
    trained.push_back({name, search.stages.at(lambda)});
  }
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(curves, {.title = "PSGD towards zero, pruned without fine-tuning",
                                .x_label = "sparsity", .y_label = "held-out accuracy (%)"}));
  // Accuracy during training is on the held-out images too. Where PSGD starts
  // from the SGD stage's checkpoint at psgd_start_step (paper budget), the
  // search does not train the rest of that stage, so there is no SGD curve.
  if (e.recipe().psgd_start_step > 0) {
    e.WriteTrainingPlot(trained, std::nullopt);
  } else {
    e.WriteTrainingPlot(trained);
  }
  e.WriteResults({{"scope", absl::UnparseFlag(absl::GetFlag(FLAGS_scope))}, {"search", SearchJson(search)}},
                 md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "lambda_search",
      "lambda_s of PSGD towards zero per sparsity, chosen on held-out training images.",
      psg::experiments::Run);
}
