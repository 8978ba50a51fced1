// Paper Table 2: train-once regularizers compared at low bit-widths. From
// the same SGD checkpoint, the PSGD phase of the recipe is run five ways:
// plain SGD continued, SGD with Gradient-L1 and with Gradient-L2
// regularization (Alizadeh et al. 2020; train/gradient_norm.h), with
// Lipschitz regularization (Lin et al. 2019; train/lipschitz.h) and PSGD
// towards 4 bits; each model is then rounded without fine-tuning. A
// regularizer's row is left out at strength 0 (e.g. --gradient_l2=0).
//
//   bazel run //experiments:regularizers -- --budget=short --data_dir=../shared/data
//
// Stages, files and flags as experiments/quant_vs_bits (shared SGD stage,
// results.json, results.md, accuracy.svg, training.svg).
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/substitute.h"
#include "cli/common_flags.h"
#include "cli/psg_bits_flag.h"
#include "cli/psg_lambda_flag.h"
#include "experiments/budget.h"
#include "experiments/paper_experiment.h"
#include "flags/ranges.h"
#include "report/svg_plot.h"

ABSL_FLAG(std::string, eval_bits, "8,4", "weight bit-widths to round to");
ABSL_FLAG(double, gradient_l1, 1e-4,
          "Gradient-L1 lambda on the sum of |dL/dw| over all weights (ResNet-20 from scratch "
          "stalls at 1e-3; 0: no row)");
PSG_FLAG_RANGE(gradient_l1, psg::flags::AtLeast(0));
ABSL_FLAG(double, gradient_l2, 0.05,
          "Gradient-L2 lambda on ||dL/dw||_2 (untuned: Gradient-L1's 1e-4 times about sqrt(#weights) "
          "of ResNet-20, a push of the same size; 0: no row)");
PSG_FLAG_RANGE(gradient_l2, psg::flags::AtLeast(0));
ABSL_FLAG(double, lipschitz, 3e-4, "Lipschitz regularization's beta (untuned; 0: no row)");
PSG_FLAG_RANGE(lipschitz, psg::flags::AtLeast(0));

namespace psg::experiments {
namespace {

int Run(const std::string& command_line) {
  const std::vector<int> bits = ParseBitList("eval_bits", absl::GetFlag(FLAGS_eval_bits));
  PaperExperiment e("regularizers", command_line, "", ImageNetSetting());
  const std::string init = e.SgdCheckpoint();
  // The continuations share the PSGD phase's schedule and length.
  const auto regularized = [&](const std::string& flag, double value) {
    std::vector<std::string> args = e.recipe().psgd;
    args.push_back("--init_from=" + init);
    args.push_back(absl::StrCat("--", flag, "=", value));
    return e.protocol().Stage(absl::StrCat(flag, "_", value), "train", args, "result.json");
  };
  const int psg_bits = absl::GetFlag(FLAGS_psg_bits);
  // The regularized rows, each left out at strength 0.
  struct Regularizer {
    std::string row, flag, described;  // described: for results.md, $0 the strength
    double strength;
  };
  const Regularizer regularizers[] = {
      {"Gradient-L1", "gradient_l1", "Gradient-L1 (lambda $0)", absl::GetFlag(FLAGS_gradient_l1)},
      {"Gradient-L2", "gradient_l2", "Gradient-L2 (lambda $0)", absl::GetFlag(FLAGS_gradient_l2)},
      {"Lipschitz", "lipschitz", "Lipschitz regularization (beta $0)", absl::GetFlag(FLAGS_lipschitz)}};
  std::vector<std::pair<std::string, std::string>> models = {{"SGD", e.SgdControlDir()}};
  std::string trained_with = "plain SGD";
  for (const Regularizer& r : regularizers) {
    if (r.strength == 0) continue;
    models.push_back({r.row, regularized(r.flag, r.strength)});
    absl::StrAppend(&trained_with, ", with ", absl::Substitute(r.described, r.strength));
  }
  models.push_back(
      {absl::StrCat("PSGD@W", psg_bits),
       e.SharedPsgdStage(absl::StrCat("psgd_w", psg_bits, "_lambda", absl::GetFlag(FLAGS_psg_lambda)),
                         {"--psg_target=grid", absl::StrCat("--psg_bits=", psg_bits),
                          absl::StrCat("--psg_lambda=", absl::GetFlag(FLAGS_psg_lambda))})});
  const RoundedModels rounded = RoundModels(e, models, bits);
  const std::string md = absl::StrFormat(
      "# Train-once regularizers: %s on %s, budget %s\n\nFrom one SGD checkpoint, the PSGD "
      "phase's schedule run with %s and with PSGD; test accuracy (%%) after rounding the "
      "weights, no fine-tuning.\n\n%s%s",
      e.model(), e.dataset(), BudgetName(e.budget()), trained_with,
      RoundingTableHeader("regularizer", bits), rounded.table_rows);
  std::vector<double> ticks(bits.rbegin(), bits.rend());
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(rounded.accuracy, {.title = "Test accuracy after rounding, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks}));
  std::vector<std::pair<std::string, std::string>> curves = models;
  curves[0].first = "SGD continued";
  e.WriteTrainingPlot(curves);
  e.WriteResults({{"gradient_l1", absl::GetFlag(FLAGS_gradient_l1)},
                  {"gradient_l2", absl::GetFlag(FLAGS_gradient_l2)},
                  {"lipschitz", absl::GetFlag(FLAGS_lipschitz)},
                  {"models", rounded.json_members}},
                 md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "regularizers",
      "SGD, Gradient-L1, Gradient-L2, Lipschitz regularization and PSGD compared at low bit-widths "
      "(paper Table 2).",
      psg::experiments::Run);
}
