#include "engine/precision.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace psg::engine {

const char* PrecisionName(Precision precision) {
  for (const auto& [name, value] : kPrecisionNames) {
    if (value == precision) return name.data();  // the names are literals: terminated
  }
  return "fp32";
}

dnnl::memory::data_type ActivationType(Precision precision) {
  return precision == Precision::kBf16 ? dnnl::memory::data_type::bf16
                                       : dnnl::memory::data_type::f32;
}

bool Bf16Supported() {
  // oneDNN's ISA values are nested bit sets: every ISA with native bf16
  // contains avx512_core_bf16's bits.
  const unsigned bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & bf16) == bf16;
}

bool Int8DotProductsExact() {
  const unsigned effective = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto contains = [&](dnnl::cpu_isa isa) {
    return (effective & static_cast<unsigned>(isa)) == static_cast<unsigned>(isa);
  };
  return contains(dnnl::cpu_isa::avx2_vnni) || contains(dnnl::cpu_isa::avx512_core_vnni);
}

std::string EffectiveIsaName() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41: return "sse41";
    case isa::avx: return "avx";
    case isa::avx2: return "avx2";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx512_mic: return "avx512_mic";
    case isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case isa::avx512_core: return "avx512_core";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_amx: return "avx512_core_amx";
    default: break;
  }
  return "unknown";
}

void RequirePrecision(Precision precision) {
  if (precision != Precision::kBf16 || Bf16Supported()) return;
  throw std::runtime_error(absl::StrCat(
      "precision bf16 needs a CPU with AVX512-BF16 or AMX (e.g. Intel Cooper Lake, Sapphire "
      "Rapids or later, AMD Zen 4 or later); oneDNN's instruction set here is ",
      EffectiveIsaName(), ", where bf16 would be emulated far slower than fp32. Use --precision=fp32"));
}

}  // namespace psg::engine
