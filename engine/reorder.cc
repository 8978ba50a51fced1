#include "engine/reorder.h"

#include "engine/check.h"
#include "engine/context.h"

namespace psg::engine {

void Reorderer::Run(const Tensor& src, const Tensor& dst) {
  PSG_CHECK(src.dims() == dst.dims(), "reorder between different dims ", DimsToString(src.dims()),
            " and ", DimsToString(dst.dims()));
  if (!reorder_ || src.desc() != src_desc_ || dst.desc() != dst_desc_) {
    src_desc_ = src.desc();
    dst_desc_ = dst.desc();
    reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(Cpu(), src_desc_, Cpu(), dst_desc_));
  }
  Execute(reorder_, {{DNNL_ARG_FROM, src.memory()}, {DNNL_ARG_TO, dst.memory()}});
}

const Tensor& LayoutAdapter::To(const Tensor& x, const dnnl::memory::desc& want) {
  if (x.desc() == want) return x;
  converted_.EnsureDesc(want);
  reorderer_.Run(x, converted_);
  return converted_;
}

}  // namespace psg::engine
