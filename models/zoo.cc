#include "models/zoo.h"

#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "engine/batch_norm.h"
#include "engine/check.h"
#include "engine/conv2d.h"
#include "engine/init.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/relu.h"

namespace psg::models {

using engine::BatchNorm2d;
using engine::Conv2d;
using engine::Linear;
using engine::Pool2d;
using engine::PoolKind;
using engine::Sequential;

namespace {

engine::Conv2dOptions ConvOptions(const ModelOptions& model, int64_t in, int64_t out,
                                  int64_t kernel, int64_t stride, int64_t padding, bool first,
                                  bool bias = false) {
  engine::Conv2dOptions o;
  o.precision = model.precision;
  o.bias = bias;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = kernel;
  o.stride = stride;
  o.padding = padding;
  o.input_grad = !first;  // nothing upstream of the first layer needs it
  return o;
}

engine::BatchNormOptions BnRelu(int64_t channels, const ModelOptions& model) {
  engine::BatchNormOptions o;
  o.channels = channels;
  o.fuse_relu = true;
  o.cross_replica = model.batch_norm_sync;
  return o;
}

engine::LinearOptions Fc(const ModelOptions& model, int64_t in, int64_t out) {
  return {.in_features = in, .out_features = out, .bias = true, .precision = model.precision};
}

// The factory's layer after the ReLU output of layer `after`, if any.
void AddActivation(Sequential& net, const ModelOptions& o, const std::string& after) {
  if (o.activation_layer) net.Append(o.activation_layer(after + ".act"));
}

void AddStage(Sequential& net, const std::string& name, int64_t blocks, int64_t in, int64_t out,
              int64_t stride, ShortcutKind shortcut, const ModelOptions& o) {
  Sequential& stage = net.Emplace<Sequential>(name);
  for (int64_t b = 0; b < blocks; ++b) {
    const std::string block = absl::StrCat(name, ".", b);
    BasicBlockOptions options{b == 0 ? in : out, out, b == 0 ? stride : 1, shortcut,
                              o.activation_layer};
    options.precision = o.precision;
    options.batch_norm_sync = o.batch_norm_sync;
    const auto mid = o.block_mid_channels.find(block);
    if (mid != o.block_mid_channels.end()) {
      PSG_CHECK(mid->second > 0, "model '", o.name, "': block '", block,
                "' needs a positive middle width, got ", mid->second);
      options.mid_channels = mid->second;
    }
    stage.Emplace<BasicBlock>(block, options);
  }
}

std::unique_ptr<Sequential> CifarResNet(int64_t depth, const ModelOptions& o) {
  const int64_t n = (depth - 2) / 6;
  auto net = std::make_unique<Sequential>(o.name);
  net->Emplace<Conv2d>("conv1", ConvOptions(o, 3, 16, 3, 1, 1, true));
  net->Emplace<BatchNorm2d>("bn1", BnRelu(16, o));
  AddActivation(*net, o, "bn1");
  AddStage(*net, "layer1", n, 16, 16, 1, o.shortcut, o);
  AddStage(*net, "layer2", n, 16, 32, 2, o.shortcut, o);
  AddStage(*net, "layer3", n, 32, 64, 2, o.shortcut, o);
  net->Emplace<Pool2d>("avgpool", engine::PoolOptions{PoolKind::kGlobalAverage});
  net->Emplace<Linear>("fc", Fc(o, 64, o.num_classes));
  return net;
}

std::unique_ptr<Sequential> ImageNetResNet18(const ModelOptions& o) {
  auto net = std::make_unique<Sequential>(o.name);
  net->Emplace<Conv2d>("conv1", ConvOptions(o, 3, 64, 7, 2, 3, true));
  net->Emplace<BatchNorm2d>("bn1", BnRelu(64, o));
  AddActivation(*net, o, "bn1");
  net->Emplace<Pool2d>("maxpool", engine::PoolOptions{PoolKind::kMax, 3, 2, 1});
  AddStage(*net, "layer1", 2, 64, 64, 1, ShortcutKind::kProjection, o);
  AddStage(*net, "layer2", 2, 64, 128, 2, ShortcutKind::kProjection, o);
  AddStage(*net, "layer3", 2, 128, 256, 2, ShortcutKind::kProjection, o);
  AddStage(*net, "layer4", 2, 256, 512, 2, ShortcutKind::kProjection, o);
  net->Emplace<Pool2d>("avgpool", engine::PoolOptions{PoolKind::kGlobalAverage});
  net->Emplace<Linear>("fc", Fc(o, 512, o.num_classes));
  return net;
}

// VGG-16 with BN for 32x32 inputs: 13 conv3x3-BN-ReLU in 5 groups, max pooling
// after each group, one classifier layer on the 512-d feature. The convolutions
// keep their biases, as torchvision's vgg16_bn and the common CIFAR port do.
std::unique_ptr<Sequential> Vgg16Bn(const ModelOptions& o) {
  const int64_t kPool = 0;
  const int64_t config[] = {64, 64, kPool, 128, 128, kPool, 256, 256, 256, kPool,
                            512, 512, 512, kPool, 512, 512, 512, kPool};
  auto net = std::make_unique<Sequential>(o.name);
  int64_t in = 3, index = 0;
  for (int64_t width : config) {
    const std::string name = absl::StrCat("features.", index++);
    if (width == kPool) {
      net->Emplace<Pool2d>(name, engine::PoolOptions{PoolKind::kMax, 2, 2, 0});
      continue;
    }
    net->Emplace<Conv2d>(name + ".conv", ConvOptions(o, in, width, 3, 1, 1, in == 3, true));
    net->Emplace<BatchNorm2d>(name + ".bn", BnRelu(width, o));
    AddActivation(*net, o, name + ".bn");
    in = width;
  }
  net->Emplace<Linear>("fc", Fc(o, 512, o.num_classes));
  return net;
}

// LeNet-5 for 28x28 grayscale: conv5x5(6, pad 2)-ReLU-maxpool,
// conv5x5(16)-ReLU-maxpool, 400-120-84-classes with ReLUs.
std::unique_ptr<Sequential> LeNet5(const ModelOptions& o) {
  auto net = std::make_unique<Sequential>(o.name);
  net->Emplace<Conv2d>("conv1", ConvOptions(o, 1, 6, 5, 1, 2, true, true));
  net->Emplace<engine::Relu>("relu1");
  AddActivation(*net, o, "relu1");
  net->Emplace<Pool2d>("pool1", engine::PoolOptions{PoolKind::kMax, 2, 2, 0});
  net->Emplace<Conv2d>("conv2", ConvOptions(o, 6, 16, 5, 1, 0, false, true));
  net->Emplace<engine::Relu>("relu2");
  AddActivation(*net, o, "relu2");
  net->Emplace<Pool2d>("pool2", engine::PoolOptions{PoolKind::kMax, 2, 2, 0});
  net->Emplace<Linear>("fc1", Fc(o, 400, 120));
  net->Emplace<engine::Relu>("relu3");
  AddActivation(*net, o, "relu3");
  net->Emplace<Linear>("fc2", Fc(o, 120, 84));
  net->Emplace<engine::Relu>("relu4");
  AddActivation(*net, o, "relu4");
  net->Emplace<Linear>("fc", Fc(o, 84, o.num_classes));
  return net;
}

const int64_t kCifarDepths[] = {20, 32, 44, 56, 110};

}  // namespace

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (int64_t d : kCifarDepths) names.push_back(absl::StrCat("resnet", d));
  names.insert(names.end(), {"vgg16_bn", "resnet18", "lenet5"});
  return names;
}

