#ifndef PSG_DATA_LOADER_H_
#define PSG_DATA_LOADER_H_

// Batches of a Dataset in a seeded, per-epoch shuffled order, assembled by
// background worker threads into a bounded ring of reusable batch buffers
// ahead of the training loop.
//
//   LoaderOptions options;
//   options.batch_size = 128;
//   options.drop_last = true;
//   options.seed = 42;
//   options.start_epoch = epoch;         // resume exactly where a checkpoint
//   options.start_batch = batch;         // left off
//   options.end_epoch = num_epochs;
//   absl::StatusOr<std::unique_ptr<BatchLoader>> loader =
//       BatchLoader::Create(dataset, options);
//   while (true) {
//     absl::StatusOr<const Batch*> batch = (*loader)->Next();
//     if (absl::IsOutOfRange(batch.status())) break;  // after end_epoch
//     if (!batch.ok()) return batch.status();
//     Train((*batch)->images, (*batch)->labels);
//   }
//
// A batch depends only on (seed, epoch, batch index, dataset): the sample
// order is EpochPermutation(seed, epoch) and each sample's augmentation draws
// from engine::Rng::ForStream(seed, epoch, sample index), so the number of workers
// and thread timing never change the data.
//
// Data-parallel training: with num_shards = N, the N loaders (one per
// process, shard = 0..N-1) walk the same permutation in global batches of
// N * batch_size images, and shard r takes the r-th of N contiguous, equal
// parts of each (a last, smaller global batch of P images is split as evenly:
// [r * P / N, (r + 1) * P / N); one of fewer than N images is dropped). Their
// batches together are exactly the batches of one loader with batch size
// N * batch_size, sample for sample and pixel for pixel.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace psg::data {

struct Batch {
  int n = 0, c = 0, h = 0, w = 0;  // n < batch_size only for a last batch
  int global_n = 0;                // images of the global batch, all shards (n unsharded)
  std::vector<float> images;       // n*c*h*w, NCHW
  std::vector<int32_t> labels;     // n
  int64_t epoch = 0;
  int64_t index_in_epoch = 0;
};

struct LoaderOptions {
  int batch_size = 128;
  bool shuffle = true;     // false: dataset order every epoch (evaluation)
  bool drop_last = false;  // drop a last, smaller batch (training)
  uint64_t seed = 0;
  int num_workers = 2;
  int prefetch_batches = 4;  // batches made ready ahead of Next()
  int64_t start_epoch = 0;
  int64_t start_batch = 0;  // batch index within start_epoch
  int64_t end_epoch = std::numeric_limits<int64_t>::max();  // exclusive
  int num_shards = 1;  // data-parallel processes, each with its own loader
  int shard = 0;       // this loader's, in [0, num_shards)
};

// Sample order of an epoch: a permutation of [0, n) that depends only on
// (seed, epoch).
std::vector<int64_t> EpochPermutation(int64_t n, uint64_t seed, int64_t epoch);

// Batches per epoch of each shard (global batches of num_shards * batch_size).
int64_t BatchesPerEpoch(int64_t dataset_size, int batch_size, bool drop_last,
                        int num_shards = 1);

class BatchLoader {
 public:
  // `dataset` must outlive the loader. Starts the worker threads.
  static absl::StatusOr<std::unique_ptr<BatchLoader>> Create(
      const Dataset& dataset, const LoaderOptions& options);

  // Stops the workers (each finishes the batch it is on) and joins them.
  ~BatchLoader();

  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  // The next batch, epoch after epoch. It stays valid and unchanged until the
  // next call, which hands its buffer back to the workers. A sample that fails
  // to load makes its batch's call return that error (with epoch, batch and
  // sample index); later batches are unaffected. OutOfRange after the last
  // batch of epoch end_epoch - 1.
  absl::StatusOr<const Batch*> Next();

 private:
  enum class SlotState { kFree, kFilling, kReady, kHeld };
  struct Slot {
    Batch batch;
    SlotState state = SlotState::kFree;
    int64_t sequence = -1;  // global batch index: epoch * batches_per_epoch + b
    absl::Status status;
  };
  struct EpochOrder {
    int64_t epoch;
    std::once_flag computed;
    std::vector<int64_t> order;
  };

  BatchLoader(const Dataset& dataset, const LoaderOptions& options,
              int64_t batches_per_epoch);

  void WorkerLoop();
  // The cache entry for an epoch's sample order; mu_ must be held. The order
  // itself is computed once, via EpochOrder::computed, outside the lock.
  std::shared_ptr<EpochOrder> OrderLocked(int64_t epoch);
  absl::Status Fill(int64_t sequence, const std::vector<int64_t>* order,
                    Batch& batch);

  const Dataset& dataset_;
  const LoaderOptions options_;
  const SampleShape shape_;
  const int64_t batches_per_epoch_;
  const int64_t end_sequence_;  // one past the last global batch index

  std::mutex mu_;
  std::condition_variable work_cv_;   // a slot became free, or stopping
  std::condition_variable ready_cv_;  // a slot became ready
  std::vector<Slot> slots_;           // batch with global index s uses s % size
  int64_t next_to_fill_;
  int64_t next_to_return_;
  Slot* held_ = nullptr;  // the batch the caller is reading
  bool stopping_ = false;
  std::deque<std::shared_ptr<EpochOrder>> orders_;  // most recent epochs
  std::vector<std::thread> workers_;
};

}  // namespace psg::data

#endif  // PSG_DATA_LOADER_H_
