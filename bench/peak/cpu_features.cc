#include "bench/peak/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace psg::bench {
namespace {

struct Leaf {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Leaf Cpuid(unsigned leaf, unsigned subleaf) {
  Leaf r;
  if (__get_cpuid_max(0, nullptr) < leaf) return r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0: which register states the OS saves. Needs OSXSAVE (cpuid 1, ecx 27).
uint64_t Xcr0() {
  if (!(Cpuid(1, 0).ecx & (1u << 27))) return 0;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace

bool HasAvx512() {
  constexpr uint64_t kZmmState = 0xe6;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  return (Cpuid(7, 0).ebx & (1u << 16)) && (Xcr0() & kZmmState) == kZmmState;
}

bool HasAvx512Bf16() { return HasAvx512() && (Cpuid(7, 1).eax & (1u << 5)); }

bool HasAmxBf16() {
  const Leaf l = Cpuid(7, 0);
  return (l.edx & (1u << 22)) && (l.edx & (1u << 24));  // AMX-BF16, AMX-TILE
}

bool RequestAmx() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

}  // namespace psg::bench
