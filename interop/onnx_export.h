// ONNX export of an inference graph (engine/graph.h), built with the official
// ONNX classes (Debian's libonnx-dev, onnx/onnx_pb.h) at opset 13, in
// floating point or in QDQ form:
//
//   engine::Graph graph;
//   model.Export(&graph, graph.AddInput("input"));
//   OnnxExportOptions options{.input_dims = {3, 32, 32}};
//   for (const quant::WeightQuantizer& q : quant::PlanWeightQuantization(params, ptq))
//     options.weight_quantizers.emplace(q.param->name, q.quantizer);
//   onnx::ModelProto model = BuildOnnxModel(graph, options);
//   absl::Status s = WriteOnnxModel(model, "model.onnx");
//
// The graph's nodes become (value names are the node names):
//   input             the graph input "input", float {N, C, H, W}, N symbolic
//   conv              Conv            (+ Relu when the node fuses one)
//   batch_norm        BatchNormalization (+ Relu)
//   relu              Relu
//   pool              MaxPool, AveragePool (count_include_pad as the kind
//                     says) or GlobalAveragePool
//   linear            Gemm with transB = 1, after Flatten for a 4-D input
//   add               Add             (+ Relu)
//   zero_pad_shortcut Slice (every stride-th row and column) + Pad (channels)
// and the last node's value is the graph output "logits".
//
// Quantization (QDQ, what ONNX Runtime, TensorRT and OpenVINO turn into
// integer kernels):
//   * a node tensor "<node>.weight" or "<node>.bias" with an entry in
//     weight_quantizers is stored as its integer levels: int8 for symmetric
//     grids (b-bit levels -qmax..qmax stay inside int8), uint8 with the grid's
//     zero point for asymmetric ones; a DequantizeLinear with the quantizer's
//     steps as scales (one per tensor, or one per output channel on axis 0)
//     gives the operator exactly the values quant::QuantizeWeights computes;
//   * a node with an output_grid {step, lo, hi} (an activation quantizer's)
//     gets QuantizeLinear / DequantizeLinear to uint8 with zero point -lo and
//     scale step, preceded by a Clip to [lo * step, hi * step] unless the
//     levels span all of uint8 (QuantizeLinear saturates only at 0 and 255).
//     Both round half to even, as the toolkit's grid does.
#ifndef PSG_INTEROP_ONNX_EXPORT_H_
#define PSG_INTEROP_ONNX_EXPORT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/graph.h"
#include "onnx/onnx_pb.h"
#include "quant/quantizer.h"

namespace psg::interop {

// The ONNX operator set the exporter writes (per-axis DequantizeLinear).
inline constexpr int kOnnxOpset = 13;

struct OnnxExportOptions {
  engine::Dims input_dims;  // {C, H, W} of one sample
  // Integer weights: the quantizer of each node tensor to store quantized,
  // by name ("layer1.0.conv1.weight", "fc.bias"). A name that matches no
  // tensor of the graph is an error.
  std::map<std::string, quant::TensorQuantizer> weight_quantizers;
  std::vector<std::pair<std::string, std::string>> metadata;  // metadata_props
  std::string doc;                                            // the model's doc_string
};

// The graph as an ONNX model. Throws std::invalid_argument for a graph it
// cannot express (a node kind without a mapping, an output grid whose levels
// do not fit uint8) or options that do not fit the graph.
onnx::ModelProto BuildOnnxModel(const engine::Graph& graph, const OnnxExportOptions& options);

// Runs onnx::checker::check_model on `model`, then replaces `path` by it
// atomically (io::WriteFileAtomically). An error names the check that failed,
// or the path and the system error.
absl::Status WriteOnnxModel(const onnx::ModelProto& model, const std::string& path);

}  // namespace psg::interop

#endif  // PSG_INTEROP_ONNX_EXPORT_H_
