// Exports a checkpoint as an ONNX model (opset 13, interop/onnx_export.h):
// in floating point, or quantized exactly as //experiments:ptq quantizes it
// at the same flags, in QDQ form (integer weights with DequantizeLinear;
// QuantizeLinear/DequantizeLinear on every ReLU output with --act_bits, its
// range set as ptq sets it, --act_range). BN stays a BatchNormalization
// unless --fold_bn folds it into the convolutions (then the folded weights are
// the ones quantized, with the folded biases left in floating point).
//
//   bazel run //experiments:export_onnx -- --checkpoint=runs/r20/last.safetensors
//       --output=r20.onnx [--bits=4 --granularity=channel --act_bits=8 --fold_bn]
//       [--reference_dir=r20_check --reference_images=256]
//
// The model reads "input", float {N, C, H, W}: images normalized as the
// toolkit's loader does, (pixel / 255 - mean[c]) / std[c], with mean and std
// in the file's metadata (psg.input_mean, psg.input_std); it writes "logits".
// --reference_dir also writes the first --reference_images test images as
// that input, their labels and the toolkit's own logits for them (the model
// ptq evaluates at these flags: BN never folded) as images.npy, labels.npy
// and logits.npy (pipeline/logits_dump.h).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/model_loading.h"
#include "cli/ptq_flags.h"
#include "data/datasets.h"
#include "engine/graph.h"
#include "flags/ranges.h"
#include "interop/onnx_export.h"
#include "io/files.h"
#include "pipeline/logits_dump.h"
#include "pipeline/ptq_network.h"
#include "quant/bn_fold.h"
#include "quant/weight_ptq.h"

ABSL_FLAG(std::string, output, "", "the .onnx file to write (required)");
ABSL_FLAG(std::string, bits, "", "weight bit-width 2..8 (empty: floating point)");
ABSL_FLAG(bool, fold_bn, false, "fold batch norms into the convolutions before quantizing");
ABSL_FLAG(std::string, reference_dir, "",
          "also write test images, labels and the toolkit's logits for them here");
ABSL_FLAG(int64_t, reference_images, 256, "test images in --reference_dir (0: all)");
PSG_FLAG_RANGE(reference_images, psg::flags::AtLeast(0));

namespace {

using psg::cli::Fail;

// The folded graph's weights as parameters, so that the coverage policy and
// calibration of ptq apply to them: convolution biases (new from folding)
// stay in floating point, as integer runtimes keep biases wide.
std::map<std::string, psg::quant::TensorQuantizer> FoldedWeightQuantizers(
    const psg::engine::Graph& folded, psg::quant::WeightPtqOptions options) {
  using psg::engine::NodeKind;
  using psg::engine::ParamKind;
  std::vector<psg::engine::Parameter> storage;  // handles to the folded tensors
  for (const psg::engine::Node& node : folded.nodes()) {
    const bool conv = node.kind == NodeKind::kConv;
    if (!conv && node.kind != NodeKind::kLinear) continue;
    storage.push_back({node.name + ".weight", conv ? ParamKind::kConvWeight : ParamKind::kFcWeight,
                       node.weight, {}});
    if (!node.bias.empty()) {
      storage.push_back({node.name + ".bias", conv ? ParamKind::kConvBias : ParamKind::kFcBias, node.bias, {}});
    }
  }
  psg::engine::ParameterList params;
  for (psg::engine::Parameter& p : storage) params.push_back(&p);
  options.coverage.cover_conv_bias = false;
  std::map<std::string, psg::quant::TensorQuantizer> out;
  for (const psg::quant::WeightQuantizer& q : psg::quant::PlanWeightQuantization(params, options)) {
    out.emplace(q.param->name, q.quantizer);
  }
  return out;
}

int Run() {
  const absl::StatusOr<std::string> checkpoint = psg::cli::ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint.ok()) return Fail(checkpoint.status().message());
  const std::string output = psg::cli::UserPath(absl::GetFlag(FLAGS_output));
  if (output.empty()) return Fail("--output is required (the .onnx file to write)");
  if (absl::Status s = psg::cli::CheckOutputFile(output); !s.ok()) return Fail(s.message());
  const std::string reference_dir = psg::cli::UserPath(absl::GetFlag(FLAGS_reference_dir));
  if (!reference_dir.empty()) {
    if (absl::Status s = psg::io::CheckWritableDirectory(reference_dir); !s.ok()) return Fail(s.message());
  }
  int bits = 0;
  if (!absl::GetFlag(FLAGS_bits).empty()) {
    absl::StatusOr<int> parsed = psg::cli::ParseBitWidth("bits", absl::GetFlag(FLAGS_bits));
    if (!parsed.ok()) return Fail(parsed.status().message());
    bits = *parsed;
  }
  absl::StatusOr<int> act_bits = psg::cli::ActBitsFromFlag(bits);
  if (!act_bits.ok()) return Fail(act_bits.status().message());
  if (*act_bits > 0 && bits == 0) return Fail("--act_bits needs --bits (as in //experiments:ptq)");
  absl::StatusOr<psg::quant::WeightPtqOptions> weight_options = psg::cli::WeightPtqOptionsFromFlags();
  if (!weight_options.ok()) return Fail(weight_options.status().message());
  if (bits > 0) weight_options->spec.bits = bits;
  if (weight_options->ocs_expand_ratio > 0) {
    return Fail("--ocs_expand_ratio: outlier channel splitting sums quantized copies of a channel back "
                "together, so its weights are no grid's integer levels; export without it");
  }
  const absl::StatusOr<psg::pipeline::ActRange> act_range = psg::cli::ActRangeFromFlags();
  if (!act_range.ok()) return Fail(act_range.status().message());
  psg::cli::SetUpThreads();

  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto model_options = psg::cli::ModelOptionsFromFlags(**data);
  if (!model_options.ok()) return Fail(model_options.status().message());
  auto network = psg::pipeline::LoadPtqNetwork(*model_options, *checkpoint, psg::cli::CheckpointChecks(model_options->name), *act_bits, *act_range,
                                                  *(*data)->train_unaugmented,
                                                  psg::cli::CalibrationPassFromFlags());
  if (!network.ok()) return Fail(network.status().message());

