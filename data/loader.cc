#include "data/loader.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/rng.h"

namespace psg::data {
namespace {

// Sample streams use the sample index as the last key; no index reaches this.
constexpr uint64_t kShuffleStream = ~uint64_t{0};

}  // namespace

std::vector<int64_t> EpochPermutation(int64_t n, uint64_t seed,
                                      int64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  engine::Rng rng = engine::Rng::ForStream(seed, static_cast<uint64_t>(epoch), kShuffleStream);
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    std::swap(order[i], order[rng.UniformInt(i + 1)]);
  }
  return order;
}

int64_t BatchesPerEpoch(int64_t dataset_size, int batch_size, bool drop_last,
                        int num_shards) {
  const int64_t global = int64_t{batch_size} * num_shards;
  const int64_t full = dataset_size / global;
  // A last global batch needs an image for every shard.
  return full + (!drop_last && dataset_size % global >= num_shards ? 1 : 0);
}

absl::StatusOr<std::unique_ptr<BatchLoader>> BatchLoader::Create(
    const Dataset& dataset, const LoaderOptions& options) {
  const SampleShape shape = dataset.sample_shape();
  if (dataset.size() < 1 || shape.size() < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: empty dataset (%d samples of %dx%dx%d)", dataset.size(),
        shape.channels, shape.height, shape.width));
  }
  if (options.batch_size < 1 || options.num_workers < 1 ||
      options.prefetch_batches < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: batch_size (%d), num_workers (%d) and prefetch_batches "
        "(%d) must be positive",
        options.batch_size, options.num_workers, options.prefetch_batches));
  }
  if (options.num_shards < 1 || options.shard < 0 || options.shard >= options.num_shards) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: shard %d of %d shards", options.shard, options.num_shards));
  }
  const int64_t batches = BatchesPerEpoch(dataset.size(), options.batch_size,
                                          options.drop_last, options.num_shards);
  if (batches == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: %d samples leave no batch of %d x %d shards%s", dataset.size(),
        options.batch_size, options.num_shards, options.drop_last ? " (drop_last)" : ""));
  }
  if (options.start_epoch < 0 || options.end_epoch < options.start_epoch ||
      options.start_batch < 0 || options.start_batch >= batches) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: bad start/end: start_epoch %d, start_batch %d (%d "
        "batches per epoch), end_epoch %d",
        options.start_epoch, options.start_batch, batches, options.end_epoch));
  }
  if (options.start_epoch > std::numeric_limits<int64_t>::max() / batches - 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "BatchLoader: start_epoch %d is too large", options.start_epoch));
  }
  return std::unique_ptr<BatchLoader>(
      new BatchLoader(dataset, options, batches));
}

