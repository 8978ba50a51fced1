#include "psg/target.h"

#include <cmath>
#include <limits>

#include "engine/check.h"

namespace psg::psgd {

GridTarget::GridTarget(const GridOptions& options, int bits, absl::Span<const int64_t> dims)
    : options_(options), bits_(bits) {
  CheckGridBits(bits, "GridTarget");
  PSG_CHECK(options.ema_momentum > 0.0f && options.ema_momentum <= 1.0f,
            "GridTarget: moving-average momentum must be in (0, 1], got ", options.ema_momentum);
  PSG_CHECK(!dims.empty(), "GridTarget: a tensor needs at least one dimension");
  numel_ = 1;
  for (int64_t d : dims) numel_ *= d;
  PSG_CHECK(numel_ > 0, "GridTarget: empty tensor");
  rows_ = options.per_channel && dims.size() > 1 ? dims[0] : 1;
  const int values_per_row = options.range == GridRange::kAsymmetric ? 2 : 1;
  range_state_.assign(rows_ * values_per_row, std::numeric_limits<float>::quiet_NaN());
  grids_.resize(rows_);
}

void GridTarget::Observe(absl::Span<const float> w) {
  PSG_CHECK(static_cast<int64_t>(w.size()) == numel_, "GridTarget: expected ", numel_,
            " weights, got ", w.size());
  const int64_t row_size = w.size() / rows_;
  const bool exact = options_.estimate == RangeEstimate::kExact;
  const float m = options_.ema_momentum;
  auto fold = [&](float observed, float& state) {
    // r + m (observed - r) rather than (1 - m) r + m observed: a constant
    // range then stays exactly constant, and so do weights on its grid.
    state = exact || std::isnan(state) ? observed : state + m * (observed - state);
  };
  for (int64_t r = 0; r < rows_; ++r) {
    const float* row = w.data() + r * row_size;
    if (options_.range == GridRange::kAsymmetric) {
      float low, high;
      compression::MinMaxWithZero({row, static_cast<size_t>(row_size)}, &low, &high);
      fold(low, range_state_[2 * r]);
      fold(high, range_state_[2 * r + 1]);
      grids_[r] = MakeGrid(options_.range, bits_, range_state_[2 * r], range_state_[2 * r + 1]);
    } else {
      fold(compression::MaxAbs({row, static_cast<size_t>(row_size)}), range_state_[r]);
      grids_[r] = MakeGrid(options_.range, bits_, -range_state_[r], range_state_[r]);
    }
  }
}

}  // namespace psg::psgd
