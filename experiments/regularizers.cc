// Paper Table 2: train-once regularizers compared at low bit-widths. From
// the same SGD checkpoint, the PSGD phase of the recipe is run three ways:
// plain SGD continued, SGD with Gradient-L1 regularization (Alizadeh et al.
// 2020; train/gradient_l1.h) and PSGD towards 4 bits; each model is then
// rounded without fine-tuning.
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
#include "experiments/common_flags.h"
#include "experiments/paper_experiment.h"
#include "experiments/svg_plot.h"

ABSL_FLAG(std::string, eval_bits, "8,4", "weight bit-widths to round to");
ABSL_FLAG(double, gradient_l1, 1e-4,
          "Gradient-L1 lambda on the sum of |dL/dw| over all weights (ResNet-20 from scratch "
          "stalls at 1e-3)");
ABSL_FLAG(double, psg_lambda, 150.0, "PSGD lambda_s");
ABSL_FLAG(int, psg_bits, 4, "the bit-width PSGD trains towards");

namespace psg::experiments {
namespace {

int Run(const std::string& command_line) {
  const std::vector<int> bits = ParseBitList(absl::GetFlag(FLAGS_eval_bits));
  PaperExperiment e("regularizers", command_line, "", ImageNetSetting());
  const std::string init = e.SgdCheckpoint();
  // The continuations share the PSGD phase's schedule and length.
  std::vector<std::string> l1_args = e.recipe().psgd;
  l1_args.push_back("--init_from=" + init);
  l1_args.push_back(absl::StrCat("--gradient_l1=", absl::GetFlag(FLAGS_gradient_l1)));
  const int psg_bits = absl::GetFlag(FLAGS_psg_bits);
  const std::vector<std::pair<std::string, std::string>> models = {
      {"SGD", e.SgdControlDir()},
      {"Gradient-L1", e.protocol().Stage("gradient_l1", "train", l1_args, "result.json")},
      {absl::StrCat("PSGD@W", psg_bits),
       e.SharedPsgdStage(absl::StrCat("psgd_w", psg_bits, "_lambda", absl::GetFlag(FLAGS_psg_lambda)),
                         {"--psg_target=grid", absl::StrCat("--psg_bits=", psg_bits),
                          absl::StrCat("--psg_lambda=", absl::GetFlag(FLAGS_psg_lambda))})}};
  const RoundedModels rounded = RoundModels(e, models, bits);
  const std::string md = absl::StrFormat(
      "# Train-once regularizers: %s on %s, budget %s\n\nFrom one SGD checkpoint, the PSGD "
      "phase's schedule run with plain SGD, with Gradient-L1 (lambda %g) and with PSGD; test "
      "accuracy (%%) after rounding the weights, no fine-tuning.\n\n%s%s",
      e.model(), e.dataset(), BudgetName(e.budget()), absl::GetFlag(FLAGS_gradient_l1),
      RoundingTableHeader("regularizer", bits), rounded.table_rows);
  std::vector<double> ticks(bits.rbegin(), bits.rend());
  WriteSvg(e.run_dir() + "/accuracy.svg",
           LinePlotSvg(rounded.accuracy, {.title = "Test accuracy after rounding, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks}));
  e.WriteTrainingPlot({{"SGD continued", models[0].second}, models[1], models[2]});
  e.WriteResults(absl::StrCat("\"gradient_l1\": ", absl::GetFlag(FLAGS_gradient_l1),
                              ", \"models\": {", absl::StrJoin(rounded.json_members, ", "), "}"),
                 md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "regularizers",
      "SGD, Gradient-L1 and PSGD compared at low bit-widths (paper Table 2).",
      psg::experiments::Run);
}
