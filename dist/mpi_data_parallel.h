// Data-parallel training over Open MPI: one process per rank (mpirun),
// gradients summed with MPI_Allreduce in buckets overlapped with backward
// (dist/gradient_reducer.h), synchronized BatchNorm statistics on request,
// rank 0's state broadcast at the start, and a bit-for-bit check that the
// replicas agree.
//
//   absl::StatusOr<std::unique_ptr<MpiDataParallel>> dp =
//       MpiDataParallel::Init({.timeout_seconds = 600, .sync_batch_norm = true});
//   model_options.batch_norm_sync = (*dp)->batch_norm_sync();  // before building the model
//   trainer_options.data_parallel = dp->get();
//
//   mpirun -np 4 bazel-bin/commands/train ... --distributed=mpi
#ifndef PSG_DIST_MPI_DATA_PARALLEL_H_
#define PSG_DIST_MPI_DATA_PARALLEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dist/communicator.h"
#include "dist/data_parallel.h"
#include "dist/gradient_reducer.h"
#include "engine/cross_replica.h"

namespace psg::dist {

struct MpiOptions {
  double timeout_seconds = 600;        // any collective; then the job ends
  int64_t bucket_bytes = int64_t{4} << 20;
  bool sync_batch_norm = false;
};

class MpiDataParallel final : public DataParallel {
 public:
  // Initializes MPI (one call per process).
  static absl::StatusOr<std::unique_ptr<MpiDataParallel>> Init(const MpiOptions& options);
  ~MpiDataParallel() override;

  int rank() const override { return world().rank(); }
  int size() const override { return world().size(); }
  const std::string& host() const { return process_->host(); }

  // For ModelOptions::batch_norm_sync: sums over the ranks on the main
  // thread's communicator; null unless options.sync_batch_norm.
  engine::CrossReplicaSum* batch_norm_sync() { return sync_bn_ ? &bn_sum_ : nullptr; }

  void Attach(const engine::ParameterList& model_params) override;
  void BeginBackward(double share) override;
  void EndBackward() override;
  void SumAcrossRanks(absl::Span<double> values) override;
  void BroadcastFromRankZero(absl::Span<float> values, absl::string_view what) override;
  void BroadcastFromRankZero(absl::Span<int64_t> values, absl::string_view what) override;
  absl::Status CheckReplicasAgree(const std::vector<std::pair<std::string, engine::Tensor>>& tensors,
                                  absl::string_view when) override;

  // The reduction's bytes and times so far (zeros before Attach).
  ReductionStats reduction_stats() const;
  // Prints the message (with this rank) and ends the whole job.
  [[noreturn]] void Abort(absl::string_view message) const { world().Abort(message); }

 private:
  class BatchNormSum final : public engine::CrossReplicaSum {
   public:
    explicit BatchNormSum(MpiDataParallel* owner) : owner_(owner) {}
    void SumInPlace(absl::Span<double> values) override {
      owner_->world().SumInPlace(values, "synchronized batch-norm statistics");
    }

   private:
    MpiDataParallel* owner_;
  };

  MpiDataParallel(std::unique_ptr<MpiProcess> process, const MpiOptions& options);
  Communicator& world() const { return process_->world(); }

  std::unique_ptr<MpiProcess> process_;  // destroyed last: MPI_Finalize
  MpiOptions options_;
  bool sync_bn_;
  BatchNormSum bn_sum_{this};
  std::unique_ptr<GradientReducer> reducer_;
};

// A 64-bit hash of the bits of `values` (the same values give the same hash
// in every process).
uint64_t BitHash(absl::Span<const float> values);

}  // namespace psg::dist

#endif  // PSG_DIST_MPI_DATA_PARALLEL_H_
