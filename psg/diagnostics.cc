#include "psg/diagnostics.h"

namespace psg::psgd {

double QuantizationMse(absl::Span<const float> w, int bits) {
  if (w.empty()) return 0;
  const int64_t dims[] = {static_cast<int64_t>(w.size())};
  GridTarget grid({.range = GridRange::kRestricted, .estimate = RangeEstimate::kExact}, bits, dims);
  return SumOfTerms(grid, w, [](double d) { return d * d; }) / w.size();
}

}  // namespace psg::psgd
