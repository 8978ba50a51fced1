// The model zoo: CIFAR ResNets (He et al. 2016; 3 stages of 16/32/64
// channels, 6n+2 layers), VGG-16 with BN for CIFAR, ResNet-18 for ImageNet
// (224x224) and LeNet-5 for 28x28 grayscale (Fashion-MNIST). Every model is a
// Sequential producing logits {N, classes}; layer names follow PyTorch's
// (conv1, bn1, layer1.0.conv1, ..., fc) so checkpoints read naturally.
//
//   ModelOptions o{.name = "resnet20", .num_classes = 10};
//   std::unique_ptr<engine::Sequential> net = BuildModel(o);
//   InitializeParameters(*net, /*seed=*/1);
//
// With an activation_layer factory every ReLU output gets a layer of its own
// after it (e.g. activation quantization): "bn1.act" after the stem, the
// blocks' "<block>.bn1.act" and "<block>.add.act", VGG's "features.<i>.bn.act",
// LeNet's "relu<i>.act" (ResNet-20: 1 + 9 * 2 = 19 layers).
#ifndef PSG_MODELS_ZOO_H_
#define PSG_MODELS_ZOO_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/sequential.h"
#include "models/basic_block.h"

namespace psg::models {

struct ModelOptions {
  std::string name = "resnet20";  // see ModelNames()
  int64_t num_classes = 10;
  ShortcutKind shortcut = ShortcutKind::kProjection;  // CIFAR ResNets only
  ActivationFactory activation_layer;  // optional: a layer after every ReLU output
  // Middle widths of named basic blocks ("layer1.0" -> 8: conv1's filters),
  // e.g. of a filter-pruned network (prune/structured.h); blocks not named
  // keep their full width. ResNets only; an unknown block name throws.
  std::map<std::string, int64_t> block_mid_channels;
  // The convolutions' and linear layers' arithmetic (engine/precision.h);
  // kBf16 throws std::runtime_error where the CPU lacks bf16.
  engine::Precision precision = engine::Precision::kFp32;
  // Every BN layer's cross-replica sum for synchronized batch statistics in
  // data-parallel training (not owned; engine/batch_norm.h); null: none.
  engine::CrossReplicaSum* batch_norm_sync = nullptr;
};

std::vector<std::string> ModelNames();
// Throws std::invalid_argument naming the known models for an unknown name.
std::unique_ptr<engine::Sequential> BuildModel(const ModelOptions& options);
// Input {C, H, W} the model is built for.
engine::Dims InputDims(const std::string& name);
// Whether the model takes square images of any size (with InputDims'
// channels): the ResNets, whose classifier follows a global average pooling
// (ResNet-18 on 32x32 CIFAR images, a CIFAR ResNet on 224x224 ones; the
// pooling takes square maps only). VGG-16-BN and LeNet-5 flatten a fixed-size
// feature map into their classifier.
bool TakesAnyImageSize(const std::string& name);
// Kaiming-normal (fan_out) convolutions, BN gamma 1 / beta 0, and PyTorch's
// default uniform fan-in init for fully connected layers.
void InitializeParameters(engine::Layer& model, uint64_t seed);
int64_t CountTrainableParameters(engine::Layer& model);

// The batch norm before the activation layer `activation` (a factory-made
// layer's name, e.g. "layer1.0.bn1.act"): the one whose ReLU it follows, or for
// a residual block's output ("layer1.0.add.act") the block's last, bn2, as the
// released PSG code pairs them (quant_utils.py search_bn). Empty if none
// (LeNet-5's ReLUs follow no batch norm).
std::string BatchNormBefore(const std::string& activation);

}  // namespace psg::models

#endif  // PSG_MODELS_ZOO_H_
