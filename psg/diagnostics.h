// How close a tensor is to its compression target, for per-epoch logs and for
// the paper's Fig. 1 (per-layer quantization MSE, PSG vs SGD).
//
//   double distance = MeanDistance(target, w);  // the grid PSG pulls toward
//   double mse = QuantizationMse(w, /*bits=*/4);  // the grid evaluation uses
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

// ||W - Q_b(W)||^2 / n for the quantizer of the evaluation protocol: one grid
// per tensor, levels -qmax..qmax, step max|W| / qmax from the exact max-abs.
double QuantizationMse(absl::Span<const float> w, int bits);

}  // namespace psg::psgd

#endif  // PSG_PSG_DIAGNOSTICS_H_
