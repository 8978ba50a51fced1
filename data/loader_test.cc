#include "data/loader.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "data/dataset.h"
#include "data/image_set.h"
#include "data/image_set_dataset.h"
#include "engine/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::HasSubstr;

// Sample i is 2 floats: i itself, and the first uniform draw of its rng. It
// fails for the sample `failing` (if any).
class IndexDataset final : public Dataset {
 public:
  explicit IndexDataset(int64_t size, int64_t failing = -1)
      : size_(size), failing_(failing) {}
  int64_t size() const override { return size_; }
  SampleShape sample_shape() const override { return {2, 1, 1}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i); }
  absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override {
    if (i == failing_) return absl::DataLossError("broken sample");
    dst[0] = static_cast<float>(i);
    dst[1] = static_cast<float>(rng.UniformDouble());
    return absl::OkStatus();
  }

 private:
  int64_t size_;
  int64_t failing_;
};

struct BatchCopy {
  int n, c, h, w;
  std::vector<float> images;
  std::vector<int32_t> labels;
  int64_t epoch, index_in_epoch;
  int global_n;
  bool operator==(const BatchCopy& o) const {
    return n == o.n && c == o.c && h == o.h && w == o.w &&
           images == o.images && labels == o.labels && epoch == o.epoch &&
           index_in_epoch == o.index_in_epoch;
  }
};

// Every batch the loader gives until OutOfRange.
std::vector<BatchCopy> AllBatches(const Dataset& dataset,
                                  const LoaderOptions& options) {
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
      BatchLoader::Create(dataset, options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  std::vector<BatchCopy> batches;
  if (!loader.ok()) return batches;
  while (true) {
    absl::StatusOr<const Batch*> batch = (*loader)->Next();
    if (absl::IsOutOfRange(batch.status())) break;
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok()) break;
    const Batch& b = **batch;
    batches.push_back({b.n, b.c, b.h, b.w, b.images, b.labels, b.epoch,
                       b.index_in_epoch, b.global_n});
  }
  return batches;
}

ImageSet RandomImages(int64_t count) {
  ImageSet set;
  set.count = count;
  set.channels = 3;
  set.height = 12;
  set.width = 10;
  set.num_classes = 10;
  engine::Rng rng(99);
  set.pixels.resize(count * set.image_size());
  for (uint8_t& p : set.pixels) p = static_cast<uint8_t>(rng.Next());
  for (int64_t i = 0; i < count; ++i) set.labels.push_back(rng.UniformInt(10));
  return set;
}

TEST(EpochPermutationTest, DependsOnlyOnSeedAndEpoch) {
  const std::vector<int64_t> a = EpochPermutation(1000, 1, 0);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(a, EpochPermutation(1000, 1, 0));
  EXPECT_NE(a, EpochPermutation(1000, 1, 1));
  EXPECT_NE(a, EpochPermutation(1000, 2, 0));
  EXPECT_NE(a, identity);
}

TEST(BatchesPerEpochTest, RoundsByDropLast) {
  EXPECT_EQ(BatchesPerEpoch(1003, 32, false), 32);
  EXPECT_EQ(BatchesPerEpoch(1003, 32, true), 31);
  EXPECT_EQ(BatchesPerEpoch(1024, 32, false), 32);
}

TEST(BatchLoaderTest, SameBatchesForOneAndThreeWorkers) {
  const ImageSet images = RandomImages(203);
  absl::StatusOr<ImageSetDataset> dataset =
      ImageSetDataset::Create(images, ImageSetDataset::Mode::kTrain);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  LoaderOptions options;
  options.batch_size = 16;
  options.seed = 5;
  options.end_epoch = 3;
  options.num_workers = 1;
  options.prefetch_batches = 1;
  const std::vector<BatchCopy> one = AllBatches(*dataset, options);
  options.num_workers = 3;
  options.prefetch_batches = 5;
  const std::vector<BatchCopy> three = AllBatches(*dataset, options);
  ASSERT_EQ(one.size(), 3u * 13u);
  EXPECT_TRUE(one == three);
  EXPECT_EQ(one[0].c, 3);
  EXPECT_EQ(one[0].h, 12);
  EXPECT_EQ(one[0].w, 10);
}

