#include "interop/onnx_export.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/relu.h"
#include "engine/sequential.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/zoo.h"
#include "quant/activation_quant.h"

namespace psg::interop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> OpTypes(const onnx::ModelProto& m) {
  std::vector<std::string> ops;
  for (const onnx::NodeProto& n : m.graph().node()) ops.push_back(n.op_type());
  return ops;
}

// The element of `items` (initializers, nodes) called `name`.
template <class Items>
const auto& Named(const Items& items, const std::string& name) {
  for (const auto& item : items) {
    if (item.name() == name) return item;
  }
  ADD_FAILURE() << "nothing named " << name;
  static const std::decay_t<decltype(*items.begin())> empty;
  return empty;
}

const onnx::TensorProto& Initializer(const onnx::ModelProto& m, const std::string& name) {
  return Named(m.graph().initializer(), name);
}

const onnx::NodeProto& NodeNamed(const onnx::ModelProto& m, const std::string& name) {
  return Named(m.graph().node(), name);
}

template <class T>
std::vector<T> Values(const onnx::TensorProto& t) {
  std::vector<T> v(t.raw_data().size() / sizeof(T));
  std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  return v;
}

std::map<std::string, int64_t> IntAttributes(const onnx::NodeProto& n) {
  std::map<std::string, int64_t> out;
  for (const onnx::AttributeProto& a : n.attribute()) {
    if (a.type() == onnx::AttributeProto::INT) out[a.name()] = a.i();
  }
  return out;
}

// conv (bias) -> BN + ReLU [-> activation quantizer at act_bits, range 3]
// -> max pool -> linear: every op of a plain CNN.
std::unique_ptr<engine::Sequential> SmallNet(int act_bits = 0) {
  auto net = std::make_unique<engine::Sequential>("net");
  net->Emplace<engine::Conv2d>("conv1", engine::Conv2dOptions{.in_channels = 3, .out_channels = 4,
                                                              .kernel = 3, .stride = 2, .padding = 1,
                                                              .bias = true});
  net->Emplace<engine::BatchNorm2d>("bn1", engine::BatchNormOptions{.channels = 4, .fuse_relu = true});
  if (act_bits > 0) net->Emplace<quant::FakeQuantActivation>("bn1.act", act_bits, 3.0f);
  net->Emplace<engine::Pool2d>("pool", engine::PoolOptions{engine::PoolKind::kMax, 3, 2, 1});
  net->Emplace<engine::Linear>("fc", engine::LinearOptions{4 * 2 * 2, 5, true});
  engine::testing::RandomizeParameters(*net, 3);
  return net;
}

engine::Graph ExportGraph(const engine::Layer& model) {
  engine::Graph graph;
  model.Export(&graph, graph.AddInput("input"));
  return graph;
}

