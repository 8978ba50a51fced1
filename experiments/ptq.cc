// Post-training quantization of a trained checkpoint, no fine-tuning: the FP
// test accuracy, then the accuracy with the weights (and optionally the ReLU
// outputs) quantized at each bit-width, and each quantized layer's weight MSE.
// The default is the released evaluation protocol: per-tensor symmetric
// weights (-qmax..qmax) from the exact max, first/last layer at 8 bits when
// b < 4, BN not folded, no calibration data for weights; activations
// (--act_bits) unsigned on every ReLU output, their range the released
// running max (momentum 0.1) over --calibration_batches training batches (no
// augmentation; the released code ran it over the test batches themselves),
// or the exact max, or the batch-norm rule (--act_range).
//
//   bazel run //experiments:ptq -- --checkpoint=runs/r20/last.safetensors
//       --bits=8,6,4,3,2 [--act_bits=same|N] [--granularity=channel] [--calibrator=mse]
//
// Writes <output_dir>/ptq.json and ptq.md (default output_dir: <checkpoint dir>/ptq).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/parameter_snapshot.h"
#include "experiments/common_flags.h"
#include "experiments/ptq_flags.h"
#include "experiments/ptq_network.h"
#include "experiments/svg_plot.h"
#include "quant/weight_ptq.h"
#include "train/batches.h"
#include "train/datasets.h"
#include "train/trainer.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint to quantize (required)");
ABSL_FLAG(std::vector<std::string>, bits, std::vector<std::string>({"8", "6", "4", "3", "2"}),
          "weight bit-widths, 2..8");
ABSL_FLAG(int64_t, max_eval_images, 0, "evaluate on the first N test images only (0: all)");
ABSL_FLAG(std::string, output_dir, "", "where ptq.json and ptq.md go (default <checkpoint dir>/ptq)");

namespace {

using psg::experiments::ExistingCheckpoint;
using psg::experiments::Fail;
using psg::experiments::OutputDirFor;
using psg::experiments::WriteResultFiles;

struct Setting {
  int weight_bits = 0;  // 0: FP weights
  int act_bits = 0;     // 0: FP activations
  std::string label() const {
    if (weight_bits == 0) return "FP";
    return act_bits == 0 ? absl::StrCat("W", weight_bits) : absl::StrCat("W", weight_bits, "A", act_bits);
  }
};

struct Outcome {
  Setting setting;
  psg::train::Evaluation eval;
  std::vector<psg::quant::LayerError> layers;
};

std::string ResultJson(const std::string& flags_json, const std::vector<Outcome>& outcomes) {
  std::string json = absl::StrCat("{\"flags\": ", flags_json, ", \"results\": [");
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    absl::StrAppendFormat(&json, "%s\n  {\"setting\": \"%s\", \"weight_bits\": %d, \"act_bits\": %d, "
                          "\"test_accuracy\": %.6f, \"test_loss\": %.6f, \"layers\": [",
                          i ? "," : "", o.setting.label(), o.setting.weight_bits, o.setting.act_bits,
                          o.eval.accuracy, o.eval.loss);
    for (size_t j = 0; j < o.layers.size(); ++j) {
      absl::StrAppendFormat(&json, "%s{\"name\": \"%s\", \"bits\": %d, \"size\": %d, \"mse\": %.6g}",
                            j ? ", " : "", o.layers[j].name, o.layers[j].bits, o.layers[j].size,
                            o.layers[j].mse);
    }
    json += "]}";
  }
  return json + "\n]}\n";
}

