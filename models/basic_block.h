// The ResNet basic block (He et al. 2016): conv3x3-BN-ReLU-conv3x3-BN, plus
// a shortcut, then ReLU. The first BN fuses its ReLU; the join fuses the
// last ReLU into the add.
//
// Shortcut kinds when the block changes shape (stride 2 or new width):
//   kProjection: 1x1 convolution + BN (option B; the PSG authors' code),
//   kZeroPad:    parameter-free subsample + zero channel padding (option A).
//
//   BasicBlock block("layer2.0", {.in_channels = 16, .out_channels = 32, .stride = 2});
//   BasicBlock pruned("layer1.0", {.in_channels = 16, .out_channels = 16, .mid_channels = 8});
//
// With an activation_layer factory (e.g. activation quantization, see
// quant/activation_quant.h) the block inserts its layers after each ReLU:
// "<name>.bn1.act" after bn1's ReLU and "<name>.add.act" after the join's.
#ifndef PSG_MODELS_BASIC_BLOCK_H_
#define PSG_MODELS_BASIC_BLOCK_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "engine/add.h"
#include "engine/batch_norm.h"
#include "engine/conv2d.h"
#include "engine/layer.h"
#include "flags/enum_flag.h"

namespace psg::models {

enum class ShortcutKind { kProjection, kZeroPad };
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<ShortcutKind> kShortcutNames[] = {{"projection", ShortcutKind::kProjection},
                                                                   {"zeropad", ShortcutKind::kZeroPad}};
PSG_ENUM_FLAG(ShortcutKind, kShortcutNames)

// Makes the layer inserted after a ReLU output, given its name.
using ActivationFactory = std::function<std::unique_ptr<engine::Layer>(const std::string& name)>;

struct BasicBlockOptions {
  int64_t in_channels = 16;
  int64_t out_channels = 16;
  int64_t stride = 1;
  ShortcutKind shortcut = ShortcutKind::kProjection;
  ActivationFactory activation_layer;  // optional
  // conv1's filters (= bn1's and conv2's input channels), the block's middle
  // width; 0: out_channels. Narrower for a filter-pruned block (prune/structured.h).
  int64_t mid_channels = 0;
  engine::Precision precision = engine::Precision::kFp32;  // of the convolutions
  // Synchronized batch statistics for data-parallel training (not owned;
  // engine/batch_norm.h); null: per-replica statistics.
  engine::CrossReplicaSum* batch_norm_sync = nullptr;
};

class BasicBlock : public engine::Layer {
 public:
  BasicBlock(std::string name, const BasicBlockOptions& options);
  ~BasicBlock() override;

  const engine::Tensor& Forward(const engine::Tensor& x, engine::Mode mode) override;
  const engine::Tensor& Backward(const engine::Tensor& dy) override;
  void CollectParameters(engine::ParameterList* out) override;
  int Export(engine::Graph* graph, int input) const override;

 private:
  engine::Conv2d conv1_;
  engine::BatchNorm2d bn1_;
  engine::Conv2d conv2_;
  engine::BatchNorm2d bn2_;
  // Exactly one of these is set when the block changes shape.
  std::unique_ptr<engine::Conv2d> shortcut_conv_;
  std::unique_ptr<engine::BatchNorm2d> shortcut_bn_;
  std::unique_ptr<engine::Layer> shortcut_pad_;
  engine::Add join_;
  engine::Add gradient_sum_;
  // After bn1's ReLU and after the join's ReLU, with an activation_layer factory.
  std::unique_ptr<engine::Layer> act1_;
  std::unique_ptr<engine::Layer> act_out_;
};

}  // namespace psg::models

#endif  // PSG_MODELS_BASIC_BLOCK_H_
