// Layout conversion with cached reorder primitives and buffers, so a layer
// that needs its input or weights in another layout pays for one primitive
// creation and one allocation per shape, not per step.
//
//   LayoutAdapter src_adapter;
//   const Tensor& src = src_adapter.To(x, pd.src_desc());  // x itself if equal
//
//   Reorderer to_plain;
//   to_plain.Run(diff_weights_blocked, param.grad);
#ifndef PSG_ENGINE_REORDER_H_
#define PSG_ENGINE_REORDER_H_

#include "engine/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {

// Copies src into dst (same logical dims, any layouts).
class Reorderer {
 public:
  void Run(const Tensor& src, const Tensor& dst);

 private:
  dnnl::memory::desc src_desc_;
  dnnl::memory::desc dst_desc_;
  dnnl::reorder reorder_;
};

// Presents a tensor in a wanted layout.
class LayoutAdapter {
 public:
  // Returns `x` when it already has `want`; else a reordered copy owned here,
  // valid until the next call.
  const Tensor& To(const Tensor& x, const dnnl::memory::desc& want);

 private:
  Tensor converted_;
  Reorderer reorderer_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_REORDER_H_