// accuracy.svg: test accuracy vs weight bits, one series per activation
// setting, FP as a flat reference; qmse.svg: the size-weighted mean weight
// quantization MSE vs bits (log scale).
std::vector<std::pair<std::string, std::string>> ResultPlots(const std::vector<Outcome>& outcomes) {
  std::map<int, psg::experiments::Series> accuracy;  // by activation bits
  std::map<int, double> mse_by_bits;  // the weights' error does not depend on activations
  double fp = 0;
  for (const Outcome& o : outcomes) {
    if (o.setting.weight_bits == 0) {
      fp = o.eval.accuracy;
      continue;
    }
    psg::experiments::Series& series = accuracy[o.setting.act_bits];
    series.name = o.setting.act_bits == 0 ? "weights quantized"
                                          : absl::StrCat("weights and activations (A", o.setting.act_bits, ")");
    series.x.push_back(o.setting.weight_bits);
    series.y.push_back(100 * o.eval.accuracy);
    double sum = 0, size = 0;
    for (const psg::quant::LayerError& e : o.layers) {
      sum += e.mse * e.size;
      size += e.size;
    }
    mse_by_bits[o.setting.weight_bits] = sum / size;
  }
  std::vector<std::pair<std::string, std::string>> plots;
  if (accuracy.empty()) return plots;
  std::vector<psg::experiments::Series> series = {{"FP", {}, {}}};
  for (auto& [act, s] : accuracy) {
    for (double b : s.x) {
      series[0].x.push_back(b);
      series[0].y.push_back(100 * fp);
    }
    series.push_back(s);
  }
  std::sort(series[0].x.begin(), series[0].x.end());
  series[0].x.erase(std::unique(series[0].x.begin(), series[0].x.end()), series[0].x.end());
  series[0].y.resize(series[0].x.size());
  plots.push_back({"accuracy.svg", psg::experiments::LinePlotSvg(
      series, {.title = "Test accuracy after rounding", .x_label = "weight bits",
               .y_label = "test accuracy (%)", .x_ticks = series[0].x})});
  psg::experiments::Series mse{"weights", {}, {}};
  for (const auto& [b, value] : mse_by_bits) {
    mse.x.push_back(b);
    mse.y.push_back(value);
  }
  if (std::all_of(mse.y.begin(), mse.y.end(), [](double v) { return v > 0; })) {
    plots.push_back({"qmse.svg", psg::experiments::LinePlotSvg(
        {mse}, {.title = "Weight quantization MSE (size-weighted mean over layers)",
                .x_label = "weight bits", .y_label = "MSE", .log_y = true, .x_ticks = mse.x})});
  }
  return plots;
}

std::string ResultTable(const std::vector<Outcome>& outcomes) {
  std::string md = "| setting | test accuracy | change vs FP |\n|---|---|---|\n";
  const double fp = outcomes.front().eval.accuracy;
  for (const Outcome& o : outcomes) {
    absl::StrAppendFormat(&md, "| %s | %.2f %% | %+.2f |\n", o.setting.label(), 100 * o.eval.accuracy,
                          100 * (o.eval.accuracy - fp));
  }
  if (outcomes.size() < 2) return md;
  md += "\nPer-layer weight quantization MSE:\n\n| layer |";
  std::string rule = "|---|";
  for (size_t i = 1; i < outcomes.size(); ++i) {
    absl::StrAppend(&md, " ", outcomes[i].setting.label(), " |");
    rule += "---|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (size_t j = 0; j < outcomes[1].layers.size(); ++j) {
    absl::StrAppend(&md, "| ", outcomes[1].layers[j].name, " |");
    for (size_t i = 1; i < outcomes.size(); ++i) {
      const psg::quant::LayerError& e = outcomes[i].layers[j];
      absl::StrAppendFormat(&md, " %.3g (%d b) |", e.mse, e.bits);
    }
    md += "\n";
  }
  return md;
}