BatchLoader::BatchLoader(const Dataset& dataset, const LoaderOptions& options,
                         int64_t batches_per_epoch)
    : dataset_(dataset),
      options_(options),
      shape_(dataset.sample_shape()),
      batches_per_epoch_(batches_per_epoch),
      end_sequence_(options.end_epoch >
                            std::numeric_limits<int64_t>::max() /
                                batches_per_epoch
                        ? std::numeric_limits<int64_t>::max()
                        : options.end_epoch * batches_per_epoch),
      // One slot per worker at least, plus the one the caller is reading.
      slots_(std::max(options.prefetch_batches, options.num_workers) + 1),
      next_to_fill_(options.start_epoch * batches_per_epoch +
                    options.start_batch),
      next_to_return_(next_to_fill_) {
  for (Slot& slot : slots_) {
    // Allocated once; batches only ever shrink and regrow within capacity.
    slot.batch.images.resize(options.batch_size * shape_.size());
    slot.batch.labels.resize(options.batch_size);
  }
  workers_.reserve(options.num_workers);
  for (int i = 0; i < options.num_workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

absl::StatusOr<const Batch*> BatchLoader::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (held_ != nullptr) {
    held_->state = SlotState::kFree;
    held_ = nullptr;
    work_cv_.notify_one();
  }
  if (next_to_return_ >= end_sequence_) {
    return absl::OutOfRangeError(absl::StrFormat(
        "BatchLoader: no batches after epoch %d", options_.end_epoch - 1));
  }
  Slot& slot = slots_[next_to_return_ % slots_.size()];
  ready_cv_.wait(lock, [&] {
    return slot.state == SlotState::kReady && slot.sequence == next_to_return_;
  });
  ++next_to_return_;
  slot.state = SlotState::kHeld;
  held_ = &slot;
  if (!slot.status.ok()) return slot.status;
  return &slot.batch;
}

std::shared_ptr<BatchLoader::EpochOrder> BatchLoader::OrderLocked(
    int64_t epoch) {
  for (const std::shared_ptr<EpochOrder>& order : orders_) {
    if (order->epoch == epoch) return order;
  }
  // Batches in flight span at most a few epochs; an evicted order that is
  // needed again is recomputed (identically).
  constexpr size_t kCachedEpochs = 2;
  if (orders_.size() == kCachedEpochs) orders_.pop_front();
  orders_.push_back(std::make_shared<EpochOrder>());
  orders_.back()->epoch = epoch;
  return orders_.back();
}

void BatchLoader::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] {
      return stopping_ || next_to_fill_ >= end_sequence_ ||
             slots_[next_to_fill_ % slots_.size()].state == SlotState::kFree;
    });
    if (stopping_ || next_to_fill_ >= end_sequence_) return;
    const int64_t sequence = next_to_fill_++;
    Slot& slot = slots_[sequence % slots_.size()];
    slot.state = SlotState::kFilling;
    slot.sequence = sequence;
    std::shared_ptr<EpochOrder> order;
    if (options_.shuffle) {
      order = OrderLocked(sequence / batches_per_epoch_);
    }
    lock.unlock();

    if (order != nullptr) {
      // Outside the lock: computing a large permutation must not stall Next().
      std::call_once(order->computed, [&] {
        order->order =
            EpochPermutation(dataset_.size(), options_.seed, order->epoch);
      });
    }
    absl::Status status =
        Fill(sequence, order != nullptr ? &order->order : nullptr, slot.batch);

    lock.lock();
    slot.status = std::move(status);
    slot.state = SlotState::kReady;
    ready_cv_.notify_one();
  }
}

absl::Status BatchLoader::Fill(int64_t sequence,
                               const std::vector<int64_t>* order,
                               Batch& batch) {
  const int64_t epoch = sequence / batches_per_epoch_;
  const int64_t index_in_epoch = sequence % batches_per_epoch_;
  // The global batch, then this shard's part of it.
  const int64_t global_size = int64_t{options_.batch_size} * options_.num_shards;
  const int64_t global_first = index_in_epoch * global_size;
  const int64_t global_n = std::min(global_size, dataset_.size() - global_first);
  const int64_t first = global_first + options_.shard * global_n / options_.num_shards;
  const int n = static_cast<int>(global_first +
                                 (options_.shard + 1) * global_n / options_.num_shards - first);
  const int64_t sample_size = shape_.size();
  batch.n = n;
  batch.global_n = static_cast<int>(global_n);
  batch.c = shape_.channels;
  batch.h = shape_.height;
  batch.w = shape_.width;
  batch.images.resize(n * sample_size);
  batch.labels.resize(n);
  batch.epoch = epoch;
  batch.index_in_epoch = index_in_epoch;
  for (int k = 0; k < n; ++k) {
    const int64_t sample = order != nullptr ? (*order)[first + k] : first + k;
    engine::Rng rng = engine::Rng::ForStream(options_.seed, static_cast<uint64_t>(epoch),
                             static_cast<uint64_t>(sample));
    absl::Status status =
        dataset_.WriteSample(sample, rng, batch.images.data() + k * sample_size);
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          absl::StrCat("epoch ", epoch, " batch ", index_in_epoch, " sample ",
                       sample, ": ", status.message()));
    }
    batch.labels[k] = dataset_.label(sample);
  }
  return absl::OkStatus();
}

}  // namespace psg::data