TEST(BatchLoaderTest, EverySampleExactlyOncePerEpochInBatchOrder) {
  const IndexDataset dataset(1003);
  LoaderOptions options;
  options.batch_size = 32;
  options.seed = 8;
  options.end_epoch = 3;
  options.num_workers = 3;
  const std::vector<BatchCopy> batches = AllBatches(dataset, options);
  ASSERT_EQ(batches.size(), 3u * 32u);
  std::vector<std::vector<int64_t>> orders(3);
  for (size_t k = 0; k < batches.size(); ++k) {
    const BatchCopy& b = batches[k];
    EXPECT_EQ(b.epoch, static_cast<int64_t>(k / 32));
    EXPECT_EQ(b.index_in_epoch, static_cast<int64_t>(k % 32));
    EXPECT_EQ(b.n, b.index_in_epoch == 31 ? 1003 - 31 * 32 : 32);
    ASSERT_EQ(b.images.size(), 2u * b.n);
    for (int i = 0; i < b.n; ++i) {
      const int64_t sample = b.labels[i];
      EXPECT_EQ(b.images[2 * i], static_cast<float>(sample));  // aligned
      // Augmentation randomness comes from (seed, epoch, sample).
      EXPECT_EQ(b.images[2 * i + 1],
                static_cast<float>(
                    engine::Rng::ForStream(8, b.epoch, sample).UniformDouble()));
      orders[b.epoch].push_back(sample);
    }
  }
  for (int epoch = 0; epoch < 3; ++epoch) {
    EXPECT_EQ(orders[epoch], EpochPermutation(1003, 8, epoch));
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
}

TEST(BatchLoaderTest, DropLastDropsTheSmallBatch) {
  const IndexDataset dataset(1003);
  LoaderOptions options;
  options.batch_size = 32;
  options.drop_last = true;
  options.end_epoch = 2;
  const std::vector<BatchCopy> batches = AllBatches(dataset, options);
  ASSERT_EQ(batches.size(), 2u * 31u);
  std::set<int32_t> seen;
  for (const BatchCopy& b : batches) {
    EXPECT_EQ(b.n, 32);
    if (b.epoch == 0) seen.insert(b.labels.begin(), b.labels.end());
  }
  EXPECT_EQ(seen.size(), 31u * 32u);
}

TEST(BatchLoaderTest, NoShuffleKeepsDatasetOrder) {
  const IndexDataset dataset(50);
  LoaderOptions options;
  options.batch_size = 16;
  options.shuffle = false;
  options.end_epoch = 2;
  std::vector<int32_t> order;
  for (const BatchCopy& b : AllBatches(dataset, options)) {
    order.insert(order.end(), b.labels.begin(), b.labels.end());
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i % 50);
}

TEST(BatchLoaderTest, ResumeGivesTheSameRemainingBatches) {
  const ImageSet images = RandomImages(100);
  absl::StatusOr<ImageSetDataset> dataset =
      ImageSetDataset::Create(images, ImageSetDataset::Mode::kTrain);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  LoaderOptions options;
  options.batch_size = 8;  // 13 batches per epoch
  options.seed = 21;
  options.end_epoch = 3;
  const std::vector<BatchCopy> full = AllBatches(*dataset, options);
  ASSERT_EQ(full.size(), 39u);

  options.start_epoch = 1;
  options.start_batch = 7;
  options.num_workers = 3;
  const std::vector<BatchCopy> resumed = AllBatches(*dataset, options);
  ASSERT_EQ(resumed.size(), 39u - 13u - 7u);
  EXPECT_TRUE(std::equal(resumed.begin(), resumed.end(), full.begin() + 20));
}

TEST(BatchLoaderTest, ReusesItsBatchBuffers) {
  const IndexDataset dataset(1000);
  LoaderOptions options;
  options.batch_size = 10;
  options.num_workers = 2;
  options.prefetch_batches = 3;
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
      BatchLoader::Create(dataset, options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  std::set<const float*> buffers;
  for (int i = 0; i < 500; ++i) {  // 5 epochs
    absl::StatusOr<const Batch*> batch = (*loader)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status();
    buffers.insert((*batch)->images.data());
  }
  EXPECT_LE(buffers.size(), 4u);  // prefetch_batches + the one being read
}

TEST(BatchLoaderTest, SampleErrorFailsOnlyItsBatch) {
  const IndexDataset dataset(40, /*failing=*/5);
  LoaderOptions options;
  options.batch_size = 10;
  options.shuffle = false;
  options.end_epoch = 1;
  options.num_workers = 2;
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
      BatchLoader::Create(dataset, options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  absl::StatusOr<const Batch*> first = (*loader)->Next();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(first.status().message(),
              HasSubstr("epoch 0 batch 0 sample 5: broken sample"));
  for (int b = 1; b < 4; ++b) {
    absl::StatusOr<const Batch*> batch = (*loader)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_EQ((*batch)->index_in_epoch, b);
  }
  EXPECT_TRUE(absl::IsOutOfRange((*loader)->Next().status()));
  EXPECT_TRUE(absl::IsOutOfRange((*loader)->Next().status()));
}

TEST(BatchLoaderTest, StopsCleanlyWithBatchesInFlight) {
  const IndexDataset dataset(100000);
  LoaderOptions options;
  options.batch_size = 64;
  options.num_workers = 4;
  for (int taken : {0, 1, 7}) {
    absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
        BatchLoader::Create(dataset, options);
    ASSERT_TRUE(loader.ok()) << loader.status();
    for (int i = 0; i < taken; ++i) ASSERT_TRUE((*loader)->Next().ok());
  }  // the destructor joins the workers
}

// Shards together give the unsharded loader's batches of N x batch_size:
// shard r's images are the r-th contiguous part of each, the last smaller
// batch split as evenly, augmentation draws included.
TEST(BatchLoaderTest, ShardsPartitionEachGlobalBatch) {
  const IndexDataset dataset(103);
  for (int shards : {2, 3}) {
    for (bool drop_last : {false, true}) {
      SCOPED_TRACE(::testing::Message() << shards << " shards, drop_last " << drop_last);
      LoaderOptions whole;
      whole.batch_size = 8 * shards;
      whole.seed = 5;
      whole.end_epoch = 2;
      whole.drop_last = drop_last;
      const std::vector<BatchCopy> expected = AllBatches(dataset, whole);
      std::vector<std::vector<BatchCopy>> parts;
      for (int r = 0; r < shards; ++r) {
        LoaderOptions options = whole;
        options.batch_size = 8;
        options.num_shards = shards;
        options.shard = r;
        options.num_workers = 1 + r;
        parts.push_back(AllBatches(dataset, options));
        ASSERT_EQ(parts.back().size(), expected.size());
        EXPECT_EQ(static_cast<int64_t>(expected.size()) / 2,
                  BatchesPerEpoch(103, 8, drop_last, shards));
      }
      for (size_t b = 0; b < expected.size(); ++b) {
        BatchCopy joined = parts[0][b];
        for (int r = 1; r < shards; ++r) {
          const BatchCopy& part = parts[r][b];
          EXPECT_EQ(part.epoch, expected[b].epoch);
          EXPECT_EQ(part.index_in_epoch, expected[b].index_in_epoch);
          joined.n += part.n;
          joined.images.insert(joined.images.end(), part.images.begin(), part.images.end());
          joined.labels.insert(joined.labels.end(), part.labels.begin(), part.labels.end());
        }
        EXPECT_EQ(joined, expected[b]) << "batch " << b;
        for (int r = 0; r < shards; ++r) {  // within one image of each other
          EXPECT_LE(std::abs(parts[r][b].n - expected[b].n / shards), 1);
        }
      }
    }
  }
}

TEST(BatchLoaderTest, ShardsDropALastBatchTooSmallToSplit) {
  // 2 x 8 per global batch: 17 images leave 1, fewer than the 2 shards.
  EXPECT_EQ(BatchesPerEpoch(17, 8, /*drop_last=*/false, 2), 1);
  EXPECT_EQ(BatchesPerEpoch(18, 8, /*drop_last=*/false, 2), 2);
  const IndexDataset dataset(18);
  LoaderOptions options;
  options.batch_size = 8;
  options.num_shards = 2;
  options.shard = 1;
  options.end_epoch = 1;
  const std::vector<BatchCopy> batches = AllBatches(dataset, options);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].n, 8);
  EXPECT_EQ(batches[1].n, 1);
}

TEST(BatchLoaderTest, RejectsBadOptions) {
  const IndexDataset dataset(100);
  LoaderOptions options;
  options.batch_size = 0;
  EXPECT_FALSE(BatchLoader::Create(dataset, options).ok());

  options = LoaderOptions();
  options.batch_size = 101;
  options.drop_last = true;
  EXPECT_FALSE(BatchLoader::Create(dataset, options).ok());

  options = LoaderOptions();
  options.batch_size = 10;
  options.start_batch = 10;  // only batches 0..9 exist
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
      BatchLoader::Create(dataset, options);
  ASSERT_FALSE(loader.ok());
  EXPECT_THAT(loader.status().message(), HasSubstr("start_batch 10"));

  options = LoaderOptions();
  options.start_epoch = 3;
  options.end_epoch = 2;
  EXPECT_FALSE(BatchLoader::Create(dataset, options).ok());

  EXPECT_FALSE(BatchLoader::Create(IndexDataset(0), LoaderOptions()).ok());
}

}  // namespace
}  // namespace psg::data
