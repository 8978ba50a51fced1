#include "dist/mpi_data_parallel.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/rng.h"

namespace psg::dist {

using engine::SplitMix64Mix;

uint64_t BitHash(absl::Span<const float> values) {
  uint64_t h = SplitMix64Mix(values.size());
  size_t i = 0;
  for (; i + 2 <= values.size(); i += 2) {
    uint64_t word;
    std::memcpy(&word, values.data() + i, sizeof(word));
    h = SplitMix64Mix(h ^ word) + engine::kSplitMix64Gamma;
  }
  if (i < values.size()) {
    uint32_t last;
    std::memcpy(&last, values.data() + i, sizeof(last));
    h = SplitMix64Mix(h ^ last);
  }
  return h;
}

absl::StatusOr<std::unique_ptr<MpiDataParallel>> MpiDataParallel::Init(const MpiOptions& options) {
  if (!(options.timeout_seconds > 0) || options.bucket_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data-parallel training needs a positive timeout (got ", options.timeout_seconds,
        " s) and bucket size (got ", options.bucket_bytes, " bytes)"));
  }
  absl::StatusOr<std::unique_ptr<MpiProcess>> process =
      MpiProcess::Init(nullptr, nullptr, options.timeout_seconds);
  if (!process.ok()) return process.status();
  return std::unique_ptr<MpiDataParallel>(new MpiDataParallel(*std::move(process), options));
}

MpiDataParallel::MpiDataParallel(std::unique_ptr<MpiProcess> process, const MpiOptions& options)
    : process_(std::move(process)), options_(options), sync_bn_(options.sync_batch_norm) {}

MpiDataParallel::~MpiDataParallel() {
  reducer_.reset();  // joins its thread and frees its communicator before MPI_Finalize
}

void MpiDataParallel::Attach(const engine::ParameterList& model_params) {
  reducer_ = std::make_unique<GradientReducer>(
      world().Duplicate(), model_params,
      GradientReducerOptions{.bucket_bytes = options_.bucket_bytes,
                             // Synchronized BN computes the same running statistics everywhere.
                             .average_state = !sync_bn_});
}

void MpiDataParallel::BeginBackward(double share) { reducer_->Begin(share); }

void MpiDataParallel::EndBackward() { reducer_->End(); }

void MpiDataParallel::SumAcrossRanks(absl::Span<double> values) {
  world().SumInPlace(values, "training metrics");
}

void MpiDataParallel::BroadcastFromRankZero(absl::Span<float> values, absl::string_view what) {
  world().Broadcast(values, what);
}

void MpiDataParallel::BroadcastFromRankZero(absl::Span<int64_t> values, absl::string_view what) {
  world().Broadcast(values, what);
}

absl::Status MpiDataParallel::CheckReplicasAgree(
    const std::vector<std::pair<std::string, engine::Tensor>>& tensors, absl::string_view when) {
  std::vector<uint64_t> mine;
  mine.reserve(tensors.size() + 1);
  mine.push_back(tensors.size());  // ranks holding different tensor lists differ here
  for (const auto& [name, tensor] : tensors) mine.push_back(BitHash(tensor.flat()));
  const std::vector<uint64_t> all = world().AllGather(mine, "replica check");
  std::vector<std::string> differing;
  for (size_t t = 0; t < mine.size(); ++t) {
    std::vector<int> ranks;
    for (int r = 1; r < size(); ++r) {
      if (all[r * mine.size() + t] != all[t]) ranks.push_back(r);
    }
    if (ranks.empty()) continue;
    differing.push_back(absl::StrCat(t == 0 ? "(the number of tensors)" : tensors[t - 1].first,
                                     " on rank", ranks.size() > 1 ? "s " : " ",
                                     absl::StrJoin(ranks, ", ")));
  }
  if (differing.empty()) return absl::OkStatus();
  constexpr size_t kListed = 8;
  const size_t count = differing.size();
  if (count > kListed) {
    differing.resize(kListed);
    differing.push_back(absl::StrCat("and ", count - kListed, " more"));
  }
  return absl::InternalError(absl::StrCat("replicas disagree ", when, ": ", count,
                                          " tensor(s) differ from rank 0's: ",
                                          absl::StrJoin(differing, "; ")));
}

ReductionStats MpiDataParallel::reduction_stats() const {
  return reducer_ ? reducer_->stats() : ReductionStats();
}

}  // namespace psg::dist
