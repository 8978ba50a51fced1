// Paper Table 3: PSGD combined with post-training quantization methods. The
// SGD model and the PSGD model (towards b bits) are each quantized with every
// weight calibrator of quant/ (exact max, percentile, MSE-optimal clip; per
// tensor or per output channel) and with the post-training methods the paper
// compares with (DFQ, OCS, LAPQ; per tensor), without fine-tuning; the table
// gives every setting and the best one per model and bit-width.
//
//   bazel run //experiments:calibrators -- --budget=short --data_dir=../shared/data
//
// Stages, files and flags as experiments/quant_vs_bits (shared SGD and PSGD
// stages, results.json, results.md, accuracy.svg, training.svg).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/common_flags.h"
#include "cli/psg_bits_flag.h"
#include "cli/psg_lambda_flag.h"
#include "experiments/budget.h"
#include "experiments/paper_experiment.h"
#include "flags/ranges.h"
#include "report/svg_plot.h"

ABSL_FLAG(std::string, eval_bits, "4,3", "weight bit-widths to quantize to");

namespace psg::experiments {
namespace {

int Run(const std::string& command_line) {
  const std::vector<int> bits = ParseBitList("eval_bits", absl::GetFlag(FLAGS_eval_bits));
  const int psg_bits = absl::GetFlag(FLAGS_psg_bits);
  const double lambda = absl::GetFlag(FLAGS_psg_lambda);
  PaperExperiment e("calibrators", command_line, "", ImageNetSetting());
  const std::string psgd_name = absl::StrCat("PSGD@W", psg_bits);
  const std::vector<std::pair<std::string, std::string>> models = {
      {"SGD", e.SgdControlDir()},
      {psgd_name, e.SharedPsgdStage(absl::StrCat("psgd_w", psg_bits, "_lambda", lambda),
                                    {"--psg_target=grid", absl::StrCat("--psg_bits=", psg_bits),
                                     absl::StrCat("--psg_lambda=", lambda)})}};
  std::string md = absl::StrFormat(
      "# PSGD with post-training quantization methods: %s on %s, budget %s\n\nTest accuracy "
      "(%%) after quantizing the weights with each calibrator, no fine-tuning.\n",
      e.model(), e.dataset(), BudgetName(e.budget()));
  // Best accuracy per model and bit-width, with the setting that gave it.
  std::map<std::string, std::map<int, std::pair<double, std::string>>> best;
  // Each setting: its key (a results.json member and a stage prefix), its
  // title and ptq's flags for it.
  struct Setting {
    std::string key, title;
    std::vector<std::string> ptq_args;
  };
  std::vector<Setting> settings;
  for (const char* granularity : {"tensor", "channel"}) {
    for (const char* calibrator : {"exact", "percentile", "mse"}) {
      settings.push_back({absl::StrCat(calibrator, "_", granularity), absl::StrCat(calibrator, ", per ", granularity),
                          {absl::StrCat("--calibrator=", calibrator), absl::StrCat("--granularity=", granularity)}});
    }
  }
  // LAPQ's loss evaluations (Powell's search) and calibration images by budget.
  const bool smoke = e.budget() == Budget::kSmoke;
  const int lapq_evaluations = smoke ? 20 : e.budget() == Budget::kShort ? 200 : 1000;
  settings.push_back({"dfq_tensor", "DFQ (equalization, bias absorption and correction), per tensor",
                      {"--ptq_method=dfq"}});
  settings.push_back({"ocs_tensor", "OCS (expand ratio 0.05), per tensor", {"--ocs_expand_ratio=0.05"}});
  settings.push_back({"lapq_tensor", absl::StrCat("LAPQ (", lapq_evaluations, " loss evaluations), per tensor"),
                      {"--ptq_method=lapq", absl::StrCat("--lapq_evaluations=", lapq_evaluations),
                       absl::StrCat("--lapq_images=", smoke ? 64 : 512)}});
  io::Json json = io::Json::object();
  for (const Setting& setting : settings) {
    const RoundedModels rounded = RoundModels(e, models, bits, setting.key + "_", setting.ptq_args);
    absl::StrAppend(&md, "\n## ", setting.title, "\n\n", RoundingTableHeader("model", bits), rounded.table_rows);
    json[setting.key] = rounded.json_members;
    for (const auto& [name, r] : rounded.by_name) {
      for (const auto& [b, accuracy] : r.accuracy) {
        auto& [best_accuracy, best_setting] = best[name][b];
        if (best_setting.empty() || accuracy > best_accuracy) {
          best_accuracy = accuracy;
          best_setting = setting.key;
        }
      }
    }
  }
  absl::StrAppend(&md, "\n## Best setting per model\n\n| model |");
  std::string rule = "|---|";
  for (int b : bits) {
    absl::StrAppend(&md, " W", b, " |");
    rule += "---|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  std::vector<report::Series> accuracy;
  for (const auto& [name, dir] : models) {
    absl::StrAppend(&md, "| ", name, " |");
    report::Series s{name + " (best setting)", {}, {}};
    for (int b : bits) {
      const auto& [a, setting] = best[name][b];
      absl::StrAppendFormat(&md, " %.2f (%s) |", 100 * a, setting);
    }
    for (const auto& [b, entry] : best[name]) {
      s.x.push_back(b);
      s.y.push_back(100 * entry.first);
    }
    md += "\n";
    accuracy.push_back(std::move(s));
  }
  std::vector<double> ticks(bits.begin(), bits.end());
  std::sort(ticks.begin(), ticks.end());
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(accuracy, {.title = "Best post-training setting, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks}));
  e.WriteTrainingPlot({models[1]});
  e.WriteResults({{"psg_bits", psg_bits}, {"settings", json}}, md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "calibrators",
      "SGD and PSGD models with every post-training weight calibrator and method (paper Table 3).",
      psg::experiments::Run);
}
