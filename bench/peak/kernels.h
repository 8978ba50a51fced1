// Peak-throughput loops of one core's arithmetic units, one ISA per target
// (built with that ISA's compiler flags, called only where cpu_features.h
// finds it). Each runs `iterations` rounds of independent multiply-adds on
// values kept in registers and returns the floating-point operations done
// (a multiply-add counts 2), so FLOP / seconds is the unit's throughput.
//
//   if (HasAvx512Bf16()) flops = Bf16DotFlops(1 << 20);
#ifndef PSG_BENCH_PEAK_KERNELS_H_
#define PSG_BENCH_PEAK_KERNELS_H_

#include <cstdint>

namespace psg::bench {

// AVX-512 FMA: vfmadd231ps on 16 f32 lanes, 24 independent accumulators.
double Fp32FmaFlops(int64_t iterations);

// AVX512-BF16: vdpbf16ps (16 f32 lanes, each the sum of 2 bf16 products), 24
// independent accumulators.
double Bf16DotFlops(int64_t iterations);

// AMX-BF16: tdpbf16ps on full tiles (16 x 16 f32 += 16 x 32 bf16 . 32 x 16
// bf16), 4 independent accumulator tiles. The calling thread must have been
// granted AMX state (RequestAmx in cpu_features.h).
double AmxBf16Flops(int64_t iterations);

}  // namespace psg::bench

#endif  // PSG_BENCH_PEAK_KERNELS_H_
