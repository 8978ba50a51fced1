#include "engine/rng.h"

#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(RngTest, MatchesSplitMix64ReferenceOutput) {
  // First outputs of the reference splitmix64.c seeded with 1234567.
  Rng rng(1234567);
  EXPECT_EQ(rng.Next(), 6457827717110365317ull);
  EXPECT_EQ(rng.Next(), 3203168211198807973ull);
  EXPECT_EQ(rng.Next(), 9817491932198370423ull);
}

TEST(RngTest, NextIsTheMixOfTheAdvancedState) {
  Rng rng(1234567);
  EXPECT_EQ(rng.Next(), SplitMix64Mix(1234567 + kSplitMix64Gamma));
  static_assert(SplitMix64Mix(0) == 0);
}

TEST(RngTest, SavedStateReplaysTheSameSequence) {
  Rng rng(7);
  for (int i = 0; i < 10; ++i) rng.Next();
  const uint64_t saved = rng.state();
  std::vector<uint64_t> first;
  for (int i = 0; i < 5; ++i) first.push_back(rng.Next());
  Rng restored(0);
  restored.set_state(saved);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(restored.Next(), first[i]);
}

TEST(RngTest, StreamsDifferByEveryKey) {
  std::set<uint64_t> firsts;
  for (uint64_t seed : {0, 1}) {
    for (uint64_t a : {0, 1, 2}) {
      for (uint64_t b : {0, 1, 2}) {
        firsts.insert(Rng::ForStream(seed, a, b).Next());
      }
    }
  }
  EXPECT_EQ(firsts.size(), 18u);
  EXPECT_EQ(Rng::ForStream(3, 4, 5).Next(), Rng::ForStream(3, 4, 5).Next());
}

TEST(RngTest, UniformIntCoversRangeEvenly) {
  Rng rng(42);
  std::vector<int> counts(9, 0);
  for (int i = 0; i < 90000; ++i) {
    const uint64_t v = rng.UniformInt(9);
    ASSERT_LT(v, 9u);
    ++counts[v];
  }
  for (int c : counts) {
    EXPECT_GT(c, 9400);
    EXPECT_LT(c, 10600);
  }
}

TEST(RngTest, UniformDoubleStaysInRange) {
  Rng rng(5);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = rng.Uniform(2.0, 3.0);
    ASSERT_GE(v, 2.0);
    ASSERT_LT(v, 3.0);
    sum += v;
  }
  EXPECT_NEAR(sum / 100000, 2.5, 0.01);
}

TEST(RngTest, BernoulliIsFair) {
  Rng rng(9);
  int heads = 0;
  for (int i = 0; i < 100000; ++i) heads += rng.Bernoulli();
  EXPECT_GT(heads, 49000);
  EXPECT_LT(heads, 51000);
}

}  // namespace
}  // namespace psg::engine
