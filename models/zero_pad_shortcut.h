// The parameter-free "option A" ResNet shortcut: x[:, :, ::stride, ::stride]
// with (out - in) / 2 zero channels added on each side, as in the original
// CIFAR ResNets. A scalar loop over plain NCHW: it moves a few kilobytes per
// image and appears only in the down-sampling blocks.
//
//   ZeroPadShortcut pad("layer2.0.shortcut", 16, 32, 2);
#ifndef PSG_MODELS_ZERO_PAD_SHORTCUT_H_
#define PSG_MODELS_ZERO_PAD_SHORTCUT_H_

#include <string>

#include "engine/layer.h"
#include "engine/reorder.h"

namespace psg::models {

class ZeroPadShortcut : public engine::Layer {
 public:
  ZeroPadShortcut(std::string name, int64_t in_channels, int64_t out_channels, int64_t stride);

  const engine::Tensor& Forward(const engine::Tensor& x, engine::Mode mode) override;
  const engine::Tensor& Backward(const engine::Tensor& dy) override;
  int Export(engine::Graph* graph, int input) const override;

 private:
  int64_t in_channels_, out_channels_, stride_;
  engine::Dims input_dims_;
  engine::LayoutAdapter input_adapter_, grad_adapter_;
  engine::Tensor output_, input_grad_;
};

}  // namespace psg::models

#endif  // PSG_MODELS_ZERO_PAD_SHORTCUT_H_
