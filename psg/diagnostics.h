// How close a tensor is to its compression target, for per-epoch logs (the
// quantization MSE of the evaluation protocol is compression::QuantizationMse).
//
//   double distance = MeanDistance(target, w);  // the grid PSG pulls toward
#ifndef PSG_PSG_DIAGNOSTICS_H_
#define PSG_PSG_DIAGNOSTICS_H_

#include <cmath>
#include <cstdint>

#include "absl/types/span.h"
#include "psg/target.h"

namespace psg::psgd {

// Sum over w of term(w - nearest(w)), in double, after `target` observes w.
template <Target T, class Term>
double SumOfTerms(T& target, absl::Span<const float> w, Term term) {
  target.Observe(w);
  double sum = 0;
  ForEachRow(target, w.size(), [&](int64_t begin, int64_t size, typename T::Point nearest) {
    for (int64_t i = begin; i < begin + size; ++i) sum += term(double{w[i]} - nearest(w[i]));
  });
  return sum;
}

// Mean |w - target(w)| against the target the next step would use: `target`
// is taken by value, so observing w here leaves the optimizer's state alone.
template <Target T>
double MeanDistance(T target, absl::Span<const float> w) {
  if (w.empty()) return 0;
  return SumOfTerms(target, w, [](double d) { return std::fabs(d); }) / w.size();
}

}  // namespace psg::psgd

#endif  // PSG_PSG_DIAGNOSTICS_H_
