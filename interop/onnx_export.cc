#include "interop/onnx_export.h"

#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/check.h"
#include "io/files.h"
#include "onnx/checker.h"

namespace psg::interop {
namespace {

using engine::Dims;
using engine::Graph;
using engine::Node;
using engine::NodeKind;
using engine::PoolKind;

// The IR version of opset 13's ONNX release (1.8): the oldest a runtime
// needs to read the file.
constexpr int64_t kIrVersion = 7;

template <class T>
void SetRaw(onnx::TensorProto* t, const std::vector<T>& values) {
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

template <class T>
constexpr int ElementType() {
  if constexpr (std::is_same_v<T, float>) return onnx::TensorProto::FLOAT;
  if constexpr (std::is_same_v<T, int8_t>) return onnx::TensorProto::INT8;
  if constexpr (std::is_same_v<T, uint8_t>) return onnx::TensorProto::UINT8;
  if constexpr (std::is_same_v<T, int64_t>) return onnx::TensorProto::INT64;
}

// Builds the GraphProto node by node; values are named after graph nodes.
class Builder {
 public:
  Builder(const OnnxExportOptions& options, onnx::GraphProto* graph)
      : options_(options), graph_(graph) {}

  template <class T>
  std::string Initializer(const std::string& name, const Dims& dims, const std::vector<T>& values) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(ElementType<T>());
    for (int64_t d : dims) t->add_dims(d);
    SetRaw(t, values);
    return name;
  }

  onnx::NodeProto* Op(const std::string& op_type, const std::string& name,
                      const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(output);
    return n;
  }

  static void Ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void Int(onnx::NodeProto* n, const std::string& name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void Float(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  // A node tensor ("<node>.weight" / "<node>.bias"): a float initializer, or
  // its integer levels and a DequantizeLinear when it has a quantizer.
  std::string Parameter(const std::string& name, const engine::Tensor& tensor) {
    const std::vector<float> values = tensor.ToPlain();
    const Dims dims = tensor.dims();
    const auto it = options_.weight_quantizers.find(name);
    if (it == options_.weight_quantizers.end()) return Initializer(name, dims, values);
    used_quantizers_.insert(name);
    const quant::TensorQuantizer& q = it->second;
    PSG_CHECK(q.size() == static_cast<int64_t>(values.size()), "ONNX export: the quantizer of '",
              name, "' covers ", q.size(), " values, the tensor has ", values.size());
    const bool per_tensor = q.rows() == 1;
    const Dims scale_dims = per_tensor ? Dims{} : Dims{q.rows()};
    std::vector<float> scales;
    for (int64_t r = 0; r < q.rows(); ++r) scales.push_back(q.grid(r).step);
    std::vector<std::string> inputs = {name + "_quantized", Initializer(name + "_scale", scale_dims, scales),
                                       name + "_zero_point"};
    if (q.spec().range == compression::GridRange::kAsymmetric) {
      std::vector<uint8_t> codes(values.size()), zero_points;
      q.ToUnsignedCodes(values, absl::MakeSpan(codes));
      for (int64_t r = 0; r < q.rows(); ++r) {
        zero_points.push_back(static_cast<uint8_t>(-q.grid(r).min_level));
      }
      Initializer(inputs[0], dims, codes);
      Initializer(inputs[2], scale_dims, zero_points);
    } else {
      std::vector<int8_t> codes(values.size());
      q.ToCodes(values, absl::MakeSpan(codes));
      Initializer(inputs[0], dims, codes);
      Initializer(inputs[2], scale_dims, std::vector<int8_t>(q.rows(), 0));
    }
    onnx::NodeProto* dq = Op("DequantizeLinear", name + "_dequantize", inputs, name);
    if (!per_tensor) Int(dq, "axis", 0);
    return name;
  }

  // ReLU (if fused) and the output grid (if any) after node `node`'s op,
  // whose output value is `value`; returns the value consumers read.
  std::string PostOps(const Node& node, std::string value) {
    if (node.relu) value = Op("Relu", node.name + ".relu", {value}, node.name + ".relu")->output(0);
    if (!node.output_grid) return value;
    const compression::GridPoint& g = *node.output_grid;
    const float zero_point = -g.min_level;
    PSG_CHECK(zero_point >= 0 && zero_point <= 255 && zero_point == static_cast<int>(zero_point) &&
                  g.max_level + zero_point <= 255 && g.step > 0,
              "ONNX export: the output grid of '", node.name, "' (levels ", g.min_level, "..",
              g.max_level, ", step ", g.step, ") does not fit uint8");
    const std::string name = node.name + ".act";
    if (g.min_level + zero_point != 0 || g.max_level + zero_point != 255) {
      value = Op("Clip", name + "_clip",
                 {value, Initializer(name + "_min", {}, std::vector<float>{g.min_level * g.step}),
                  Initializer(name + "_max", {}, std::vector<float>{g.max_level * g.step})},
                 name + "_clipped")
                  ->output(0);
    }
    const std::vector<std::string> qparams = {
        Initializer(name + "_scale", {}, std::vector<float>{g.step}),
        Initializer(name + "_zero_point", {}, std::vector<uint8_t>{static_cast<uint8_t>(zero_point)})};
    Op("QuantizeLinear", name + "_quantize", {value, qparams[0], qparams[1]}, name + "_quantized");
    return Op("DequantizeLinear", name + "_dequantize", {name + "_quantized", qparams[0], qparams[1]}, name)
        ->output(0);
  }

  void CheckAllQuantizersUsed() const {
    for (const auto& [name, unused] : options_.weight_quantizers) {
      PSG_CHECK(used_quantizers_.count(name), "ONNX export: a quantizer is given for '", name,
                "', which is no weight or bias of the graph");
    }
  }

 private:
  const OnnxExportOptions& options_;
  onnx::GraphProto* graph_;
  std::set<std::string> used_quantizers_;
};

void SetTensorType(onnx::ValueInfoProto* info, const std::string& name, const Dims& dims) {
  info->set_name(name);
  onnx::TypeProto_Tensor* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (size_t i = 1; i < dims.size(); ++i) shape->add_dim()->set_dim_value(dims[i]);
}

int64_t PooledSize(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

}  // namespace

onnx::ModelProto BuildOnnxModel(const Graph& graph, const OnnxExportOptions& options) {
  PSG_CHECK(options.input_dims.size() == 3, "ONNX export: input_dims must be {C, H, W}, got ",
            engine::DimsToString(options.input_dims));
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("psg-toolkit");
  model.set_doc_string(options.doc);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : options.metadata) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("psg_toolkit_model");
  Builder b(options, g);

  // Per graph node: the value its consumers read and its dims (batch as 1).
  std::vector<std::string> value(graph.size());
  std::vector<Dims> dims(graph.size());
  for (int id = 0; id < graph.size(); ++id) {
    const Node& node = graph.node(id);
    const std::string& in = node.inputs.empty() ? "" : value[node.inputs[0]];
    const Dims x = node.inputs.empty() ? Dims{} : dims[node.inputs[0]];
    const bool spatial = node.kind == NodeKind::kConv || node.kind == NodeKind::kBatchNorm ||
                         node.kind == NodeKind::kPool || node.kind == NodeKind::kZeroPadShortcut;
    PSG_CHECK(!spatial || x.size() == 4,
              "ONNX export: node '", node.name, "' (", engine::NodeKindName(node.kind),
              ") needs a 4-D input, got ", engine::DimsToString(x));
    std::string out = node.name;
    switch (node.kind) {
      case NodeKind::kInput: {
        PSG_CHECK(id == 0, "ONNX export: the graph has a second input node '", node.name, "'");
        dims[id] = {1, options.input_dims[0], options.input_dims[1], options.input_dims[2]};
        SetTensorType(g->add_input(), "input", dims[id]);
        value[id] = "input";
        PSG_CHECK(!node.output_grid, "ONNX export: the network input is quantized");
        continue;
      }
      case NodeKind::kConv: {
        PSG_CHECK(x[1] == node.in_channels, "ONNX export: '", node.name, "' expects ",
                  node.in_channels, " channels, gets ", x[1]);
        std::vector<std::string> inputs = {in, b.Parameter(node.name + ".weight", node.weight)};
        if (!node.bias.empty()) inputs.push_back(b.Parameter(node.name + ".bias", node.bias));
        onnx::NodeProto* conv = b.Op("Conv", node.name, inputs, out);
        Builder::Ints(conv, "kernel_shape", {node.kernel, node.kernel});
        Builder::Ints(conv, "strides", {node.stride, node.stride});
        Builder::Ints(conv, "pads", {node.padding, node.padding, node.padding, node.padding});
        Builder::Ints(conv, "dilations", {1, 1});
        Builder::Int(conv, "group", node.groups);
        dims[id] = {1, node.out_channels, PooledSize(x[2], node.kernel, node.stride, node.padding),
                    PooledSize(x[3], node.kernel, node.stride, node.padding)};
        break;
      }
      case NodeKind::kBatchNorm: {
        PSG_CHECK(!node.gamma.empty() && !node.beta.empty() && !node.mean.empty() && !node.var.empty(),
                  "ONNX export: batch norm '", node.name, "' lacks a parameter or statistic");
        onnx::NodeProto* bn = b.Op(
            "BatchNormalization", node.name,
            {in, b.Parameter(node.name + ".weight", node.gamma), b.Parameter(node.name + ".bias", node.beta),
             b.Parameter(node.name + ".running_mean", node.mean),
             b.Parameter(node.name + ".running_var", node.var)},
            out);
        Builder::Float(bn, "epsilon", node.epsilon);
        dims[id] = x;
        break;
      }
      case NodeKind::kRelu:
        b.Op("Relu", node.name, {in}, out);
        dims[id] = x;
        break;
      case NodeKind::kPool: {
        const engine::PoolOptions& p = node.pool;
        if (p.kind == PoolKind::kGlobalAverage) {
          b.Op("GlobalAveragePool", node.name, {in}, out);
          dims[id] = {1, x[1], 1, 1};
          break;
        }
        onnx::NodeProto* pool = b.Op(p.kind == PoolKind::kMax ? "MaxPool" : "AveragePool", node.name, {in}, out);
        Builder::Ints(pool, "kernel_shape", {p.kernel, p.kernel});
        Builder::Ints(pool, "strides", {p.stride, p.stride});
        Builder::Ints(pool, "pads", {p.padding, p.padding, p.padding, p.padding});
        if (p.kind != PoolKind::kMax) {
          Builder::Int(pool, "count_include_pad", p.kind == PoolKind::kAverage ? 1 : 0);
        }
        dims[id] = {1, x[1], PooledSize(x[2], p.kernel, p.stride, p.padding),
                    PooledSize(x[3], p.kernel, p.stride, p.padding)};
        break;
      }
      case NodeKind::kLinear: {
        PSG_CHECK(x.size() == 2 || x.size() == 4, "ONNX export: linear '", node.name,
                  "' needs a 2-D or 4-D input, got ", engine::DimsToString(x));
        const int64_t features = x.size() == 2 ? x[1] : x[1] * x[2] * x[3];
        PSG_CHECK(features == node.in_channels, "ONNX export: linear '", node.name, "' expects ",
                  node.in_channels, " features, gets ", features);
        std::string flat = in;
        if (x.size() == 4) {
          onnx::NodeProto* flatten = b.Op("Flatten", node.name + ".flatten", {in}, node.name + ".flat");
          Builder::Int(flatten, "axis", 1);
          flat = flatten->output(0);
        }
        std::vector<std::string> inputs = {flat, b.Parameter(node.name + ".weight", node.weight)};
        if (!node.bias.empty()) inputs.push_back(b.Parameter(node.name + ".bias", node.bias));
        Builder::Int(b.Op("Gemm", node.name, inputs, out), "transB", 1);
        dims[id] = {1, node.out_channels};
        break;
      }
      case NodeKind::kAdd: {
        PSG_CHECK(dims[node.inputs[1]] == x, "ONNX export: add '", node.name, "' of ",
                  engine::DimsToString(x), " and ", engine::DimsToString(dims[node.inputs[1]]));
        b.Op("Add", node.name, {in, value[node.inputs[1]]}, out);
        dims[id] = x;
        break;
      }
      case NodeKind::kZeroPadShortcut: {
        PSG_CHECK(x[1] == node.in_channels && node.out_channels >= node.in_channels,
                  "ONNX export: zero-pad shortcut '", node.name, "' from ", node.in_channels,
                  " to ", node.out_channels, " channels gets ", x[1]);
        const int64_t s = node.stride;
        std::string strided = in;
        if (s > 1) {
          const int64_t end = std::numeric_limits<int64_t>::max();
          strided = b.Op("Slice", node.name + ".slice",
                         {in, b.Initializer(node.name + ".starts", {2}, std::vector<int64_t>{0, 0}),
                          b.Initializer(node.name + ".ends", {2}, std::vector<int64_t>{end, end}),
                          b.Initializer(node.name + ".axes", {2}, std::vector<int64_t>{2, 3}),
                          b.Initializer(node.name + ".steps", {2}, std::vector<int64_t>{s, s})},
                         node.name + ".strided")
                        ->output(0);
        }
        const int64_t before = (node.out_channels - node.in_channels) / 2;
        const int64_t after = node.out_channels - node.in_channels - before;
        b.Op("Pad", node.name, {strided, b.Initializer(node.name + ".pads", {8}, std::vector<int64_t>{0, before, 0, 0, 0, after, 0, 0})},
             out);
        dims[id] = {1, node.out_channels, (x[2] + s - 1) / s, (x[3] + s - 1) / s};
        break;
      }
    }
    value[id] = b.PostOps(node, out);
  }
  b.CheckAllQuantizersUsed();

  // The last node's value becomes the graph output "logits".
  const int output = graph.output();
  PSG_CHECK(output > 0, "ONNX export: the graph has no node after its input");
  for (int i = g->node_size() - 1; i >= 0; --i) {
    if (g->node(i).output(0) == value[output]) {
      g->mutable_node(i)->set_output(0, "logits");
      break;
    }
  }
  SetTensorType(g->add_output(), "logits", dims[output]);
  return model;
}

absl::Status WriteOnnxModel(const onnx::ModelProto& model, const std::string& path) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("ONNX export: onnx::checker rejects the model: ", e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    return absl::InternalError(absl::StrCat("ONNX export: cannot serialize the model for '", path, "'"));
  }
  return io::WriteFileAtomically(path, bytes);
}

}  // namespace psg::interop
