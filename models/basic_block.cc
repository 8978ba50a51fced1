#include "models/basic_block.h"

#include "engine/check.h"
#include "engine/graph.h"
#include "models/zero_pad_shortcut.h"

namespace psg::models {

using engine::Mode;
using engine::ProfiledBackward;
using engine::ProfiledForward;
using engine::Tensor;

namespace {

engine::Conv2dOptions Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                           engine::Precision precision) {
  engine::Conv2dOptions o;
  o.precision = precision;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = kernel;
  o.stride = stride;
  o.padding = kernel / 2;
  return o;
}

engine::BatchNormOptions Bn(int64_t channels, bool relu, engine::CrossReplicaSum* sync) {
  engine::BatchNormOptions o;
  o.channels = channels;
  o.fuse_relu = relu;
  o.cross_replica = sync;
  return o;
}

int64_t MidChannels(const std::string& name, const BasicBlockOptions& o) {
  PSG_CHECK(o.mid_channels >= 0, "BasicBlock '", name, "': mid_channels must be >= 0, got ",
            o.mid_channels);
  return o.mid_channels == 0 ? o.out_channels : o.mid_channels;
}

}  // namespace

BasicBlock::BasicBlock(std::string name, const BasicBlockOptions& o)
    : Layer(name),
      conv1_(name + ".conv1", Conv(o.in_channels, MidChannels(name, o), 3, o.stride, o.precision)),
      bn1_(name + ".bn1", Bn(MidChannels(name, o), /*relu=*/true, o.batch_norm_sync)),
      conv2_(name + ".conv2", Conv(MidChannels(name, o), o.out_channels, 3, 1, o.precision)),
      bn2_(name + ".bn2", Bn(o.out_channels, /*relu=*/false, o.batch_norm_sync)),
      join_(name + ".add", /*relu=*/true),
      gradient_sum_(name + ".grad_sum", /*relu=*/false) {
  if (o.activation_layer) {
    act1_ = o.activation_layer(name + ".bn1.act");
    act_out_ = o.activation_layer(name + ".add.act");
  }
  if (o.stride == 1 && o.in_channels == o.out_channels) return;
  if (o.shortcut == ShortcutKind::kProjection) {
    shortcut_conv_ = std::make_unique<engine::Conv2d>(
        name + ".shortcut.0", Conv(o.in_channels, o.out_channels, 1, o.stride, o.precision));
    shortcut_bn_ = std::make_unique<engine::BatchNorm2d>(name + ".shortcut.1",
                                                         Bn(o.out_channels, false, o.batch_norm_sync));
  } else {
    shortcut_pad_ = std::make_unique<ZeroPadShortcut>(name + ".shortcut", o.in_channels,
                                                      o.out_channels, o.stride);
  }
}

BasicBlock::~BasicBlock() = default;

const Tensor& BasicBlock::Forward(const Tensor& x, Mode mode) {
  const Tensor* h = &ProfiledForward(bn1_, ProfiledForward(conv1_, x, mode), mode);
  if (act1_) h = &ProfiledForward(*act1_, *h, mode);
  const Tensor& main = ProfiledForward(bn2_, ProfiledForward(conv2_, *h, mode), mode);
  const Tensor* shortcut = &x;
  if (shortcut_conv_) {
    shortcut = &ProfiledForward(*shortcut_bn_, ProfiledForward(*shortcut_conv_, x, mode), mode);
  } else if (shortcut_pad_) {
    shortcut = &ProfiledForward(*shortcut_pad_, x, mode);
  }
  const Tensor* y = nullptr;
  {
    engine::ProfileScope scope(join_.name(), engine::Phase::kForward);
    y = &join_.Forward(main, *shortcut, mode);
  }
  return act_out_ ? ProfiledForward(*act_out_, *y, mode) : *y;
}

const Tensor& BasicBlock::Backward(const Tensor& dy) {
  const Tensor* d = act_out_ ? &ProfiledBackward(*act_out_, dy) : &dy;
  {
    engine::ProfileScope scope(join_.name(), engine::Phase::kBackward);
    d = &join_.Backward(*d);
  }
  const Tensor* dh = &ProfiledBackward(conv2_, ProfiledBackward(bn2_, *d));
  if (act1_) dh = &ProfiledBackward(*act1_, *dh);
  const Tensor& dx_main = ProfiledBackward(conv1_, ProfiledBackward(bn1_, *dh));
  const Tensor* dx_shortcut = d;
  if (shortcut_conv_) {
    dx_shortcut = &ProfiledBackward(*shortcut_conv_, ProfiledBackward(*shortcut_bn_, *d));
  } else if (shortcut_pad_) {
    dx_shortcut = &ProfiledBackward(*shortcut_pad_, *d);
  }
  return gradient_sum_.Forward(dx_main, *dx_shortcut, Mode::kEval);
}

void BasicBlock::CollectParameters(engine::ParameterList* out) {
  conv1_.CollectParameters(out);
  bn1_.CollectParameters(out);
  if (act1_) act1_->CollectParameters(out);
  conv2_.CollectParameters(out);
  bn2_.CollectParameters(out);
  if (shortcut_conv_) {
    shortcut_conv_->CollectParameters(out);
    shortcut_bn_->CollectParameters(out);
  }
  if (act_out_) act_out_->CollectParameters(out);
}

int BasicBlock::Export(engine::Graph* graph, int input) const {
  int h = bn1_.Export(graph, conv1_.Export(graph, input));
  if (act1_) h = act1_->Export(graph, h);
  const int main = bn2_.Export(graph, conv2_.Export(graph, h));
  int shortcut = input;
  if (shortcut_conv_) {
    shortcut = shortcut_bn_->Export(graph, shortcut_conv_->Export(graph, input));
  } else if (shortcut_pad_) {
    shortcut = shortcut_pad_->Export(graph, input);
  }
  const int y = join_.Export(graph, main, shortcut);
  return act_out_ ? act_out_->Export(graph, y) : y;
}

}  // namespace psg::models
