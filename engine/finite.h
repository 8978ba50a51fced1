// Finding NaNs and infinities fast: one branch-free pass over blocks of 64
// values (a value is non-finite when its exponent bits are all set), so the
// all-finite case, checked every training step, runs vectorized.
//
//   int64_t bad = FirstNonFinite(param->value.flat());
//   if (bad >= 0) return Diverged(param->name, bad, param->value.flat()[bad]);
#ifndef PSG_ENGINE_FINITE_H_
#define PSG_ENGINE_FINITE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/types/span.h"

namespace psg::engine {

namespace internal {

template <typename T, typename Bits>
int64_t FirstNonFinite(absl::Span<const T> values, Bits exponent_mask) {
  static_assert(sizeof(T) == sizeof(Bits));
  const int64_t n = static_cast<int64_t>(values.size());
  for (int64_t begin = 0; begin < n; begin += 64) {
    const int64_t end = std::min<int64_t>(n, begin + 64);
    bool any = false;
    for (int64_t i = begin; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, &values[i], sizeof bits);
      any |= (bits & exponent_mask) == exponent_mask;
    }
    if (!any) continue;
    for (int64_t i = begin; i < end; ++i) {
      if (!std::isfinite(values[i])) return i;
    }
  }
  return -1;
}

}  // namespace internal

// The index of the first NaN or infinity in `values`, or -1 if all are finite.
inline int64_t FirstNonFinite(absl::Span<const float> values) {
  return internal::FirstNonFinite(values, uint32_t{0x7f800000});
}
inline int64_t FirstNonFinite(absl::Span<const double> values) {
  return internal::FirstNonFinite(values, uint64_t{0x7ff0000000000000});
}

}  // namespace psg::engine

#endif  // PSG_ENGINE_FINITE_H_
