#ifndef PSG_ENGINE_RNG_H_
#define PSG_ENGINE_RNG_H_

// A small, fast, seedable random number generator whose whole state is one
// 64-bit word, so a checkpoint can save and restore it exactly.
//
//   Rng rng(seed);
//   bool flip = rng.Bernoulli();          // p = 0.5
//   int dx = rng.UniformInt(9);           // 0..8
//   uint64_t saved = rng.state();         // ... later: rng.set_state(saved)
//
//   // Independent stream per (seed, epoch, sample): results do not depend on
//   // which thread draws them or in what order.
//   Rng sample_rng = Rng::ForStream(seed, epoch, sample_index);
//
//   // SplitMix64's finalizer alone, for keyed hashes (L0 gate noise, replica
//   // checks): a bijection of 64 bits.
//   uint64_t h = SplitMix64Mix(key + index * kSplitMix64Gamma);

#include <cstdint>

namespace psg::engine {

// SplitMix64's increment, 2^64 / golden ratio (odd).
inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ull;

// SplitMix64's finalizer (Stafford's Mix13): a bijective mix of 64 bits.
constexpr uint64_t SplitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// SplitMix64 (Steele, Lea, Flood 2014): passes BigCrush, and any 64-bit
// value is a valid state.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // A generator keyed by (seed, a, b); distinct keys give unrelated streams.
  static Rng ForStream(uint64_t seed, uint64_t a, uint64_t b) {
    return Rng(SplitMix64Mix(SplitMix64Mix(SplitMix64Mix(seed) ^ a) ^ b));
  }

  uint64_t Next() {
    state_ += kSplitMix64Gamma;
    return SplitMix64Mix(state_);
  }

  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is below
  // n / 2^64, irrelevant here).
  uint64_t UniformInt(uint64_t n) {
    return static_cast<uint64_t>(
        (static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [0, 1), 53 random bits.
  double UniformDouble() { return (Next() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * UniformDouble();
  }

  // True with probability 1/2.
  bool Bernoulli() { return (Next() >> 63) != 0; }

  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  uint64_t state_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_RNG_H_
