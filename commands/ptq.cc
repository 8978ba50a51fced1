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
// --ptq_method picks the post-training method: plain rounding (the released
// protocol), DFQ (quant/dfq.h: BN folding, cross-layer equalization, bias
// absorption and correction, no data) or LAPQ (quant/lapq.h: per-tensor clips
// for weights and activations searched on the loss of --lapq_images training
// images).
//
//   bazel run //experiments:ptq -- --checkpoint=runs/r20/last.safetensors
//       --bits=8,6,4,3,2 [--act_bits=same|N] [--granularity=channel] [--calibrator=mse]
//       [--ptq_method=round|dfq|lapq]
//
// Writes <output_dir>/ptq.json and ptq.md (default output_dir: <checkpoint
// dir>/ptq, or ptq_dfq, ptq_lapq).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/model_loading.h"
#include "cli/output_dir_flag.h"
#include "cli/ptq_flags.h"
#include "data/datasets.h"
#include "engine/parameter_snapshot.h"
#include "flags/enum_flag.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "io/json_writer.h"
#include "pipeline/ptq_network.h"
#include "quant/dfq.h"
#include "quant/lapq.h"
#include "quant/weight_ptq.h"
#include "report/svg_plot.h"
#include "train/batches.h"
#include "train/trainer.h"

ABSL_FLAG(std::vector<std::string>, bits, std::vector<std::string>({"8", "6", "4", "3", "2"}),
          "weight bit-widths, 2..8");
namespace psg::commands {
enum class PtqMethod { kRound, kDfq, kLapq };
inline constexpr flags::EnumName<PtqMethod> kPtqMethodNames[] = {
    {"round", PtqMethod::kRound}, {"dfq", PtqMethod::kDfq}, {"lapq", PtqMethod::kLapq}};
PSG_ENUM_FLAG(PtqMethod, kPtqMethodNames)
}  // namespace psg::commands

ABSL_FLAG(psg::commands::PtqMethod, ptq_method, psg::commands::PtqMethod::kRound,
          "round (the released protocol), dfq (data-free quantization) or lapq (loss-aware clips)");
ABSL_FLAG(int64_t, lapq_images, 512, "--ptq_method=lapq: training images (no augmentation) of the loss");
PSG_FLAG_RANGE(lapq_images, psg::flags::AtLeast(1));
ABSL_FLAG(int, lapq_evaluations, 1000, "--ptq_method=lapq: loss evaluations of Powell's search, at most");
PSG_FLAG_RANGE(lapq_evaluations, psg::flags::AtLeast(10));

namespace {

using psg::cli::ExistingCheckpoint;
using psg::cli::Fail;
using psg::cli::OutputDirFor;
using psg::cli::WriteResultFiles;
using psg::commands::PtqMethod;
using psg::io::Json;

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
  std::optional<psg::quant::LapqResult> lapq;
};

// LAPQ's clips for the covered weights (at their coverage bit-widths) and
// every activation quantizer, on the loss of the first --lapq_images
// training images; the model is left quantized. Layer errors as
// QuantizeWeights reports them.
absl::StatusOr<psg::quant::LapqResult> RunLapq(psg::pipeline::PtqNetwork& net,
                                               const psg::quant::WeightPtqOptions& options,
                                               const psg::data::Dataset& calibration,
                                               std::vector<psg::quant::LayerError>* layers) {
  std::vector<psg::quant::LapqWeight> weights;
  for (const psg::quant::WeightQuantizer& q : psg::quant::PlanWeightQuantization(net.params, options)) {
    weights.push_back({q.param, q.quantizer.spec().bits});
  }
  std::vector<psg::quant::LapqActivation> activations;
  for (psg::quant::FakeQuantActivation* a : net.activations) activations.push_back({a, a->samples()});
  psg::quant::LossAwareQuantization lapq(weights, activations);
  absl::Status failed;
  auto loss = [&]() -> double {
    auto eval = psg::train::Evaluate(*net.model, calibration, absl::GetFlag(FLAGS_batch_size),
                                     absl::GetFlag(FLAGS_lapq_images), absl::GetFlag(FLAGS_workers));
    if (!eval.ok()) {
      failed = eval.status();
      return 0;
    }
    return eval->loss;
  };
  psg::quant::LapqOptions lapq_options;
  lapq_options.powell.max_evaluations = absl::GetFlag(FLAGS_lapq_evaluations);
  psg::quant::LapqResult result = lapq.Run(loss, lapq_options);
  if (!failed.ok()) return failed;
  for (size_t j = 0; j < weights.size(); ++j) {
    layers->push_back({weights[j].param->name, weights[j].bits, weights[j].param->value.numel(),
                       result.weight_mse[j]});
  }
  return result;
}

