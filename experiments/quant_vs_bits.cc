// Paper Fig. 1 and appendix Table A1: test accuracy against bit-width of a
// model trained with SGD and of one trained with PSGD towards a b-bit grid,
// quantized after training by plain rounding (no fine-tuning), weights only
// and weights with activations; and each model's weight quantization MSE.
//
// The model and data set are the shared flags (--model, --dataset: the
// paper's setting is resnet32 on cifar100; resnet20 on cifar10 runs here).
// The whole protocol runs as resumable stages of the toolkit's commands
// (experiments/paper_experiment.h): SGD (shared with the other experiments),
// PSGD from the SGD checkpoint, ptq of both models with and without
// activation quantization, the weight histogram of one layer. Writes into the
// run directory: results.json, results.md (with the paper's reported numbers
// where there are any), accuracy.svg, qmse.svg, training.svg,
// histogram/histogram.svg, commands.sh and each stage's directory.
//
//   bazel run //experiments:quant_vs_bits -- --budget=short --data_dir=../shared/data
//   # appendix, PSG with Adam: an Adam stage, PSG-Adam from it with its moments,
//   # and the Adam model trained as long as the control
//   bazel run //experiments:quant_vs_bits -- --budget=short --psg_method=adam
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/common_flags.h"
#include "cli/psg_bits_flag.h"
#include "cli/psg_lambda_flag.h"
#include "compression/released_defaults.h"
#include "experiments/budget.h"
#include "experiments/paper_experiment.h"
#include "flags/ranges.h"
#include "psg/psgd.h"
#include "report/svg_plot.h"

ABSL_FLAG(psg::psgd::PsgdMethod, psg_method, psg::psgd::PsgdMethod::kSgd,
          "PSGD's update: sgd (the paper's main results) or adam (its appendix: PSG with Adam)");
ABSL_FLAG(std::string, eval_bits, "8,6,4,3,2", "weight bit-widths to quantize to");
ABSL_FLAG(std::string, histogram_layer, "layer2.0.conv1.weight", "layer of the weight histogram");

