// Test helpers for bf16 layers: rounding to bf16 as oneDNN rounds, bf16
// copies of tensors, and the error bound that a bf16 layer's output must meet
// against its fp32 reference.
//
// The bound (Higham, Accuracy and Stability of Numerical Algorithms, 3.1):
// a layer sums K products x_k w_k whose operands it rounds to bf16 (relative
// error at most u = 2^-9 each, so at most 2u + u^2 per product; the products
// of two bf16 numbers are exact in f32) and accumulates in f32 (at most
// gamma_K = K 2^-24 / (1 - K 2^-24) of sum |x_k w_k| whatever the order); a
// bf16 output is rounded once more (u of the value). The fp32 reference
// itself carries up to gamma_K sum |x_k w_k|. So, per element,
//   |bf16 - fp32| <= (2u + u^2 + 2 gamma_K)(1 + u) S + u |fp32|   (bf16 output)
// with S = sum |x_k w_k|, which the fp32 layer computes when run on |x| and |w|.
//
//   const float r = RoundToBf16(x);   // nearest even, as oneDNN's reorders round
//   ExpectWithinBf16Bound(got, fp32, abs_sums, /*terms=*/c * k * k, Bf16Output::kYes, "y");
#ifndef PSG_ENGINE_TESTING_BF16_H_
#define PSG_ENGINE_TESTING_BF16_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace psg::engine::testing {

constexpr double kBf16UnitRoundoff = 1.0 / 256;  // u = 2^-8: 8 significant bits

// x rounded to the nearest bf16, ties to even (oneDNN's f32 -> bf16 reorder).
float RoundToBf16(float x);
std::vector<float> RoundToBf16(std::vector<float> values);

// Distinct bf16-exact values (so max pooling and ReLU have one answer in
// both precisions), shuffled; at most 16384 elements. A plain f32 tensor.
Tensor DistinctBf16Plain(const Dims& dims, uint32_t seed);

// Elementwise absolute values, as a plain f32 tensor.
Tensor Abs(const Tensor& t);

enum class Bf16Output { kNo, kYes };

// The bound above for one element.
double Bf16SumBound(double fp32_value, double abs_sum, int64_t terms, Bf16Output output);

// Checks every element of `got` (a bf16 layer's output) against `fp32` (the
// fp32 layer's on the same input) with the bound above; `abs_sums` holds S
// per element. Fails with the worst element's index and values.
void ExpectWithinBf16Bound(const std::vector<float>& got, const std::vector<float>& fp32,
                           const std::vector<float>& abs_sums, int64_t terms, Bf16Output output,
                           const std::string& what);

}  // namespace psg::engine::testing

#endif  // PSG_ENGINE_TESTING_BF16_H_
