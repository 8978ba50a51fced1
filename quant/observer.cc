#include "quant/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/check.h"

namespace psg::quant {
namespace internal {

RowObserver::RowObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                         const char* name)
    : spec_(spec),
      dims_(dims.begin(), dims.end()),
      layout_(LayoutOf(spec, dims, name)),
      name_(name) {}

bool RowObserver::CheckBatch(absl::Span<const float> x) {
  PSG_CHECK(static_cast<int64_t>(x.size()) == layout_.size(), name_, ": expected ", layout_.size(),
            " values, got ", x.size());
  const bool first = !observed_;
  observed_ = true;
  return first;
}

void RowObserver::CheckObserved() const {
  PSG_CHECK(observed_, name_, ": Range() before any Observe()");
}

void SampleObserver::Observe(absl::Span<const float> x) {
  CheckBatch(x);
  samples_.resize(layout_.rows);
  for (int64_t r = 0; r < layout_.rows; ++r) {
    const auto row = x.subspan(r * layout_.row_size, layout_.row_size);
    samples_[r].insert(samples_[r].end(), row.begin(), row.end());
  }
}

}  // namespace internal

namespace {

// The q-th percentile (0 <= q <= 100) of `values`, reordering them: linear
// interpolation between the order statistics at floor and ceil of
// q / 100 * (n - 1).
float Percentile(std::vector<float>& values, double q) {
  const double position = q / 100.0 * (values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  std::nth_element(values.begin(), values.begin() + below, values.end());
  const double low = values[below];
  if (below + 1 == values.size()) return low;
  // The next order statistic is the least of those nth_element put above.
  const double high = *std::min_element(values.begin() + below + 1, values.end());
  return static_cast<float>(low + (position - below) * (high - low));
}

// Folds the exact ranges of batch x into `range`, end by end:
// end = fold(end, batch's end, is_low). The first batch initializes it.
template <class Fold>
void FoldExactRanges(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                     absl::Span<const float> x, bool first, RowRanges& range, Fold fold) {
  RowRanges batch = ExactRanges(spec, dims, x);
  if (first) {
    range = std::move(batch);
    return;
  }
  for (size_t r = 0; r < range.low.size(); ++r) {
    range.low[r] = fold(range.low[r], batch.low[r], true);
    range.high[r] = fold(range.high[r], batch.high[r], false);
  }
}

}  // namespace

MinMaxObserver::MinMaxObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims)
    : RowObserver(spec, dims, "MinMaxObserver") {}

void MinMaxObserver::Observe(absl::Span<const float> x) {
  FoldExactRanges(spec_, dims_, x, CheckBatch(x), range_, [](float range, float batch, bool low) {
    return low ? std::min(range, batch) : std::max(range, batch);
  });
}

RowRanges MinMaxObserver::Range() const {
  CheckObserved();
  return range_;
}

MovingAverageMinMaxObserver::MovingAverageMinMaxObserver(const QuantizerSpec& spec,
                                                         absl::Span<const int64_t> dims,
                                                         float momentum)
    : RowObserver(spec, dims, "MovingAverageMinMaxObserver"), momentum_(momentum) {
  PSG_CHECK(momentum > 0.0f && momentum <= 1.0f,
            "MovingAverageMinMaxObserver: momentum must be in (0, 1], got ", momentum);
}

void MovingAverageMinMaxObserver::Observe(absl::Span<const float> x) {
  // r + m (observed - r): a constant range stays exactly constant.
  FoldExactRanges(
      spec_, dims_, x, CheckBatch(x), range_,
      [m = momentum_](float range, float batch, bool) { return range + m * (batch - range); });
}

RowRanges MovingAverageMinMaxObserver::Range() const {
  CheckObserved();
  return range_;
}

PercentileObserver::PercentileObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                                       double percentile, PercentileOf of)
    : SampleObserver(spec, dims, "PercentileObserver"), percentile_(percentile), of_(of) {
  PSG_CHECK(percentile > 0.0 && percentile <= 100.0,
            "PercentileObserver: percentile must be in (0, 100], got ", percentile);
  PSG_CHECK(of == PercentileOf::kAbs || percentile >= 50.0,
            "PercentileObserver: a percentile of values (both tails) must be >= 50, got ",
            percentile);
}

RowRanges PercentileObserver::Range() const {
  CheckObserved();
  RowRanges ranges{std::vector<float>(layout_.rows), std::vector<float>(layout_.rows)};
  for (int64_t r = 0; r < layout_.rows; ++r) {
    std::vector<float> values = samples_[r];
    if (of_ == PercentileOf::kAbs) {
      for (float& v : values) v = std::fabs(v);
      ranges.high[r] = Percentile(values, percentile_);
      ranges.low[r] = -ranges.high[r];
    } else {
      ranges.high[r] = Percentile(values, percentile_);
      ranges.low[r] = Percentile(values, 100.0 - percentile_);
    }
  }
  return ranges;
}

MseObserver::MseObserver(const QuantizerSpec& spec, absl::Span<const int64_t> dims, int candidates)
    : SampleObserver(spec, dims, "MseObserver"), candidates_(candidates) {
  compression::CheckGridBits(spec.bits, "MseObserver");
  PSG_CHECK(candidates >= 1, "MseObserver: needs at least one candidate clip, got ", candidates);
}

RowRanges MseObserver::Range() const {
  CheckObserved();
  QuantizerSpec row_spec = spec_;
  row_spec.per_channel = false;
  RowRanges ranges{std::vector<float>(layout_.rows), std::vector<float>(layout_.rows)};
  for (int64_t r = 0; r < layout_.rows; ++r) {
    const std::vector<float>& values = samples_[r];
    const int64_t n = values.size();
    const RowRanges exact = ExactRanges(row_spec, {n}, values);
    std::vector<float> quantized(n);
    double best_error = std::numeric_limits<double>::infinity();
    for (int k = 1; k <= candidates_; ++k) {
      const float a = static_cast<float>(k) / static_cast<float>(candidates_);
      const float low = exact.low[0] * a, high = exact.high[0] * a;
      TensorQuantizer::FromRanges(row_spec, {n}, {low}, {high})
          .FakeQuantize(values, absl::MakeSpan(quantized));
      double error = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double d = double{values[i]} - quantized[i];
        error += d * d;
      }
      if (error < best_error) {
        best_error = error;
        ranges.low[r] = low;
        ranges.high[r] = high;
      }
    }
  }
  return ranges;
}

RowRanges BatchNormRange(absl::Span<const float> gamma, absl::Span<const float> beta,
                         bool unsigned_activation, float n, GammaSign sign) {
  PSG_CHECK(!gamma.empty() && gamma.size() == beta.size(),
            "BatchNormRange: expected as many gammas as betas (at least one), got ", gamma.size(),
            " and ", beta.size());
  PSG_CHECK(n > 0.0f && std::isfinite(n), "BatchNormRange: n must be > 0, got ", n);
  float low = std::numeric_limits<float>::infinity(), high = -low;
  for (size_t c = 0; c < gamma.size(); ++c) {
    PSG_CHECK(std::isfinite(gamma[c]) && std::isfinite(beta[c]), "BatchNormRange: channel ", c,
              " has a non-finite gamma or beta");
    const float spread = n * (sign == GammaSign::kSigned ? gamma[c] : std::fabs(gamma[c]));
    low = std::min(low, beta[c] - std::fabs(spread));
    high = std::max(high, beta[c] + spread);
  }
  if (unsigned_activation) {
    low = 0.0f;
    high = std::max(high, 0.0f);
  }
  return {{low}, {high}};
}

}  // namespace psg::quant