namespace psg::experiments {
namespace {

// The released numbers (psg-method.md section 5) as table rows for the
// default bit-widths 8,6,4,3,2, beside runs in their own setting only
// (ResNet-32 on CIFAR-100 at the paper budget, SGD-based PSGD at 4 bits).
std::string PaperRows(const PaperExperiment& e, int psg_bits, const std::string& method) {
  if (!e.in_paper_setting() || psg_bits != 4 || method != "sgd") return "";
  return "| released: SGD (150 epochs) | 70.97 | | | | | |\n"
         "| released: PSGD@W4 | 70.08 | | | 69.57 | | |\n";
}

int Run(const std::string& command_line) {
  const int psg_bits = absl::GetFlag(FLAGS_psg_bits);
  const std::vector<int> bits = ParseBitList("eval_bits", absl::GetFlag(FLAGS_eval_bits));
  const bool adam = absl::GetFlag(FLAGS_psg_method) == psgd::PsgdMethod::kAdam;
  const std::string variant = adam ? "_adam" : "";
  PaperExperiment e("quant_vs_bits", command_line, absl::StrCat("w", psg_bits, variant));
  const std::string psgd_name = absl::StrCat(adam ? "PSGD-Adam@W" : "PSGD@W", psg_bits);
  const double lambda = absl::GetFlag(FLAGS_psg_lambda);
  std::vector<std::string> psg_flags = {"--psg_target=grid", absl::StrCat("--psg_bits=", psg_bits),
                                        absl::StrCat("--psg_lambda=", lambda),
                                        "--psg_method=" + absl::UnparseFlag(absl::GetFlag(FLAGS_psg_method))};
  // train.py with --adam 1: base lr 1e-4 (then lr * 1e-2 * lambda_s inside
  // PSGD's Adam), from an Adam-trained model and its Adam state.
  if (adam) {
    psg_flags.push_back(absl::StrCat("--lr=", kReleasedPsgdAdamLr));
    psg_flags.push_back("--init_optimizer_state");
  }
  const std::string psgd_dir = e.SharedPsgdStage(
      absl::StrCat("psgd_w", psg_bits, "_lambda", lambda, variant), psg_flags,
      adam ? e.AdamCheckpoint() : "");
  // The control trained as long: SGD, or Adam at PSG-Adam's lr.
  const std::pair<std::string, std::string> control =
      adam ? std::pair<std::string, std::string>{"Adam", e.AdamControlDir(PsgdAdamEffectiveLr(
                                                             kReleasedPsgdAdamLr, lambda))}
           : std::pair<std::string, std::string>{"SGD", e.SgdControlDir()};
  const std::vector<std::pair<std::string, std::string>> models = {control, {psgd_name, psgd_dir}};
  const RoundedModels weights = RoundModels(e, models, bits);
  const RoundedModels weights_and_activations = RoundModels(e, models, bits, "act_", {"--act_bits=same"});
  e.protocol().Stage("histogram", "weight_histogram",
                     {absl::StrCat("--checkpoints=", control.first, "=", control.second,
                                   "/last.safetensors,", psgd_name,
                                   "=", psgd_dir, "/last.safetensors"),
                      "--layer=" + absl::GetFlag(FLAGS_histogram_layer),
                      absl::StrCat("--bits=", psg_bits)},
                     "histogram.svg");

  // Tables laid out as the paper's: one row per model, FP then each bit-width.
  const std::string header = RoundingTableHeader("model", bits);
  std::string md = absl::StrFormat(
      "# Accuracy vs bit-width: %s on %s, budget %s\n\nTest accuracy (%%) after rounding the "
      "trained weights to b bits (released protocol: per tensor, symmetric, first and last "
      "layer at 8 bits below 4), no fine-tuning.\n\n## Weights only (WbA32)\n\n%s%s%s",
      e.model(), e.dataset(), BudgetName(e.budget()), header, weights.table_rows,
      PaperRows(e, psg_bits, absl::UnparseFlag(absl::GetFlag(FLAGS_psg_method))));
  if (adam) {
    absl::StrAppendFormat(
        &md, "\nPSGD-Adam: base lr 1e-4 (x 1e-2 x lambda_s), as released, from an Adam-trained "
             "model (the SGD stage's schedule with Adam at lr %g; the released code does not "
             "include this training) and its Adam moments. Adam: the control trained as long.\n",
        kAdamPretrainingLr);
  }
  absl::StrAppend(&md, "\n## Weights and ReLU outputs (WbAb)\n\n", header,
                  weights_and_activations.table_rows,
                  "\n## Weight quantization MSE (size-weighted mean over layers)\n\n| model |");
  for (int b : bits) absl::StrAppend(&md, " W", b, " |");
  absl::StrAppend(&md, "\n", std::string(header.substr(header.find('\n') + 5)));
  std::vector<report::Series> accuracy = weights.accuracy, mse;
  for (report::Series s : weights_and_activations.accuracy) {
    s.name += " (with activations)";
    accuracy.push_back(std::move(s));
  }
  for (const auto& [name, dir] : models) {
    const RoundedModel& r = weights.by_name.at(name);
    absl::StrAppend(&md, "| ", name, " |");
    report::Series m{name, {}, {}};
    for (int b : bits) absl::StrAppendFormat(&md, " %.3g |", r.mse.at(b));
    for (const auto& [b, value] : r.mse) {
      m.x.push_back(b);
      m.y.push_back(std::max(value, 1e-12));  // a log axis; a model exactly on its grid has 0
    }
    md += "\n";
    mse.push_back(std::move(m));
  }
  std::vector<double> ticks(bits.begin(), bits.end());
  std::sort(ticks.begin(), ticks.end());
  report::WriteSvg(e.run_dir() + "/accuracy.svg",
           report::LinePlotSvg(accuracy, {.title = "Test accuracy after rounding, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks, .width = 760}));
  report::WriteSvg(e.run_dir() + "/qmse.svg",
           report::LinePlotSvg(mse, {.title = "Weight quantization MSE", .x_label = "bits",
                             .y_label = "MSE", .log_y = true, .x_ticks = ticks}));
  e.WriteTrainingPlot({{psgd_name, psgd_dir}},
                      std::pair<std::string, std::string>{adam ? "Adam" : "SGD",
                                                          adam ? e.AdamDir() : e.SgdDir()});

  e.WriteResults({{"psg_bits", psg_bits},
                  {"weights_only", weights.json_members},
                  {"weights_and_activations", weights_and_activations.json_members}},
                 md);
  return 0;
}

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  return psg::experiments::PaperMain(
      argc, argv, "quant_vs_bits",
      "Accuracy vs bit-width of SGD and PSGD models (paper Fig. 1, Table A1).",
      psg::experiments::Run);
}
