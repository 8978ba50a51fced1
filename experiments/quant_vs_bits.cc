// Paper Fig. 1 and appendix Table A1: test accuracy against bit-width of a
// model trained with SGD and of one trained with PSGD towards a b-bit grid,
// quantized after training by plain rounding (no fine-tuning), weights only
// and weights with activations; and each model's weight quantization MSE.
//
// The model and data set are the shared flags (--model, --dataset: the
// paper's setting is resnet32 on cifar100; resnet20 on cifar10 runs here).
// The whole protocol, as resumable stages of the toolkit's commands
// (experiments/protocol.h): SGD, then PSGD from the SGD checkpoint
// (experiments/budget.h), ptq of both models with and without activation
// quantization, the weight histogram of one layer. Writes into --output_dir:
// results.json, results.md (with the paper's reported numbers where there are
// any), accuracy.svg, qmse.svg, training.svg, histogram/histogram.svg,
// commands.sh and each stage's directory.
//
//   bazel run //experiments:quant_vs_bits -- --budget=short --data_dir=../shared/data
//   bazel run //experiments:quant_vs_bits -- --budget=short --psg_bits=3   # paper Table 4 (W3)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "experiments/budget.h"
#include "experiments/common_flags.h"
#include "experiments/machine.h"
#include "experiments/protocol.h"
#include "experiments/result_json.h"
#include "experiments/svg_plot.h"

ABSL_FLAG(std::string, budget, "short", "smoke, short or paper (experiments/budget.h)");
ABSL_FLAG(int, psg_bits, 4, "the bit-width PSGD trains towards");
ABSL_FLAG(double, psg_lambda, 150.0, "PSGD lambda_s");
ABSL_FLAG(std::string, eval_bits, "8,6,4,3,2", "weight bit-widths to quantize to");
ABSL_FLAG(std::string, histogram_layer, "layer2.0.conv1.weight", "layer of the weight histogram");
ABSL_FLAG(int, seed, 1, "seed of both training stages");
ABSL_FLAG(std::string, output_dir, "", "run directory (default runs/quant_vs_bits_<budget>_w<bits>)");

namespace psg::experiments {
namespace {

// The value or a runtime_error naming what was being read.
template <typename T>
T OrThrow(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) throw std::runtime_error(absl::StrCat(what, ": ", v.status().message()));
  return *std::move(v);
}

// One model's rounding results from a ptq.json.
struct Rounded {
  double fp = 0;
  std::map<int, double> accuracy;  // by weight bits
  std::map<int, double> mse;       // size-weighted mean over quantized layers, by bits
};

Rounded ReadPtq(const std::string& path) {
  const JsonValue json = OrThrow(ReadJsonFile(path), path);
  Rounded r;
  for (const JsonValue& row : *OrThrow(json.ArrayAt("results"), path)) {
    const int bits = static_cast<int>(OrThrow(row.NumberAt("weight_bits"), path));
    const double accuracy = OrThrow(row.NumberAt("test_accuracy"), path);
    if (bits == 0) {
      r.fp = accuracy;
      continue;
    }
    r.accuracy[bits] = accuracy;
    double sum = 0, size = 0;
    for (const JsonValue& layer : *OrThrow(row.ArrayAt("layers"), path)) {
      const double n = OrThrow(layer.NumberAt("size"), path);
      sum += n * OrThrow(layer.NumberAt("mse"), path);
      size += n;
    }
    r.mse[bits] = size > 0 ? sum / size : 0;
  }
  return r;
}

// Test accuracy (%) after each epoch of a training stage's metrics.jsonl.
Series TrainingCurve(const std::string& name, const std::string& stage_dir, int64_t first_epoch) {
  Series s{name, {}, {}};
  const std::string path = stage_dir + "/metrics.jsonl";
  for (const JsonValue& line : OrThrow(ReadJsonLinesFile(path), path)) {
    const double epoch = OrThrow(line.NumberAt("epoch"), path);
    if (epoch == 0) continue;  // the starting point, logged by PSGD runs
    s.x.push_back(first_epoch + epoch);
    s.y.push_back(100 * OrThrow(line.NumberAt("test_accuracy"), path));
  }
  return s;
}

std::string AccuracyRow(const std::string& name, const Rounded& r, const std::vector<int>& bits) {
  std::string row = absl::StrFormat("| %s | %.2f |", name, 100 * r.fp);
  for (int b : bits) absl::StrAppendFormat(&row, " %.2f |", 100 * r.accuracy.at(b));
  return row + "\n";
}

std::string Json(const Rounded& r) {
  std::string out = absl::StrFormat("{\"fp\": %.6f, \"accuracy\": {", r.fp);
  std::vector<std::string> items;
  for (const auto& [b, a] : r.accuracy) items.push_back(absl::StrFormat("\"%d\": %.6f", b, a));
  absl::StrAppend(&out, absl::StrJoin(items, ", "), "}, \"mse\": {");
  items.clear();
  for (const auto& [b, m] : r.mse) items.push_back(absl::StrFormat("\"%d\": %.6g", b, m));
  return absl::StrCat(out, absl::StrJoin(items, ", "), "}}");
}

// The paper's reported numbers for this setting (psg-method.md section 5),
// as table lines; empty where it reports none.
std::string PaperNumbers(const std::string& dataset, const std::string& model, int psg_bits) {
  if (psg_bits != 4) return "";
  if (dataset == "cifar100" && model == "resnet32") {
    return "| paper: SGD (150 epochs) | 70.97 | | | | | |\n"
           "| paper: PSGD@W4 (released recipe) | 70.08 | | | 69.57 | | |\n";
  }
  if (dataset == "cifar10") return "| paper (secondary source): PSGD@W4 | | | | 91.03 | | |\n";
  return "";
}

// "--name=value" for each shared flag not at its default, for the commands.
std::vector<std::string> ChangedFlags(const std::vector<const char*>& names) {
  std::vector<std::string> out;
  for (const char* name : names) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      out.push_back(absl::StrCat("--", name, "=", flag->CurrentValue()));
    }
  }
  return out;
}

