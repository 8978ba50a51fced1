// What the CPU (cpuid) and the OS (XCR0, Linux's AMX permission) allow, for
// dispatching to the ISA-specific targets of bench/peak/kernels.h.
//
//   if (HasAmxBf16() && RequestAmx()) flops = AmxBf16Flops(n);   // on each thread
#ifndef PSG_BENCH_PEAK_CPU_FEATURES_H_
#define PSG_BENCH_PEAK_CPU_FEATURES_H_

namespace psg::bench {

bool HasAvx512();      // AVX-512 F with the OS saving zmm state
bool HasAvx512Bf16();  // and AVX512-BF16
bool HasAmxBf16();     // AMX-TILE and AMX-BF16 in cpuid
// Asks Linux for the AMX tile data state (arch_prctl ARCH_REQ_XCOMP_PERM) for
// the process; true once granted.
bool RequestAmx();

}  // namespace psg::bench

#endif  // PSG_BENCH_PEAK_CPU_FEATURES_H_