namespace {

std::unique_ptr<Sequential> Build(const ModelOptions& o) {
  for (int64_t d : kCifarDepths) {
    if (o.name == absl::StrCat("resnet", d)) return CifarResNet(d, o);
  }
  if (o.name == "vgg16_bn") return Vgg16Bn(o);
  if (o.name == "resnet18") return ImageNetResNet18(o);
  if (o.name == "lenet5") return LeNet5(o);
  PSG_CHECK(false, "unknown model '", o.name, "'; known: ", absl::StrJoin(ModelNames(), ", "));
  return nullptr;
}

// Whether `model` has a layer named `name` (at any depth).
bool HasLayer(engine::Layer& model, const std::string& name) {
  engine::ParameterList params;
  model.CollectParameters(&params);
  const std::string prefix = name + ".";
  for (const engine::Parameter* p : params) {
    if (p->name.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Sequential> BuildModel(const ModelOptions& o) {
  PSG_CHECK(o.num_classes > 0, "model '", o.name, "': num_classes must be positive");
  std::unique_ptr<Sequential> net = Build(o);
  for (const auto& [block, width] : o.block_mid_channels) {
    PSG_CHECK(HasLayer(*net, block + ".conv1"), "model '", o.name,
              "': block_mid_channels names no basic block '", block, "'");
  }
  return net;
}

engine::Dims InputDims(const std::string& name) {
  if (name == "resnet18") return {3, 224, 224};
  if (name == "lenet5") return {1, 28, 28};
  BuildModel({name});  // validates the name
  return {3, 32, 32};
}

bool TakesAnyImageSize(const std::string& name) {
  InputDims(name);  // validates the name
  return absl::StartsWith(name, "resnet");
}

void InitializeParameters(engine::Layer& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  engine::ParameterList params;
  model.CollectParameters(&params);
  const engine::Parameter* last_fc_weight = nullptr;
  for (engine::Parameter* p : params) {
    switch (p->kind) {
      case engine::ParamKind::kConvWeight:
        engine::KaimingNormal(*p, engine::FanMode::kFanOut, rng);
        break;
      case engine::ParamKind::kConvBias:
      case engine::ParamKind::kBnBeta:
      case engine::ParamKind::kBnRunningMean:
        p->value.Fill(0.0f);
        break;
      case engine::ParamKind::kBnGamma:
      case engine::ParamKind::kBnRunningVar:
        p->value.Fill(1.0f);
        break;
      case engine::ParamKind::kFcWeight:
        engine::UniformFanIn(*p, *p, rng);
        last_fc_weight = p;
        break;
      case engine::ParamKind::kFcBias:
        engine::UniformFanIn(*p, *last_fc_weight, rng);
        break;
      case engine::ParamKind::kActivationClip:
      case engine::ParamKind::kQuantStep:
      case engine::ParamKind::kGateLogAlpha:
        break;  // set by their owners (PACT's initial alpha, LSQ's first batch, L0's gate init)
    }
  }
}

int64_t CountTrainableParameters(engine::Layer& model) {
  engine::ParameterList params;
  model.CollectParameters(&params);
  int64_t count = 0;
  for (engine::Parameter* p : engine::TrainableOnly(params)) count += p->value.numel();
  return count;
}

std::string BatchNormBefore(const std::string& activation) {
  constexpr absl::string_view kAct = ".act", kAdd = ".add";
  if (!absl::EndsWith(activation, kAct)) return "";
  const std::string layer = activation.substr(0, activation.size() - kAct.size());
  if (absl::EndsWith(layer, kAdd)) return layer.substr(0, layer.size() - kAdd.size()) + ".bn2";
  const size_t dot = layer.rfind('.');
  const absl::string_view last = dot == std::string::npos ? layer : absl::string_view(layer).substr(dot + 1);
  return absl::StartsWith(last, "bn") ? layer : "";
}

}  // namespace psg::models
