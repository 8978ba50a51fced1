#include "engine/denormals.h"

#include <omp.h>
#include <xmmintrin.h>

namespace psg::engine {
namespace {

constexpr unsigned kFlushToZero = 0x8000;       // MXCSR.FTZ: subnormal results become 0
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR.DAZ: subnormal inputs read as 0

void SetOnThisThread() { _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero); }

}  // namespace

void FlushDenormalsToZero() {
  SetOnThisThread();
#pragma omp parallel
  SetOnThisThread();
}

}  // namespace psg::engine