TEST(OnnxExportTest, FloatModelHasTheOperatorsAttributesAndTensorsOfTheGraph) {
  auto net = SmallNet();
  const onnx::ModelProto m = BuildOnnxModel(
      ExportGraph(*net), {.input_dims = {3, 8, 8}, .metadata = {{"psg.model", "small"}}, .doc = "d"});
  EXPECT_EQ(m.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_EQ(m.producer_name(), "psg-toolkit");
  EXPECT_EQ(m.metadata_props(0).key(), "psg.model");
  EXPECT_THAT(OpTypes(m), ElementsAre("Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm"));

  const onnx::NodeProto& conv = NodeNamed(m, "conv1");
  EXPECT_THAT(conv.input(), ElementsAre("input", "conv1.weight", "conv1.bias"));
  EXPECT_EQ(IntAttributes(conv)["group"], 1);
  const onnx::TensorProto& w = Initializer(m, "conv1.weight");
  EXPECT_EQ(w.data_type(), onnx::TensorProto::FLOAT);
  EXPECT_THAT(w.dims(), ElementsAre(4, 3, 3, 3));
  engine::ParameterList params;
  net->CollectParameters(&params);
  EXPECT_EQ(Values<float>(w), params[0]->value.ToPlain());
  EXPECT_THAT(NodeNamed(m, "bn1").input(),
              ElementsAre("conv1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"));
  EXPECT_EQ(IntAttributes(NodeNamed(m, "fc"))["transB"], 1);
  EXPECT_THAT(NodeNamed(m, "fc").input(), ElementsAre("fc.flat", "fc.weight", "fc.bias"));
  EXPECT_EQ(NodeNamed(m, "fc").output(0), "logits");

  const onnx::ValueInfoProto& out = m.graph().output(0);
  EXPECT_EQ(out.name(), "logits");
  EXPECT_EQ(out.type().tensor_type().shape().dim(0).dim_param(), "N");
  EXPECT_EQ(out.type().tensor_type().shape().dim(1).dim_value(), 5);
  const onnx::TensorShapeProto& in = m.graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(in.dim(3).dim_value(), 8);
}

// Integer weights: the codes and steps of the quantizer, per tensor and per
// output channel, with DequantizeLinear feeding the operator.
TEST(OnnxExportTest, QuantizedWeightsAreTheQuantizersCodesAndSteps) {
  auto net = SmallNet();
  engine::ParameterList params;
  net->CollectParameters(&params);
  const engine::Parameter& conv_w = *params[0];
  const engine::Parameter& fc_b = *params.back();
  OnnxExportOptions options{.input_dims = {3, 8, 8}};
  const quant::TensorQuantizer per_channel = quant::TensorQuantizer::FromExactRange(
      {.bits = 4, .per_channel = true}, conv_w.value.dims(), conv_w.value.flat());
  const quant::TensorQuantizer asymmetric = quant::TensorQuantizer::FromExactRange(
      {.bits = 3, .range = compression::GridRange::kAsymmetric}, fc_b.value.dims(), fc_b.value.flat());
  options.weight_quantizers.emplace("conv1.weight", per_channel);
  options.weight_quantizers.emplace("fc.bias", asymmetric);
  const onnx::ModelProto m = BuildOnnxModel(ExportGraph(*net), options);

  const onnx::TensorProto& codes = Initializer(m, "conv1.weight_quantized");
  EXPECT_EQ(codes.data_type(), onnx::TensorProto::INT8);
  EXPECT_THAT(codes.dims(), ElementsAre(4, 3, 3, 3));
  std::vector<int8_t> want(conv_w.value.numel());
  per_channel.ToCodes(conv_w.value.flat(), absl::MakeSpan(want));
  EXPECT_EQ(Values<int8_t>(codes), want);
  for (int8_t c : want) EXPECT_LE(std::abs(c), 7);  // 4-bit levels inside int8
  const std::vector<float> scales = Values<float>(Initializer(m, "conv1.weight_scale"));
  ASSERT_EQ(scales.size(), 4u);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(scales[r], per_channel.grid(r).step);
  EXPECT_THAT(Values<int8_t>(Initializer(m, "conv1.weight_zero_point")), ElementsAre(0, 0, 0, 0));
  const onnx::NodeProto& dq = NodeNamed(m, "conv1.weight_dequantize");
  EXPECT_EQ(dq.op_type(), "DequantizeLinear");
  EXPECT_EQ(dq.output(0), "conv1.weight");
  EXPECT_EQ(IntAttributes(dq)["axis"], 0);

  // Asymmetric, per tensor: uint8 codes with the grid's zero point, scalars.
  const onnx::TensorProto& b = Initializer(m, "fc.bias_quantized");
  EXPECT_EQ(b.data_type(), onnx::TensorProto::UINT8);
  const onnx::TensorProto& zp = Initializer(m, "fc.bias_zero_point");
  EXPECT_EQ(zp.dims_size(), 0);
  EXPECT_EQ(Values<uint8_t>(zp)[0], -asymmetric.grid(0).min_level);
  const std::vector<uint8_t> bias_codes = Values<uint8_t>(b);
  const std::vector<float> bias = fc_b.value.ToPlain();
  std::vector<float> fake(bias.size());
  asymmetric.FakeQuantize(bias, absl::MakeSpan(fake));
  const float step = Values<float>(Initializer(m, "fc.bias_scale"))[0];
  for (size_t i = 0; i < bias.size(); ++i) EXPECT_EQ((bias_codes[i] - Values<uint8_t>(zp)[0]) * step, fake[i]) << i;
  EXPECT_TRUE(IntAttributes(NodeNamed(m, "fc.bias_dequantize")).empty());  // per tensor: no axis
  // The other tensors stay float.
  EXPECT_EQ(Initializer(m, "fc.weight").data_type(), onnx::TensorProto::FLOAT);
}

// An activation quantizer's grid: Q/DQ to uint8 after the ReLU, a Clip first
// when its levels stop short of 255.
TEST(OnnxExportTest, OutputGridsBecomeQuantizeDequantizePairs) {
  for (int bits : {8, 4}) {
    SCOPED_TRACE(bits);
    auto net = SmallNet(bits);
    const auto& act = dynamic_cast<const quant::FakeQuantActivation&>(net->at(2));
    const onnx::ModelProto m = BuildOnnxModel(ExportGraph(*net), {.input_dims = {3, 8, 8}});
    if (bits == 8) {
      EXPECT_THAT(OpTypes(m), ElementsAre("Conv", "BatchNormalization", "Relu", "QuantizeLinear",
                                          "DequantizeLinear", "MaxPool", "Flatten", "Gemm"));
    } else {
      EXPECT_THAT(OpTypes(m), ElementsAre("Conv", "BatchNormalization", "Relu", "Clip", "QuantizeLinear",
                                          "DequantizeLinear", "MaxPool", "Flatten", "Gemm"));
      EXPECT_EQ(Values<float>(Initializer(m, "bn1.act_max"))[0], act.InferenceGrid().step * 15);
      EXPECT_EQ(Values<float>(Initializer(m, "bn1.act_min"))[0], 0.0f);
    }
    EXPECT_EQ(Values<float>(Initializer(m, "bn1.act_scale"))[0], act.InferenceGrid().step);
    EXPECT_EQ(Initializer(m, "bn1.act_zero_point").data_type(), onnx::TensorProto::UINT8);
    EXPECT_THAT(Values<uint8_t>(Initializer(m, "bn1.act_zero_point")), ElementsAre(0));
    EXPECT_THAT(NodeNamed(m, "pool").input(), ElementsAre("bn1.act"));
  }
}

TEST(OnnxExportTest, ZeroPadShortcutIsAStridedSliceAndAChannelPad) {
  auto model = models::BuildModel({.name = "resnet20", .shortcut = models::ShortcutKind::kZeroPad});
  const onnx::ModelProto m = BuildOnnxModel(ExportGraph(*model), {.input_dims = {3, 32, 32}});
  const onnx::NodeProto& slice = NodeNamed(m, "layer2.0.shortcut.slice");
  EXPECT_EQ(slice.op_type(), "Slice");
  EXPECT_THAT(Values<int64_t>(Initializer(m, "layer2.0.shortcut.steps")), ElementsAre(2, 2));
  EXPECT_THAT(Values<int64_t>(Initializer(m, "layer2.0.shortcut.axes")), ElementsAre(2, 3));
  EXPECT_EQ(NodeNamed(m, "layer2.0.shortcut").op_type(), "Pad");
  EXPECT_THAT(Values<int64_t>(Initializer(m, "layer2.0.shortcut.pads")), ElementsAre(0, 8, 0, 0, 0, 8, 0, 0));
}

TEST(OnnxExportTest, RejectsWhatItCannotExpress) {
  auto net = SmallNet();
  const engine::Graph graph = ExportGraph(*net);
  EXPECT_THAT([&] { BuildOnnxModel(graph, {.input_dims = {3, 8}}); },
              ThrowsInvalidArgument("input_dims must be {C, H, W}"));
  EXPECT_THAT([&] { BuildOnnxModel(graph, {.input_dims = {3, 4, 4}}); },
              ThrowsInvalidArgument("linear 'fc' expects 16 features, gets 4"));
  OnnxExportOptions unknown{.input_dims = {3, 8, 8}};
  unknown.weight_quantizers.emplace(
      "conv9.weight", quant::TensorQuantizer::FromExactRange({.bits = 4}, {2}, std::vector<float>{1, 2}));
  EXPECT_THAT([&] { BuildOnnxModel(graph, unknown); },
              ThrowsInvalidArgument("'conv9.weight', which is no weight or bias of the graph"));
  engine::Graph wide = graph;
  wide.mutable_node(2).output_grid = compression::GridPoint{0.1f, -200.0f, 100.0f};
  EXPECT_THAT([&] { BuildOnnxModel(wide, {.input_dims = {3, 8, 8}}); },
              ThrowsInvalidArgument("the output grid of 'bn1' (levels -200..100, step 0.1) does not fit uint8"));
}

TEST(OnnxExportTest, WritesAFileThatParsesBackAndPassesTheChecker) {
  auto net = SmallNet();
  const onnx::ModelProto m = BuildOnnxModel(ExportGraph(*net), {.input_dims = {3, 8, 8}});
  const std::string path = ::testing::TempDir() + "/small.onnx";
  ASSERT_TRUE(WriteOnnxModel(m, path).ok());
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto back;
  ASSERT_TRUE(back.ParseFromIstream(&in));
  EXPECT_EQ(back.SerializeAsString(), m.SerializeAsString());
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir())) {
    EXPECT_THAT(entry.path().string(), Not(HasSubstr(".tmp"))) << "a temporary file was left";
  }

  onnx::ModelProto broken = m;
  broken.mutable_graph()->mutable_node(0)->set_input(0, "missing");
  const absl::Status s = WriteOnnxModel(broken, ::testing::TempDir() + "/broken.onnx");
  EXPECT_THAT(std::string(s.message()), HasSubstr("onnx::checker rejects the model"));
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "/broken.onnx"));
  EXPECT_THAT(std::string(WriteOnnxModel(m, "/nonexistent/dir/m.onnx").message()),
              HasSubstr("writing '/nonexistent/dir/m.onnx': cannot create temporary file"));
}

}  // namespace
}  // namespace psg::interop
