// Paper Table 4: extremely low bits. PSGD models trained towards 3 and 2 bits
// (first and last layer on an 8-bit grid, as released) against the SGD
// model, each rounded to every low bit-width without fine-tuning.
//
//   bazel run //experiments:low_bits -- --budget=short --data_dir=../shared/data
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
#include "cli/common_flags.h"
#include "cli/psg_lambda_flag.h"
#include "experiments/budget.h"
#include "experiments/paper_experiment.h"
#include "flags/ranges.h"
#include "report/svg_plot.h"

ABSL_FLAG(std::string, low_bits, "3,2", "bit-widths PSGD trains towards, each evaluated at all");

namespace psg::experiments {
namespace {

int Run(const std::string& command_line) {
  const std::vector<int> bits = ParseBitList("low_bits", absl::GetFlag(FLAGS_low_bits));
  PaperExperiment e("low_bits", command_line, "", ImageNetSetting());
  const double lambda = absl::GetFlag(FLAGS_psg_lambda);
  std::vector<std::pair<std::string, std::string>> models = {{"SGD", e.SgdControlDir()}};
  for (int b : bits) {
    models.push_back({absl::StrCat("PSGD@W", b),
                      e.SharedPsgdStage(absl::StrCat("psgd_w", b, "_lambda", lambda),
                                        {"--psg_target=grid", absl::StrCat("--psg_bits=", b),
                                         absl::StrCat("--psg_lambda=", lambda)})});
  }
  const RoundedModels rounded = RoundModels(e, models, bits);
  std::string md = absl::StrFormat(
      "# Extremely low bits: %s on %s, budget %s\n\nTest accuracy (%%) after rounding the "
      "weights to b bits (first and last layer at 8 bits), no fine-tuning.\n\n%s%s",
      e.model(), e.dataset(), BudgetName(e.budget()), RoundingTableHeader("model", bits),
      rounded.table_rows);
  std::vector<double> ticks(bits.rbegin(), bits.rend());
  if (e.in_paper_setting() && bits.front() == 3) {  // 0.10 % is ImageNet's chance level
    md += "| paper (secondary source): PSGD@W3 vs SGD, at W3 | | 66.36 vs 0.10 |\n";
  }
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(rounded.accuracy, {.title = "Test accuracy at low bit-widths, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks}));
  e.WriteTrainingPlot({models.begin() + 1, models.end()});
  e.WriteResults({{"models", rounded.json_members}}, md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "low_bits",
      "SGD vs PSGD at 3 and 2 bits (paper Table 4).",
      psg::experiments::Run);
}
