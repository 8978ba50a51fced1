// Test fixture of //interop:onnx_zoo_test: a zoo model with random weights
// and random batch-norm parameters and statistics, exported to ONNX in four
// variants, with random inputs and the toolkit's own logits for each:
//
//   fp32       the model as it is;
//   fold_bn    batch norms folded into the convolutions (same logits);
//   w4_channel weights at 4 bits per output channel (ptq's protocol: first and
//              last layer included), activations in floating point;
//   w4a4       weights at 4 bits per tensor and every ReLU output at 4 bits,
//              its range the exact max over the inputs (ptq's calibration);
//              w4a4.weights_only.logits.npy holds the logits of its weights
//              alone (activations in floating point).
//
//   onnx_zoo_fixture --model=resnet18 --batch=2 --output_dir=DIR
//
// Writes DIR/<variant>.onnx, DIR/<variant>.logits.npy, DIR/images.npy (NCHW)
// and DIR/fixture.json (model, variant names, activation quantizers).
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "engine/graph.h"
#include "engine/parameter_snapshot.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/graph_reference.h"
#include "flags/ranges.h"
#include "interop/onnx_export.h"
#include "io/json_writer.h"
#include "io/npy.h"
#include "models/zoo.h"
#include "quant/activation_quant.h"
#include "quant/bn_fold.h"
#include "quant/weight_ptq.h"

ABSL_FLAG(std::string, model, "resnet20", "zoo model (models/zoo.h)");
ABSL_FLAG(psg::models::ShortcutKind, shortcut, psg::models::ShortcutKind::kProjection,
          "CIFAR ResNet shortcut: projection or zeropad");
ABSL_FLAG(int, batch, 4, "random input images");
PSG_FLAG_RANGE(batch, psg::flags::Between(1, 1024));
ABSL_FLAG(uint32_t, seed, 3, "seed of the random inputs");
PSG_FLAG_RANGE(seed, psg::flags::AtLeast(0));
ABSL_FLAG(int, image_size, 0, "input height and width (0: the model's own, models::InputDims)");
PSG_FLAG_RANGE(image_size, psg::flags::Between(0, 4096));
ABSL_FLAG(std::string, output_dir, "", "where the files go (required)");

