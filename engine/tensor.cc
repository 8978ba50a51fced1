#include "engine/tensor.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_join.h"
#include "engine/check.h"
#include "engine/context.h"

namespace psg::engine {

using dnnl::memory;

std::string DimsToString(const Dims& dims) { return absl::StrCat("[", absl::StrJoin(dims, "x"), "]"); }

int64_t Product(const Dims& dims) {
  int64_t product = 1;
  for (const auto d : dims) product *= d;
  return product;
}

memory::format_tag PlainTag(size_t rank) {
  switch (rank) {
    case 1: return memory::format_tag::a;
    case 2: return memory::format_tag::ab;
    case 3: return memory::format_tag::abc;
    case 4: return memory::format_tag::abcd;
    case 5: return memory::format_tag::abcde;
    default: break;
  }
  PSG_CHECK(false, "tensor rank ", rank, " is not supported (1..5)");
  return memory::format_tag::undef;
}

memory::desc PlainDesc(const Dims& dims, memory::data_type type) {
  return memory::desc(dims, type, PlainTag(dims.size()));
}

Tensor::Tensor(const memory::desc& desc) : memory_(desc, Cpu()) {
  PSG_CHECK(desc.data_type() == memory::data_type::f32 ||
                desc.data_type() == memory::data_type::bf16,
            "engine tensors are f32 or bf16");
}

Tensor Tensor::Plain(const Dims& dims) {
  for (const auto d : dims) PSG_CHECK(d > 0, "tensor dims must be positive, got ", DimsToString(dims));
  Tensor t(PlainDesc(dims));
  t.Fill(0.0f);
  return t;
}

Tensor Tensor::View(float* data, const Dims& dims) {
  return Tensor(dnnl::memory(PlainDesc(dims), Cpu(), data != nullptr ? data : DNNL_MEMORY_NONE));
}

bool Tensor::is_plain() const { return desc() == PlainDesc(dims()); }

absl::Span<float> Tensor::flat() const {
  PSG_CHECK(is_plain(), "flat() needs a plain-layout f32 tensor, dims ", DimsToString(dims()));
  return absl::Span<float>(raw(), static_cast<size_t>(numel()));
}

std::vector<float> Tensor::ToPlain() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  if (is_plain()) {
    std::memcpy(out.data(), raw(), out.size() * sizeof(float));
    return out;
  }
  dnnl::memory plain(PlainDesc(dims()), Cpu(), out.data());
  Execute(dnnl::reorder(memory_, plain), {{DNNL_ARG_FROM, memory_}, {DNNL_ARG_TO, plain}});
  Stream().wait();
  return out;
}

void Tensor::CopyFromPlain(absl::Span<const float> values) const {
  PSG_CHECK(static_cast<int64_t>(values.size()) == numel(), "CopyFromPlain: got ", values.size(),
            " values for a tensor of dims ", DimsToString(dims()));
  if (is_plain()) {
    std::memcpy(raw(), values.data(), values.size() * sizeof(float));
    return;
  }
  dnnl::memory plain(PlainDesc(dims()), Cpu(), const_cast<float*>(values.data()));
  Execute(dnnl::reorder(plain, memory_), {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, memory_}});
  Stream().wait();
}

void Tensor::Fill(float value) const {
  if (is_plain()) {
    std::fill_n(raw(), numel(), value);
  } else {
    // Through a reorder, so the padded lanes of blocked layouts stay zero.
    CopyFromPlain(std::vector<float>(static_cast<size_t>(numel()), value));
  }
}

void Tensor::EnsureDesc(const memory::desc& desc) {
  if (memory_ && memory_.get_desc() == desc) return;
  *this = Tensor(desc);
}

}  // namespace psg::engine
