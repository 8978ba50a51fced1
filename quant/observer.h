// Observers (calibrators): the per-row ranges a TensorQuantizer is built from,
// estimated from data. Each observer is made for one QuantizerSpec and tensor
// shape (so its rows are the quantizer's), takes Observe(batch) calls, then
// gives Range(). The batch-norm rule needs no data: BatchNormRange.
//
//   MseObserver observer({.bits = 4}, dims);
//   for (const auto& batch : calibration) observer.Observe(batch);
//   const RowRanges r = observer.Range();
//   TensorQuantizer q = TensorQuantizer::FromRanges({.bits = 4}, dims, r.low, r.high);
#ifndef PSG_QUANT_OBSERVER_H_
#define PSG_QUANT_OBSERVER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "compression/released_defaults.h"
#include "quant/quantizer.h"

namespace psg::quant {
namespace internal {

// What every observer shares: the shape of the observed tensor, its row
// layout, and whether anything was observed yet.
class RowObserver {
 protected:
  RowObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims, const char* name);
  // Throws unless x has the tensor's size; then counts as observed. True for
  // the first batch.
  bool CheckBatch(absl::Span<const float> x);
  // Throws if nothing was observed yet.
  void CheckObserved() const;

  QuantizerSpec spec_;
  std::vector<int64_t> dims_;
  RowLayout layout_;
  const char* name_;
  bool observed_ = false;
};

// Keeps every observed value, per row, for the order statistics and error
// searches that need them all: 4 bytes per observed element, meant for a few
// calibration batches.
class SampleObserver : public RowObserver {
 public:
  void Observe(absl::Span<const float> x);

 protected:
  using RowObserver::RowObserver;
  std::vector<std::vector<float>> samples_;  // [row] -> values
};

}  // namespace internal

// The extremes over all batches (torch's MinMaxObserver): [min(x, 0),
// max(x, 0)] per row, or [-max|x|, max|x|] for symmetric grids (ExactRanges).
class MinMaxObserver : public internal::RowObserver {
 public:
  MinMaxObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims);
  void Observe(absl::Span<const float> x);
  RowRanges Range() const;

 private:
  RowRanges range_;
};

// A moving average of each batch's exact range (torch's
// MovingAverageMinMaxObserver): the first batch initializes it, then each end
// moves r <- r + momentum * (observed - r). The default momentum is the
// released PSG code's (torch's averaging_constant defaults to 0.01).
class MovingAverageMinMaxObserver : public internal::RowObserver {
 public:
  MovingAverageMinMaxObserver(
      const QuantizerSpec& spec, absl::Span<const int64_t> dims,
      float momentum = static_cast<float>(compression::kReleasedRangeMomentum));
  void Observe(absl::Span<const float> x);
  RowRanges Range() const;

 private:
  float momentum_;
  RowRanges range_;
};

enum class PercentileOf {
  // [-P(|x|), P(|x|)]: a symmetric clip.
  kAbs,
  // [P_{100-p}(x), P_p(x)] (p >= 50): both tails, for the asymmetric grid.
  kValue,
};

// The p-th percentile of all observed values of each row, computed exactly
// on the values themselves (no histogram): the value at position
// p / 100 * (n - 1) of the sorted row, interpolated linearly between its two
// neighbours (numpy's and torch.quantile's default). p = 100 is the max.
class PercentileObserver : public internal::SampleObserver {
 public:
  PercentileObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                     double percentile = 99.99, PercentileOf of = PercentileOf::kAbs);
  RowRanges Range() const;

 private:
  double percentile_;
  PercentileOf of_;
};

// The clip that minimizes the quantization error sum (x - Q_c(x))^2 over all
// observed values of each row, with Q_c the spec's quantizer (bits, range,
// rounding) for the range [low_k, high_k]. With [low, high] the row's exact
// range (ExactRanges), the candidates are the fractions k / K of it,
//   low_k = low * a_k,  high_k = high * a_k,  a_k = float(k) / float(K),
// for k = 1..K: for symmetric grids the clips c_k = a_k * max|x|, K of them
// evenly spaced in (0, max|x|], the last the max itself (so the result is
// never worse than MinMaxObserver's). Ties keep the smallest clip.
class MseObserver : public internal::SampleObserver {
 public:
  MseObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims, int candidates = 100);
  RowRanges Range() const;

 private:
  int candidates_;
};

// How the batch-norm rule treats a negative gamma: kAbsolute spreads each
// channel by n |gamma_c| both ways; kSigned is the released PSG code's
// (quant_utils.py save_bn_param): high = max_c (beta_c + n gamma_c) as is.
enum class GammaSign { kAbsolute, kSigned };

// The batch-norm rule (DFQ, Nagel et al. 2019) for the activations after a
// batch-norm layer, whose channel c is about N(beta_c, gamma_c^2):
// high = max_c (beta_c + n |gamma_c|), and low = min_c (beta_c - n |gamma_c|),
// or 0 for an unsigned activation (after a ReLU; there high >= 0 too). One
// row: a per-tensor range; an unsigned activation wants the asymmetric grid
// (levels 0..2^b - 1).
//
//   RowRanges r = BatchNormRange(gamma, beta, /*unsigned_activation=*/true, 6, GammaSign::kSigned);
RowRanges BatchNormRange(absl::Span<const float> gamma, absl::Span<const float> beta,
                         bool unsigned_activation,
                         float n = static_cast<float>(compression::kReleasedBnRangeN),
                         GammaSign sign = GammaSign::kAbsolute);

}  // namespace psg::quant

#endif  // PSG_QUANT_OBSERVER_H_
