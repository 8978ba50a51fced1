// Uniform b-bit quantizers (b = 2..8) over the shared grid: per tensor or
// per output channel, symmetric (restricted or full) or asymmetric, rounding
// half to even (torch.round) or half away from zero. A TensorQuantizer holds
// the grid of each row of one tensor; its ranges come from the tensor itself
// (FromExactRange) or from an observer over calibration data (FromRanges, see
// quant/observer.h).
//
//   TensorQuantizer q = TensorQuantizer::FromExactRange(
//       {.bits = 4, .per_channel = true}, weight_dims, w);
//   q.FakeQuantize(w, w_hat);                // w_hat[i] = step_r * level_i
//   q.ToCodes(w, codes);                     // the integer levels themselves
#ifndef PSG_QUANT_QUANTIZER_H_
#define PSG_QUANT_QUANTIZER_H_

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "compression/quant_grid.h"
#include "flags/enum_flag.h"

namespace psg::quant {

// Round to nearest, ties away from zero (std::round, C's round()), written so
// that it vectorizes: compression::RoundHalfEven differs from it only on ties that
// it rounded towards zero, where x - RoundHalfEven(x) = copysign(0.5, x)
// exactly; those move one further away. The condition selects a constant, not
// a sum: GCC will not if-convert (vectorize) a floating add that may trap.
// Valid for |x| < 2^22, as RoundHalfEven.
inline float RoundHalfAway(float x) {
  const float even = compression::RoundHalfEven(x);
  return even + (x - even == std::copysign(0.5f, x) ? std::copysign(1.0f, x) : 0.0f);
}

enum class Rounding { kHalfEven, kHalfAway };
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<Rounding> kRoundingNames[] = {{"half_even", Rounding::kHalfEven},
                                                               {"half_away", Rounding::kHalfAway}};
PSG_ENUM_FLAG(Rounding, kRoundingNames)

struct QuantizerSpec {
  int bits = 8;
  compression::GridRange range = compression::GridRange::kRestricted;
  // One grid per output channel: the dims[0] rows of an output-channel-major
  // tensor. A 1-D tensor (a bias) always gets one grid.
  bool per_channel = false;
  Rounding rounding = Rounding::kHalfEven;
};

// How a tensor splits into rows with one grid each: `rows` contiguous rows of
// `row_size` elements.
struct RowLayout {
  int64_t rows;
  int64_t row_size;
  int64_t size() const { return rows * row_size; }
};

// The layout `spec` gives a tensor of `dims`; throws std::invalid_argument
// (naming `context`) for no dimensions or an empty tensor.
RowLayout LayoutOf(const QuantizerSpec& spec, absl::Span<const int64_t> dims, const char* context);

// Per-row value ranges: row r spans [low[r], high[r]].
struct RowRanges {
  std::vector<float> low;
  std::vector<float> high;
};

// The exact range of each row of `w` under `spec`'s layout: [-max|x|, max|x|]
// for symmetric grids, [min(x, 0), max(x, 0)] for the asymmetric one.
RowRanges ExactRanges(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                      absl::Span<const float> w);

// The grids of one tensor, one per row.
class TensorQuantizer {
 public:
  // From per-row ranges (low[r] <= high[r], finite; rows() of each). Each
  // range is first widened to contain 0; symmetric grids then take
  // max(-low, high) as their bound. A zero range (or one so small that its
  // step underflows) gives the one-point grid {0}.
  static TensorQuantizer FromRanges(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                                    absl::Span<const float> low, absl::Span<const float> high);
  // From the exact range of each row of `w` (ExactRanges): max |x| is a level.
  static TensorQuantizer FromExactRange(const QuantizerSpec& spec, absl::Span<const int64_t> dims,
                                        absl::Span<const float> w);

  // out[i] = step * round(clip(in[i] / step, min_level, max_level)) with the
  // grid of i's row, in one vectorized pass; `in` and `out` may be the same
  // span. With kHalfEven this is exactly grid(row)(in[i]).
  void FakeQuantize(absl::Span<const float> in, absl::Span<float> out) const;

  // The signed integer levels, FakeQuantize's out[i] / step. Throws unless
  // every level fits int8 (always true for symmetric grids; an asymmetric
  // 8-bit grid needs a zero point >= 128: use ToUnsignedCodes).
  void ToCodes(absl::Span<const float> in, absl::Span<int8_t> codes) const;
  // The levels shifted by the zero point -min_level, in [0, 2^bits - 1] (the
  // representation of torch's quint8): out[i] = step * (code - zero point).
  void ToUnsignedCodes(absl::Span<const float> in, absl::Span<uint8_t> codes) const;

  const compression::GridPoint& grid(int64_t row) const;
  int64_t rows() const { return layout_.rows; }
  int64_t size() const { return layout_.size(); }
  const QuantizerSpec& spec() const { return spec_; }

 private:
  TensorQuantizer(const QuantizerSpec& spec, RowLayout layout, std::vector<compression::GridPoint> grids)
      : spec_(spec), layout_(layout), grids_(std::move(grids)) {}

  QuantizerSpec spec_;
  RowLayout layout_;
  std::vector<compression::GridPoint> grids_;
};

}  // namespace psg::quant

#endif  // PSG_QUANT_QUANTIZER_H_