namespace {

using psg::engine::Tensor;

// Writes `values` as float32 .npy of `rows` rows.
void WriteRows(const std::string& path, int64_t rows, const std::vector<float>& values) {
  const absl::Status s = psg::io::WriteNpy(path, {rows, static_cast<int64_t>(values.size()) / rows}, values);
  if (!s.ok()) throw std::runtime_error(std::string(s.message()));
}

// The model of `options` with parameters from seed 1 and random batch norms
// from seed 2: the same values with or without activation quantizers.
std::unique_ptr<psg::engine::Sequential> Build(const psg::models::ModelOptions& options) {
  auto model = psg::models::BuildModel(options);
  psg::models::InitializeParameters(*model, 1);
  psg::engine::reference::RandomizeBatchNorm(*model, 2);
  return model;
}

void Export(const psg::engine::Graph& graph, const psg::interop::OnnxExportOptions& options,
            const std::string& path) {
  const absl::Status s = psg::interop::WriteOnnxModel(psg::interop::BuildOnnxModel(graph, options), path);
  if (!s.ok()) throw std::runtime_error(std::string(s.message()));
}

void AddQuantizers(const psg::engine::ParameterList& params, const psg::quant::WeightPtqOptions& ptq,
                   psg::interop::OnnxExportOptions* options) {
  for (const psg::quant::WeightQuantizer& q : psg::quant::PlanWeightQuantization(params, ptq)) {
    options->weight_quantizers.emplace(q.param->name, q.quantizer);
  }
}

int Run() {
  const std::string dir = absl::GetFlag(FLAGS_output_dir);
  if (dir.empty()) throw std::invalid_argument("--output_dir is required");
  std::filesystem::create_directories(dir);
  psg::models::ModelOptions options{.name = absl::GetFlag(FLAGS_model)};
  options.shortcut = absl::GetFlag(FLAGS_shortcut);
  psg::engine::Dims sample = psg::models::InputDims(options.name);
  if (absl::GetFlag(FLAGS_image_size) > 0) sample[1] = sample[2] = absl::GetFlag(FLAGS_image_size);
  const int n = absl::GetFlag(FLAGS_batch);
  const Tensor x = psg::engine::testing::RandomPlain({n, sample[0], sample[1], sample[2]}, absl::GetFlag(FLAGS_seed));
  const std::vector<float> images = x.ToPlain();
  if (absl::Status s = psg::io::WriteNpy(dir + "/images.npy", x.dims(), images); !s.ok()) {
    throw std::runtime_error(std::string(s.message()));
  }
  const psg::interop::OnnxExportOptions plain{.input_dims = sample};

  auto model = Build(options);
  psg::engine::ParameterList params;
  model->CollectParameters(&params);
  psg::engine::Graph graph;
  model->Export(&graph, graph.AddInput("input"));
  const std::vector<float> fp32 = model->Forward(x, psg::engine::Mode::kEval).ToPlain();
  Export(graph, plain, dir + "/fp32.onnx");
  WriteRows(dir + "/fp32.logits.npy", n, fp32);
  Export(psg::quant::FoldBatchNorm(graph), plain, dir + "/fold_bn.onnx");
  WriteRows(dir + "/fold_bn.logits.npy", n, fp32);

  const psg::quant::WeightPtqOptions w4_channel{.spec = {.bits = 4, .per_channel = true}};
  const psg::quant::WeightPtqOptions w4{.spec = {.bits = 4}};
  psg::interop::OnnxExportOptions quantized = plain;
  AddQuantizers(params, w4_channel, &quantized);
  Export(graph, quantized, dir + "/w4_channel.onnx");
  // Quantized weights only: w4_channel's logits, and w4a4's without its
  // activation quantizers (what they change is what the w4a4 check measures
  // against).
  for (const auto& [ptq, file] : {std::pair{w4_channel, "w4_channel.logits.npy"},
                                  std::pair{w4, "w4a4.weights_only.logits.npy"}}) {
    const psg::engine::WeightSnapshot fp(params);
    psg::quant::QuantizeWeights(params, ptq);
    WriteRows(dir + "/" + file, n, model->Forward(x, psg::engine::Mode::kEval).ToPlain());
    fp.Restore();
  }

  std::vector<psg::quant::FakeQuantActivation*> activations;
  psg::models::ModelOptions act_options = options;
  act_options.activation_layer = [&](const std::string& name) {
    auto layer = std::make_unique<psg::quant::FakeQuantActivation>(name, 4);
    activations.push_back(layer.get());
    return layer;
  };
  auto act_model = Build(act_options);
  psg::engine::ParameterList act_params;
  act_model->CollectParameters(&act_params);
  for (auto* a : activations) a->StartCalibration();
  act_model->Forward(x, psg::engine::Mode::kEval);
  for (auto* a : activations) a->FinishCalibration();
  psg::engine::Graph act_graph;
  act_model->Export(&act_graph, act_graph.AddInput("input"));
  psg::interop::OnnxExportOptions act_quantized = plain;
  AddQuantizers(act_params, w4, &act_quantized);
  Export(act_graph, act_quantized, dir + "/w4a4.onnx");
  psg::quant::QuantizeWeights(act_params, w4);
  WriteRows(dir + "/w4a4.logits.npy", n, act_model->Forward(x, psg::engine::Mode::kEval).ToPlain());

  const psg::io::Json fixture = {{"model", options.name},
                                 {"shortcut", absl::UnparseFlag(absl::GetFlag(FLAGS_shortcut))},
                                 {"activation_quantizers", activations.size()},
                                 {"variants", {"fp32", "fold_bn", "w4_channel", "w4a4"}}};
  if (absl::Status s = psg::io::WriteJsonFile(dir + "/fixture.json", fixture); !s.ok()) {
    throw std::runtime_error(std::string(s.message()));
  }
  std::printf("onnx_zoo_fixture: %s (%s): 4 variants in %s\n", options.name.c_str(),
              absl::UnparseFlag(absl::GetFlag(FLAGS_shortcut)).c_str(), dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = psg::flags::CheckFlagRanges(); !s.ok()) {
    std::fprintf(stderr, "onnx_zoo_fixture: error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  try {
    return Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_zoo_fixture: error: %s\n", e.what());
    return 1;
  }
}