  psg::engine::Graph graph;
  network->model->Export(&graph, graph.AddInput("input"));
  const bool fold = absl::GetFlag(FLAGS_fold_bn);
  if (fold) graph = psg::quant::FoldBatchNorm(graph);
  const psg::data::SampleShape shape = (*data)->test->sample_shape();
  psg::interop::OnnxExportOptions options{.input_dims = {shape.channels, shape.height, shape.width}};
  if (bits > 0 && fold) {
    options.weight_quantizers = FoldedWeightQuantizers(graph, *weight_options);
  } else if (bits > 0) {
    for (const psg::quant::WeightQuantizer& q : psg::quant::PlanWeightQuantization(network->params, *weight_options)) {
      options.weight_quantizers.emplace(q.param->name, q.quantizer);
    }
  }
  const psg::data::Normalization& norm = (*data)->normalization;
  const std::string setting =
      bits == 0 ? "FP" : *act_bits == 0 ? absl::StrCat("W", bits) : absl::StrCat("W", bits, "A", *act_bits);
  options.metadata = {
      {"psg.model", model_options->name},
      {"psg.dataset", absl::GetFlag(FLAGS_dataset)},
      {"psg.checkpoint", *checkpoint},
      {"psg.setting", setting},
      {"psg.weight_bits", bits == 0 ? "fp32" : absl::StrCat(bits)},
      {"psg.granularity", absl::UnparseFlag(absl::GetFlag(FLAGS_granularity))},
      {"psg.range", absl::UnparseFlag(absl::GetFlag(FLAGS_range))},
      {"psg.calibrator", absl::UnparseFlag(absl::GetFlag(FLAGS_calibrator))},
      {"psg.act_bits", absl::StrCat(*act_bits)},
      {"psg.act_range", absl::UnparseFlag(absl::GetFlag(FLAGS_act_range))},
      {"psg.fold_bn", fold ? "true" : "false"},
      {"psg.input", "float32 NCHW, (pixel / 255 - mean[c]) / std[c]"},
      {"psg.input_mean", absl::StrJoin(norm.mean, ",")},
      {"psg.input_std", absl::StrJoin(norm.stddev, ",")},
  };
  options.doc = absl::StrCat("psg-toolkit ", model_options->name, " (", absl::GetFlag(FLAGS_dataset), "), ",
                             setting, fold ? ", BN folded" : "", ", from ", *checkpoint);
  const onnx::ModelProto model = psg::interop::BuildOnnxModel(graph, options);
  const absl::Status written = psg::interop::WriteOnnxModel(model, output);
  if (!written.ok()) return Fail(written.message());

  std::map<std::string, int> ops;
  for (const onnx::NodeProto& node : model.graph().node()) ++ops[node.op_type()];
  std::printf("| model | setting | BN folded | opset | quantized tensors | nodes | bytes |\n"
              "|---|---|---|---|---|---|---|\n| %s | %s | %s | %d | %zu | %d | %jd |\n\n",
              model_options->name.c_str(), setting.c_str(), fold ? "yes" : "no", psg::interop::kOnnxOpset,
              options.weight_quantizers.size(), model.graph().node_size(),
              static_cast<intmax_t>(std::filesystem::file_size(output)));
  for (const auto& [op, count] : ops) std::printf("  %-20s %d\n", op.c_str(), count);
  std::printf("wrote %s\n", output.c_str());

  if (reference_dir.empty()) return 0;
  if (bits > 0) psg::quant::QuantizeWeights(network->params, *weight_options);  // ptq's model
  absl::StatusOr<psg::pipeline::LogitsDump> dump = psg::pipeline::WriteLogitsNpy(
      *network->model, *(*data)->test,
      {absl::GetFlag(FLAGS_batch_size), absl::GetFlag(FLAGS_reference_images), absl::GetFlag(FLAGS_workers)},
      reference_dir);
  if (!dump.ok()) return Fail(dump.status().message());
  std::printf("wrote the toolkit's reference (%s: accuracy %.2f %% on the first %jd test images) to "
              "%s/{images,labels,logits}.npy\n",
              setting.c_str(), 100 * dump->accuracy, static_cast<intmax_t>(dump->images), reference_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(argc, argv, "Export a checkpoint as an ONNX model (fp32 or QDQ).", Run);
}
