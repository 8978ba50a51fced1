// Tensor: an f32 (or, for bf16 networks' activations, bf16) oneDNN memory
// object plus the helpers the engine needs.
//
// Activations live in whatever layout the producing primitive chose
// (format_tag::any, usually nChw16c); parameters and gradients are always f32
// and live in plain row-major layouts (oihw, oi, x) so optimizers, PSG,
// quantizers and pruners can treat them as flat float arrays with the output
// channel outermost.
// Copying a Tensor copies the handle, not the data; like dnnl::memory, a
// const Tensor has a fixed buffer whose contents may still change.
//
//   Tensor x = Tensor::Plain({n, c, h, w});
//   x.CopyFromPlain(values);                 // logical NCHW order
//   std::vector<float> out = y.ToPlain();    // any layout -> logical order
#ifndef PSG_ENGINE_TENSOR_H_
#define PSG_ENGINE_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {

using Dims = dnnl::memory::dims;

std::string DimsToString(const Dims& dims);
int64_t Product(const Dims& dims);

// The plain row-major format tag for a rank (x, nc, ncw, nchw, ncdhw), and
// the descriptor of dims in that layout (f32 unless `type` says otherwise).
dnnl::memory::format_tag PlainTag(size_t rank);
dnnl::memory::desc PlainDesc(const Dims& dims,
                             dnnl::memory::data_type type = dnnl::memory::data_type::f32);

class Tensor {
 public:
  Tensor() = default;
  // Allocates a tensor with the given (f32 or bf16) descriptor on the engine's CPU.
  explicit Tensor(const dnnl::memory::desc& desc);
  // Wraps existing memory (shares its buffer).
  explicit Tensor(dnnl::memory memory) : memory_(std::move(memory)) {}

  // A zero-filled f32 tensor in the plain row-major layout.
  static Tensor Plain(const Dims& dims);
  // A plain tensor over `data`, which it does not own (nullptr: no buffer
  // yet; point it later with memory().set_data_handle).
  static Tensor View(float* data, const Dims& dims);

  bool empty() const { return !memory_; }
  dnnl::memory::desc desc() const { return memory_.get_desc(); }
  Dims dims() const { return desc().dims(); }
  int64_t numel() const { return Product(dims()); }
  dnnl::memory::data_type data_type() const { return desc().data_type(); }
  // Plain row-major layout and f32.
  bool is_plain() const;

  const dnnl::memory& memory() const { return memory_; }
  // Raw buffer in the tensor's own layout (blocked layouts include padding);
  // f32 tensors only (a bf16 tensor's buffer holds 16-bit values).
  float* raw() const { return static_cast<float*>(memory_.get_data_handle()); }
  // Flat view of a plain f32 tensor, numel() elements. Throws if not plain.
  absl::Span<float> flat() const;

  // Values in logical (plain row-major) order, whatever the layout and type.
  std::vector<float> ToPlain() const;
  // Sets the values from logical (plain row-major) order (rounded to nearest
  // even for a bf16 tensor).
  void CopyFromPlain(absl::Span<const float> values) const;
  void Fill(float value) const;

  // Allocates new memory only when `desc` differs from the current one, so a
  // layer reusing its outputs does not allocate in steady state.
  void EnsureDesc(const dnnl::memory::desc& desc);

 private:
  dnnl::memory memory_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_TENSOR_H_