int Run() {
  const absl::StatusOr<std::string> checkpoint_path = ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint_path.ok()) return Fail(checkpoint_path.status().message());
  const std::string& checkpoint = *checkpoint_path;
  const std::string output_dir = OutputDirFor(absl::GetFlag(FLAGS_output_dir), checkpoint, "ptq");
  psg::experiments::SetUpThreads();

  std::vector<Setting> settings = {{}};
  for (const std::string& text : absl::GetFlag(FLAGS_bits)) {
    absl::StatusOr<int> bits = psg::experiments::ParseBitWidth("bits", text);
    if (!bits.ok()) return Fail(bits.status().message());
    absl::StatusOr<int> act = psg::experiments::ActBitsFromFlag(*bits);
    if (!act.ok()) return Fail(act.status().message());
    settings.push_back({*bits, *act});
  }
  if (settings.size() == 1) return Fail("--bits: give at least one bit-width");

  absl::StatusOr<psg::quant::WeightPtqOptions> weight_options = psg::experiments::WeightPtqOptionsFromFlags();
  if (!weight_options.ok()) return Fail(weight_options.status().message());
  psg::quant::WeightPtqOptions& wo = *weight_options;
  const absl::StatusOr<psg::experiments::ActRange> act_range = psg::experiments::ActRangeFromFlags();
  if (!act_range.ok()) return Fail(act_range.status().message());

  auto data = psg::experiments::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto model_options = psg::experiments::ModelOptionsFromFlags((*data)->num_classes);
  if (!model_options.ok()) return Fail(model_options.status().message());
  const psg::models::ModelOptions& mo = *model_options;

  const int batch = absl::GetFlag(FLAGS_batch_size);
  std::map<int, psg::experiments::PtqNetwork> networks;  // by activation bit-width
  std::vector<Outcome> outcomes;
  for (const Setting& s : settings) {
    if (!networks.count(s.act_bits)) {
      auto network = psg::experiments::LoadPtqNetwork(mo, checkpoint, s.act_bits, *act_range,
                                                      *(*data)->train_unaugmented,
                                                      psg::experiments::CalibrationPassFromFlags());
      if (!network.ok()) return Fail(network.status().message());
      networks.emplace(s.act_bits, std::move(*network));
    }
    psg::experiments::PtqNetwork& net = networks.at(s.act_bits);
    const psg::engine::WeightSnapshot fp_weights(net.params);
    Outcome o{s, {}, {}};
    if (s.weight_bits > 0) {
      wo.spec.bits = s.weight_bits;
      o.layers = psg::quant::QuantizeWeights(net.params, wo);
    }
    auto eval = psg::train::Evaluate(*net.model, *(*data)->test, batch, absl::GetFlag(FLAGS_max_eval_images),
                                     absl::GetFlag(FLAGS_workers));
    fp_weights.Restore();
    if (!eval.ok()) return Fail(eval.status().message());
    o.eval = *eval;
    std::printf("%-6s test accuracy %.2f %%  (loss %.4f, %lld images)\n", s.label().c_str(),
                100 * o.eval.accuracy, o.eval.loss, static_cast<long long>(o.eval.images));
    std::fflush(stdout);
    outcomes.push_back(std::move(o));
  }

  const std::string flags_json = absl::StrFormat(
      "{\"checkpoint\": \"%s\", \"model\": \"%s\", \"dataset\": \"%s\", \"act_bits\": \"%s\", "
      "\"granularity\": \"%s\", \"range\": \"%s\", \"rounding\": \"%s\", \"calibrator\": \"%s\", "
      "\"first_last\": %s, \"widen_first_last\": %s, \"calibration_batches\": %d, "
      "\"act_range\": \"%s\", \"act_range_momentum\": %g, \"act_clip_n\": %g, "
      "\"ocs_expand_ratio\": %g, \"threads\": %d}",
      checkpoint, mo.name, absl::GetFlag(FLAGS_dataset), absl::GetFlag(FLAGS_act_bits),
      absl::GetFlag(FLAGS_granularity),
      absl::GetFlag(FLAGS_range), absl::GetFlag(FLAGS_rounding), absl::GetFlag(FLAGS_calibrator),
      wo.coverage.cover_first_last ? "true" : "false", wo.coverage.widen_first_last ? "true" : "false",
      absl::GetFlag(FLAGS_calibration_batches), absl::GetFlag(FLAGS_act_range), act_range->momentum,
      act_range->n, wo.ocs_expand_ratio, omp_get_max_threads());
  const std::string table = ResultTable(outcomes);
  std::vector<std::pair<std::string, std::string>> files = {
      {"ptq.json", ResultJson(flags_json, outcomes)}, {"ptq.md", table}};
  for (auto& plot : ResultPlots(outcomes)) files.push_back(std::move(plot));
  const absl::Status written = WriteResultFiles(output_dir, files);
  if (!written.ok()) return Fail(written.message());
  std::printf("\n%s\nwrote %s/ptq.json, ptq.md and plots (*.svg)\n", table.c_str(), output_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::experiments::RunCommand(
      argc, argv, "Post-training quantization of a checkpoint: accuracy per bit-width.", Run);
}
