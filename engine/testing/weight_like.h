// Weight-like benchmark inputs: N(0, 0.05) values from a short random
// pattern, tiled. Elementwise kernels have no data-dependent branches, so only
// the value range matters, and drawing 16M values one by one would dominate a
// benchmark's smoke run.
//
//   std::vector<float> w = WeightLike(1 << 20, /*seed=*/1);
#ifndef PSG_ENGINE_TESTING_WEIGHT_LIKE_H_
#define PSG_ENGINE_TESTING_WEIGHT_LIKE_H_

#include <cstdint>
#include <random>
#include <vector>

namespace psg {

inline std::vector<float> WeightLike(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> pattern(4099);
  for (float& x : pattern) x = normal(rng);
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = pattern[i % pattern.size()];
  return values;
}

}  // namespace psg

#endif  // PSG_ENGINE_TESTING_WEIGHT_LIKE_H_
