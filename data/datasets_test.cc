#include "data/datasets.h"

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "engine/rng.h"
#include "gtest/gtest.h"
#include "data/testing/synthetic_data.h"

namespace psg::data {
namespace {

std::vector<float> Sample(const Dataset& dataset, int64_t i) {
  std::vector<float> pixels(dataset.sample_shape().size());
  engine::Rng rng(1);
  EXPECT_TRUE(dataset.WriteSample(i, rng, pixels.data()).ok());
  return pixels;
}

// The original training index of every sample of `dataset`, found by its
// unaugmented pixels (the synthetic images are all different).
std::vector<int64_t> OriginalIndices(const Dataset& dataset,
                                     const std::map<std::vector<float>, int64_t>& by_pixels) {
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const auto it = by_pixels.find(Sample(dataset, i));
    EXPECT_NE(it, by_pixels.end()) << "sample " << i << " is no training image";
    indices.push_back(it == by_pixels.end() ? -1 : it->second);
  }
  return indices;
}

class HoldOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = data::SyntheticData({});
    for (int64_t i = 0; i < original_->train_unaugmented->size(); ++i) {
      by_pixels_[Sample(*original_->train_unaugmented, i)] = i;
    }
    ASSERT_EQ(by_pixels_.size(), 48u) << "synthetic images must differ for this test";
  }

  std::vector<int64_t> HeldOut(uint64_t seed) {
    std::unique_ptr<TrainingData> data = data::SyntheticData({});
    EXPECT_TRUE(HoldOut(*data, 10, seed).ok());
    return OriginalIndices(*data->test, by_pixels_);
  }

  std::unique_ptr<TrainingData> original_;
  std::map<std::vector<float>, int64_t> by_pixels_;
};

TEST_F(HoldOutTest, SplitsTheTrainingImagesIntoTwoDisjointParts) {
  std::unique_ptr<TrainingData> data = data::SyntheticData({});
  ASSERT_TRUE(HoldOut(*data, 10, 0).ok());
  EXPECT_EQ(data->test->size(), 10);
  EXPECT_EQ(data->train->size(), 38);
  EXPECT_EQ(data->train_unaugmented->size(), 38);
  EXPECT_EQ(data->evaluation_set, "held-out: 10 of the 48 training images (seed 0)");

  const std::vector<int64_t> held = OriginalIndices(*data->test, by_pixels_);
  const std::vector<int64_t> kept = OriginalIndices(*data->train_unaugmented, by_pixels_);
  std::set<int64_t> all(held.begin(), held.end());
  all.insert(kept.begin(), kept.end());
  EXPECT_EQ(all.size(), 48u) << "each training image is in exactly one part";
  for (int64_t i = 0; i < data->test->size(); ++i) {
    EXPECT_EQ(data->test->label(i), original_->train->label(held[i]));
  }
  for (int64_t i = 0; i < data->train->size(); ++i) {
    EXPECT_EQ(data->train->label(i), original_->train->label(kept[i]));
    EXPECT_EQ(data->train_unaugmented->label(i), original_->train->label(kept[i]));
  }
}

TEST_F(HoldOutTest, TheSeedAloneChoosesTheHeldOutImages) {
  EXPECT_EQ(HeldOut(0), HeldOut(0));
  EXPECT_NE(HeldOut(0), HeldOut(1));
}

TEST(HoldOut, RejectsSizesThatLeaveNoTrainingOrNoHeldOutImage) {
  for (int64_t n : {0, 48, 100, -1}) {
    std::unique_ptr<TrainingData> data = data::SyntheticData({});
    const absl::Status s = HoldOut(*data, n, 0);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_NE(s.message().find("between 1 and 47"), std::string::npos) << s;
    EXPECT_EQ(data->train->size(), 48) << "a rejected split changes nothing";
  }
}

}  // namespace
}  // namespace psg::data
