#include "models/zero_pad_shortcut.h"

#include <algorithm>

#include "engine/check.h"
#include "engine/context.h"
#include "engine/graph.h"

namespace psg::models {

using engine::Dims;
using engine::Tensor;

ZeroPadShortcut::ZeroPadShortcut(std::string name, int64_t in_channels, int64_t out_channels,
                                 int64_t stride)
    : Layer(std::move(name)), in_channels_(in_channels), out_channels_(out_channels), stride_(stride) {
  PSG_CHECK(out_channels >= in_channels && (out_channels - in_channels) % 2 == 0 && stride > 0,
            "ZeroPadShortcut '", this->name(), "': needs out >= in with an even difference and ",
            "stride > 0; got in=", in_channels, " out=", out_channels, " stride=", stride);
}

const Tensor& ZeroPadShortcut::Forward(const Tensor& x, engine::Mode) {
  const Dims in = x.dims();
  PSG_CHECK(in.size() == 4 && in[1] == in_channels_, "ZeroPadShortcut '", name(), "': expected ",
            in_channels_, " input channels, got ", engine::DimsToString(in));
  input_dims_ = in;
  const int64_t oh = (in[2] + stride_ - 1) / stride_, ow = (in[3] + stride_ - 1) / stride_;
  output_.EnsureDesc(engine::PlainDesc({in[0], out_channels_, oh, ow}));
  const Tensor& src = input_adapter_.To(x, engine::PlainDesc(in));
  engine::Stream().wait();
  const int64_t pad = (out_channels_ - in_channels_) / 2;
  const float* s = src.raw();
  float* d = output_.raw();
  std::fill_n(d, output_.numel(), 0.0f);
  for (int64_t n = 0; n < in[0]; ++n)
    for (int64_t c = 0; c < in_channels_; ++c)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j)
          d[((n * out_channels_ + c + pad) * oh + i) * ow + j] =
              s[((n * in_channels_ + c) * in[2] + i * stride_) * in[3] + j * stride_];
  return output_;
}

const Tensor& ZeroPadShortcut::Backward(const Tensor& dy) {
  PSG_CHECK(!input_dims_.empty() && dy.dims() == output_.dims(), "ZeroPadShortcut '", name(),
            "': Backward needs a Forward with matching output dims");
  const Dims in = input_dims_;
  const Dims out = output_.dims();
  input_grad_.EnsureDesc(engine::PlainDesc(in));
  const Tensor& g = grad_adapter_.To(dy, engine::PlainDesc(out));
  engine::Stream().wait();
  const int64_t pad = (out_channels_ - in_channels_) / 2;
  const float* s = g.raw();
  float* d = input_grad_.raw();
  std::fill_n(d, input_grad_.numel(), 0.0f);
  for (int64_t n = 0; n < in[0]; ++n)
    for (int64_t c = 0; c < in_channels_; ++c)
      for (int64_t i = 0; i < out[2]; ++i)
        for (int64_t j = 0; j < out[3]; ++j)
          d[((n * in_channels_ + c) * in[2] + i * stride_) * in[3] + j * stride_] =
              s[((n * out_channels_ + c + pad) * out[2] + i) * out[3] + j];
  return input_grad_;
}

int ZeroPadShortcut::Export(engine::Graph* graph, int input) const {
  engine::Node node;
  node.kind = engine::NodeKind::kZeroPadShortcut;
  node.name = name();
  node.inputs = {input};
  node.in_channels = in_channels_;
  node.out_channels = out_channels_;
  node.stride = stride_;
  return graph->AddNode(std::move(node));
}

}  // namespace psg::models