Json ResultJson(const Json& flags, const std::vector<Outcome>& outcomes) {
  Json results = Json::array();
  for (const Outcome& o : outcomes) {
    Json layers = Json::array();
    for (const psg::quant::LayerError& l : o.layers) {
      layers.push_back({{"name", l.name}, {"bits", l.bits}, {"size", l.size}, {"mse", l.mse}});
    }
    Json result = {{"setting", o.setting.label()},
                   {"weight_bits", o.setting.weight_bits},
                   {"act_bits", o.setting.act_bits},
                   {"test_accuracy", o.eval.accuracy},
                   {"test_loss", o.eval.loss}};
    if (o.lapq) {
      result["lapq"] = {{"p", o.lapq->p},
                        {"rounding_loss", o.lapq->rounding_loss},
                        {"lp_loss", o.lapq->lp_loss},
                        {"final_loss", o.lapq->final_loss},
                        {"loss_evaluations", o.lapq->loss_evaluations},
                        {"sweeps", o.lapq->sweeps}};
    }
    result["layers"] = layers;
    results.push_back(result);
  }
  return {{"flags", flags}, {"results", results}};
}

// accuracy.svg: test accuracy vs weight bits, one series per activation
// setting, FP as a flat reference; qmse.svg: the size-weighted mean weight
// quantization MSE vs bits (log scale).
std::vector<std::pair<std::string, std::string>> ResultPlots(const std::vector<Outcome>& outcomes) {
  std::map<int, psg::report::Series> accuracy;  // by activation bits
  std::map<int, double> mse_by_bits;  // the weights' error does not depend on activations
  double fp = 0;
  for (const Outcome& o : outcomes) {
    if (o.setting.weight_bits == 0) {
      fp = o.eval.accuracy;
      continue;
    }
    psg::report::Series& series = accuracy[o.setting.act_bits];
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
  std::vector<psg::report::Series> series = {{"FP", {}, {}}};
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
  plots.push_back({"accuracy.svg", psg::report::LinePlotSvg(
      series, {.title = "Test accuracy after rounding", .x_label = "weight bits",
               .y_label = "test accuracy (%)", .x_ticks = series[0].x})});
  psg::report::Series mse{"weights", {}, {}};
  for (const auto& [b, value] : mse_by_bits) {
    mse.x.push_back(b);
    mse.y.push_back(value);
  }
  if (std::all_of(mse.y.begin(), mse.y.end(), [](double v) { return v > 0; })) {
    plots.push_back({"qmse.svg", psg::report::LinePlotSvg(
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
  const PtqMethod method = absl::GetFlag(FLAGS_ptq_method);
  const std::string output_dir = OutputDirFor(
      absl::GetFlag(FLAGS_output_dir), checkpoint,
      method == PtqMethod::kRound ? "ptq"
                                  : absl::StrCat("ptq_", absl::UnparseFlag(absl::GetFlag(FLAGS_ptq_method))));
  if (absl::Status s = psg::io::CheckWritableDirectory(output_dir); !s.ok()) return Fail(s.message());
  psg::cli::SetUpThreads();

  std::vector<Setting> settings = {{}};
  const absl::StatusOr<std::vector<int>> weight_bits =
      psg::flags::ParseIntegers("bits", absl::GetFlag(FLAGS_bits), psg::cli::kBitWidths);
  if (!weight_bits.ok()) return Fail(weight_bits.status().message());
  for (const int bits : *weight_bits) {
    absl::StatusOr<int> act = psg::cli::ActBitsFromFlag(bits);
    if (!act.ok()) return Fail(act.status().message());
    settings.push_back({bits, *act});
  }
  if (settings.size() == 1) return Fail("--bits: give at least one bit-width");

  absl::StatusOr<psg::quant::WeightPtqOptions> weight_options = psg::cli::WeightPtqOptionsFromFlags();
  if (!weight_options.ok()) return Fail(weight_options.status().message());
  psg::quant::WeightPtqOptions& wo = *weight_options;
  absl::StatusOr<psg::pipeline::ActRange> act_range = psg::cli::ActRangeFromFlags();
  if (!act_range.ok()) return Fail(act_range.status().message());
  if (method == PtqMethod::kLapq) {
    if (wo.spec.per_channel || wo.spec.range != psg::compression::GridRange::kRestricted ||
        wo.spec.rounding != psg::quant::Rounding::kHalfEven ||
        wo.calibrator != psg::quant::WeightCalibrator::kExact || wo.ocs_expand_ratio > 0) {
      return Fail("--ptq_method=lapq searches its own per-tensor clips on the restricted symmetric grid with "
                  "half-even rounding: leave --granularity, --range, --rounding, --calibrator and "
                  "--ocs_expand_ratio at their defaults");
    }
    act_range->samples_per_batch = 1 << 14;  // 131k samples per activation over 8 batches
  }
  if (method == PtqMethod::kDfq && wo.ocs_expand_ratio > 0) {
    return Fail("--ptq_method=dfq and --ocs_expand_ratio are separate baselines: give one");
  }
  const psg::quant::DfqOptions dfq_options;

  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto model_options = psg::cli::ModelOptionsFromFlags(**data);
  if (!model_options.ok()) return Fail(model_options.status().message());
  const psg::models::ModelOptions& mo = *model_options;

  const int batch = absl::GetFlag(FLAGS_batch_size);
  std::map<int, psg::pipeline::PtqNetwork> networks;  // by activation bit-width
  std::vector<Outcome> outcomes;
  for (const Setting& s : settings) {
    if (!networks.count(s.act_bits)) {
      auto network = psg::pipeline::LoadPtqNetwork(mo, checkpoint, psg::cli::CheckpointChecks(mo.name),
                                                   s.act_bits, *act_range, *(*data)->train_unaugmented,
                                                   psg::cli::CalibrationPassFromFlags(),
                                                   method == PtqMethod::kDfq ? &dfq_options : nullptr);
      if (!network.ok()) return Fail(network.status().message());
      if (network->dfq) {
        const psg::quant::DfqSummary& d = network->dfq->summary();
        std::printf("DFQ: %d batch norms folded, %d pairs equalized (%d sweeps), %d biases absorbed, "
                    "%d layers bias-corrected\n", d.folded, d.equalized_pairs, d.sweeps, d.absorbed_pairs,
                    d.corrected);
      }
      networks.emplace(s.act_bits, std::move(*network));
    }
    psg::pipeline::PtqNetwork& net = networks.at(s.act_bits);
    const psg::engine::WeightSnapshot fp_weights(net.params);
    std::vector<float> act_ranges;
    for (const psg::quant::FakeQuantActivation* a : net.activations) act_ranges.push_back(a->range());
    Outcome o{s, {}, {}, std::nullopt};
    if (s.weight_bits > 0) {
      wo.spec.bits = s.weight_bits;
      if (method == PtqMethod::kLapq) {
        absl::StatusOr<psg::quant::LapqResult> lapq = RunLapq(net, wo, *(*data)->train_unaugmented, &o.layers);
        if (!lapq.ok()) return Fail(lapq.status().message());
        std::printf("%-6s LAPQ: p = %g, calibration loss %.4f (rounding) -> %.4f (Lp clips) -> %.4f "
                    "(%d evaluations)\n", s.label().c_str(), lapq->p, lapq->rounding_loss, lapq->lp_loss,
                    lapq->final_loss, lapq->loss_evaluations);
        o.lapq = std::move(*lapq);
      } else {
        o.layers = psg::quant::QuantizeWeights(net.params, wo);
        if (net.dfq) net.dfq->CorrectBias();
      }
    }
    auto eval = psg::train::Evaluate(*net.model, *(*data)->test, batch, absl::GetFlag(FLAGS_max_eval_images),
                                     absl::GetFlag(FLAGS_workers));
    fp_weights.Restore();
    for (size_t j = 0; j < act_ranges.size(); ++j) net.activations[j]->set_range(act_ranges[j]);
    if (!eval.ok()) return Fail(eval.status().message());
    o.eval = *eval;
    std::printf("%-6s test accuracy %.2f %%  (loss %.4f, %lld images)\n", s.label().c_str(),
                100 * o.eval.accuracy, o.eval.loss, static_cast<long long>(o.eval.images));
    std::fflush(stdout);
    outcomes.push_back(std::move(o));
  }

  const Json flags = {{"checkpoint", checkpoint},
                      {"model", mo.name},
                      {"dataset", absl::GetFlag(FLAGS_dataset)},
                      {"evaluated_on", (*data)->evaluation_set},
                      {"act_bits", absl::GetFlag(FLAGS_act_bits)},
                      {"granularity", absl::UnparseFlag(absl::GetFlag(FLAGS_granularity))},
                      {"range", absl::UnparseFlag(absl::GetFlag(FLAGS_range))},
                      {"rounding", absl::UnparseFlag(absl::GetFlag(FLAGS_rounding))},
                      {"calibrator", absl::UnparseFlag(absl::GetFlag(FLAGS_calibrator))},
                      {"first_last", wo.coverage.cover_first_last},
                      {"widen_first_last", wo.coverage.widen_first_last},
                      {"calibration_batches", absl::GetFlag(FLAGS_calibration_batches)},
                      {"act_range", absl::UnparseFlag(absl::GetFlag(FLAGS_act_range))},
                      {"act_range_momentum", absl::GetFlag(FLAGS_act_range_momentum)},
                      {"act_clip_n", absl::GetFlag(FLAGS_act_clip_n)},
                      {"ocs_expand_ratio", wo.ocs_expand_ratio},
                      {"ptq_method", absl::UnparseFlag(absl::GetFlag(FLAGS_ptq_method))},
                      {"lapq_images", absl::GetFlag(FLAGS_lapq_images)},
                      {"lapq_evaluations", absl::GetFlag(FLAGS_lapq_evaluations)},
                      {"threads", omp_get_max_threads()}};
  const std::string table = ResultTable(outcomes);
  std::vector<std::pair<std::string, std::string>> files = {
      {"ptq.json", psg::io::JsonText(ResultJson(flags, outcomes))}, {"ptq.md", table}};
  for (auto& plot : ResultPlots(outcomes)) files.push_back(std::move(plot));
  const absl::Status written = WriteResultFiles(output_dir, files);
  if (!written.ok()) return Fail(written.message());
  std::printf("\n%s\nwrote %s/ptq.json, ptq.md and plots (*.svg)\n", table.c_str(), output_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "Post-training quantization of a checkpoint: accuracy per bit-width.", Run);
}