int Run(const std::string& command_line) {
  ApplyThreadsFlag();  // the machine description reports the stages' threads
  const Budget budget = OrThrow(ParseBudget(absl::GetFlag(FLAGS_budget)), "--budget");
  Recipe recipe = RecipeFor(budget);
  for (auto* stage_flags : {&recipe.sgd, &recipe.psgd}) {
    stage_flags->push_back(absl::StrCat("--seed=", absl::GetFlag(FLAGS_seed)));
  }
  const int psg_bits = absl::GetFlag(FLAGS_psg_bits);
  const std::string model = absl::GetFlag(FLAGS_model);
  const std::string dataset = absl::GetFlag(FLAGS_dataset);
  std::vector<int> bits;
  for (absl::string_view b : absl::StrSplit(absl::GetFlag(FLAGS_eval_bits), ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(b, &value) || value < 2 || value > 8) {
      return Fail(absl::StrCat("--eval_bits: '", b, "' is not a bit-width in 2..8"));
    }
    bits.push_back(value);
  }
  std::string run_dir = UserPath(absl::GetFlag(FLAGS_output_dir));
  if (run_dir.empty()) {
    run_dir = UserPath(absl::StrCat("runs/quant_vs_bits_", BudgetName(budget), "_w", psg_bits));
  }
  Protocol protocol(run_dir,
                    ChangedFlags({"model", "dataset", "data_dir", "shortcut", "threads", "workers"}));
  std::printf("quant_vs_bits, budget %s: %s on %s, PSGD towards %d bits, in %s\n",
              BudgetName(budget), model.c_str(), dataset.c_str(), psg_bits, run_dir.c_str());

  const std::string psgd_init = SgdStage(protocol, recipe);
  const std::string sgd_dir = run_dir + "/sgd";
  const std::string psgd_name = absl::StrCat("psgd_w", psg_bits);
  const std::string psgd_dir = PsgdStage(
      protocol, recipe, psgd_name, psgd_init,
      {"--psg_target=grid", absl::StrCat("--psg_bits=", psg_bits),
       absl::StrCat("--psg_lambda=", absl::GetFlag(FLAGS_psg_lambda))});
  std::map<std::string, Rounded> weights, weights_and_activations;
  const std::vector<std::pair<std::string, std::string>> models = {{"SGD", sgd_dir},
                                                                   {"PSGD@W" + std::to_string(psg_bits), psgd_dir}};
  for (const auto& [name, dir] : models) {
    const std::string stage = dir.substr(dir.rfind('/') + 1);
    std::vector<std::string> args = {"--checkpoint=" + dir + "/last.safetensors",
                                     "--bits=" + absl::GetFlag(FLAGS_eval_bits)};
    args.insert(args.end(), recipe.eval.begin(), recipe.eval.end());
    weights[name] = ReadPtq(protocol.Stage("ptq_" + stage, "ptq", args, "ptq.json") + "/ptq.json");
    args.push_back("--act_bits=same");
    weights_and_activations[name] =
        ReadPtq(protocol.Stage("ptq_act_" + stage, "ptq", args, "ptq.json") + "/ptq.json");
  }
  protocol.Stage("histogram", "weight_histogram",
                 {absl::StrCat("--checkpoints=SGD=", sgd_dir, "/last.safetensors,PSGD=", psgd_dir,
                               "/last.safetensors"),
                  "--layer=" + absl::GetFlag(FLAGS_histogram_layer),
                  absl::StrCat("--bits=", psg_bits)},
                 "histogram.svg");

  // Tables laid out as the paper's: one row per model, FP then each bit-width.
  std::string header = "| model | FP |";
  std::string rule = "|---|---|";
  for (int b : bits) {
    absl::StrAppend(&header, " W", b, " |");
    rule += "---|";
  }
  std::string md = absl::StrFormat(
      "# Accuracy vs bit-width: %s on %s, budget %s\n\nTest accuracy (%%) after rounding the "
      "trained weights to b bits (released protocol: per tensor, symmetric, first and last "
      "layer at 8 bits below 4), no fine-tuning.\n\n## Weights only (WbA32)\n\n%s\n%s\n",
      model, dataset, BudgetName(budget), header, rule);
  for (const auto& [name, dir] : models) md += AccuracyRow(name, weights.at(name), bits);
  md += PaperNumbers(dataset, model, psg_bits);
  absl::StrAppend(&md, "\n## Weights and ReLU outputs (WbAb)\n\n", header, "\n", rule, "\n");
  for (const auto& [name, dir] : models) md += AccuracyRow(name, weights_and_activations.at(name), bits);
  absl::StrAppend(&md, "\n## Weight quantization MSE (size-weighted mean over layers)\n\n| model |");
  for (int b : bits) absl::StrAppend(&md, " W", b, " |");
  absl::StrAppend(&md, "\n", rule.substr(4), "\n");
  for (const auto& [name, dir] : models) {
    absl::StrAppend(&md, "| ", name, " |");
    for (int b : bits) absl::StrAppendFormat(&md, " %.3g |", weights.at(name).mse.at(b));
    md += "\n";
  }
  absl::StrAppend(&md, "\nCommand: `", command_line, "` (seed ", absl::GetFlag(FLAGS_seed),
                  "); every stage's command is in commands.sh. Machine: ", MachineJson(), "\n");

  // Plots.
  std::vector<Series> accuracy, mse;
  std::vector<double> ticks(bits.begin(), bits.end());
  std::sort(ticks.begin(), ticks.end());
  for (const auto& [name, dir] : models) {
    for (const auto& [label, results] :
         {std::pair{"", &weights}, std::pair{" (with activations)", &weights_and_activations}}) {
      Series s{name + label, {}, {}};
      for (const auto& [b, a] : results->at(name).accuracy) {
        s.x.push_back(b);
        s.y.push_back(100 * a);
      }
      accuracy.push_back(s);
    }
    Series m{name, {}, {}};
    for (const auto& [b, value] : weights.at(name).mse) {
      m.x.push_back(b);
      m.y.push_back(std::max(value, 1e-12));  // a log axis: an exact grid model can reach 0
    }
    mse.push_back(m);
  }
  const int sgd_epochs = static_cast<int>(TrainingCurve("SGD", sgd_dir, 0).x.size());
  const int64_t start_epoch = recipe.psgd_start_step > 0 ? recipe.psgd_start_epoch : sgd_epochs;
  WriteSvg(run_dir + "/accuracy.svg",
           LinePlotSvg(accuracy, {.title = "Test accuracy after rounding, no fine-tuning",
                                  .x_label = "bits", .y_label = "test accuracy (%)",
                                  .x_ticks = ticks, .width = 760}));
  WriteSvg(run_dir + "/qmse.svg",
           LinePlotSvg(mse, {.title = "Weight quantization MSE", .x_label = "bits",
                             .y_label = "MSE", .log_y = true, .x_ticks = ticks}));
  WriteSvg(run_dir + "/training.svg",
           LinePlotSvg({TrainingCurve("SGD", sgd_dir, 0),
                        TrainingCurve("PSGD@W" + std::to_string(psg_bits), psgd_dir, start_epoch)},
                       {.title = "Test accuracy during training", .x_label = "epoch",
                        .y_label = "test accuracy (%)"}));

  std::string json = absl::StrFormat(
      "{\"experiment\": \"quant_vs_bits\", \"budget\": \"%s\", \"model\": \"%s\", "
      "\"dataset\": \"%s\", \"psg_bits\": %d, \"seed\": %d, \"command\": \"%s\", "
      "\"machine\": %s, \"weights_only\": {",
      BudgetName(budget), model, dataset, psg_bits, absl::GetFlag(FLAGS_seed),
      absl::StrReplaceAll(command_line, {{"\\", "\\\\"}, {"\"", "\\\""}}),
      MachineJson());
  std::vector<std::string> items;
  for (const auto& [name, r] : weights) items.push_back(absl::StrCat("\"", name, "\": ", Json(r)));
  absl::StrAppend(&json, absl::StrJoin(items, ", "), "}, \"weights_and_activations\": {");
  items.clear();
  for (const auto& [name, r] : weights_and_activations) {
    items.push_back(absl::StrCat("\"", name, "\": ", Json(r)));
  }
  absl::StrAppend(&json, absl::StrJoin(items, ", "), "}}\n");
  const absl::Status written =
      WriteResultFiles(run_dir, {{"results.json", json}, {"results.md", md}});
  if (!written.ok()) return Fail(written.message());
  std::printf("\n%s\nwrote %s/results.json, results.md and plots (*.svg)\n", md.c_str(),
              run_dir.c_str());
  return 0;
}

std::string command_line;  // for the result files

int RunWithCommandLine() { return Run(command_line); }

}  // namespace
}  // namespace psg::experiments

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  args[0] = "bazel run //experiments:quant_vs_bits --";
  psg::experiments::command_line = absl::StrJoin(args, " ");
  return psg::experiments::RunCommand(
      argc, argv, "Accuracy vs bit-width of SGD and PSGD models (paper Fig. 1, Table A1).",
      psg::experiments::RunWithCommandLine);
}
