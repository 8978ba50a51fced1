// The arithmetic a network's convolutions and linear layers run in.
//
// kFp32: everything in f32. kBf16: mixed precision as on GPUs with autocast,
// on the CPU's AVX512-BF16 / AMX units through oneDNN's bf16 primitives:
// activations, their gradients and per-step copies of the weights in bf16;
// the weights themselves (the master copy that optimizers, PSG, pruning masks
// and quantizers work on), parameter gradients (accumulated in f32 by the
// primitives), batch norm's statistics and affine parameters, logits and the
// loss in f32. Layers without weights (batch norm, ReLU, pooling, adds) run in
// the data type of their input.
//
//   ABSL_FLAG(Precision, precision, Precision::kFp32, "fp32 or bf16");  // flags/enum_flag.h
//   RequirePrecision(p);                         // throws where the CPU lacks bf16
//   Conv2d conv("conv1", {.in_channels = 3, .out_channels = 16, .precision = p});
#ifndef PSG_ENGINE_PRECISION_H_
#define PSG_ENGINE_PRECISION_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "flags/enum_flag.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {

enum class Precision { kFp32, kBf16 };

// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<Precision> kPrecisionNames[] = {{"fp32", Precision::kFp32},
                                                                 {"bf16", Precision::kBf16}};
PSG_ENUM_FLAG(Precision, kPrecisionNames)
const char* PrecisionName(Precision precision);  // "fp32", "bf16"

// The data type of activations (and of the weights' copies) at `precision`.
dnnl::memory::data_type ActivationType(Precision precision);

// Whether oneDNN runs bf16 natively here: its effective ISA (the CPU's, capped
// by ONEDNN_MAX_CPU_ISA) includes AVX512-BF16 (avx512_core_bf16 or AMX).
bool Bf16Supported();
// Whether oneDNN's int8 convolutions and inner products sum exact int32
// products here: its effective ISA has VNNI (avx2_vnni, avx512_core_vnni or
// above). Without VNNI oneDNN halves the weights of s8-input layers (one bit
// lost) and u8 x s8 pair sums saturate at int16 (oneDNN's "Nuances of int8
// computations").
bool Int8DotProductsExact();
// oneDNN's name of its effective ISA, e.g. "avx512_core_amx".
std::string EffectiveIsaName();

// Throws std::runtime_error for kBf16 where !Bf16Supported(): oneDNN would
// otherwise emulate bf16 at a fraction of the fp32 speed.
void RequirePrecision(Precision precision);

}  // namespace psg::engine

#endif  // PSG_ENGINE_PRECISION_H_
