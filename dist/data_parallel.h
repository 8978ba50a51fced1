// What the training loop needs of data-parallel training (N processes, each
// with a replica of the model and its share of every global batch), without
// saying how the processes talk (dist/mpi_data_parallel.h: Open MPI).
//
//   DataParallel* dp = ...;                 // null: one process, as ever
//   dp->Attach(model_params);               // before the first step
//   dp->BroadcastFromRankZero(...);         // rank 0's weights and run state everywhere
//   each step:  forward, loss;
//               dp->BeginBackward(batch.n / double(batch.global_n));
//               model.Backward(dlogits);
//               dp->EndBackward();           // gradients are the global batch's
//               optimizer.Step(lr);          // the same update on every rank
//   dp->SumAcrossRanks(metrics);            // e.g. loss sums, correct counts
//   absl::Status same = dp->CheckReplicasAgree(tensors, "epoch 3");
//
// Collectives must be called by every rank in the same order. A collective
// that fails or times out ends the whole job with a message (it does not
// return); only CheckReplicasAgree reports through its Status.
#ifndef PSG_DIST_DATA_PARALLEL_H_
#define PSG_DIST_DATA_PARALLEL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/parameter.h"
#include "engine/tensor.h"
#include "flags/enum_flag.h"

namespace psg::dist {

// How a command runs (its --distributed flag): this process alone, or one
// rank of an MPI job.
enum class DistributedMode { kNone, kMpi };
inline constexpr flags::EnumName<DistributedMode> kDistributedModeNames[] = {{"none", DistributedMode::kNone},
                                                                             {"mpi", DistributedMode::kMpi}};
PSG_ENUM_FLAG(DistributedMode, kDistributedModeNames)

class DataParallel {
 public:
  virtual ~DataParallel() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank 0 alone prints progress and writes files.
  bool writer() const { return rank() == 0; }

  // The model's parameters, once, before the first step: the trainable ones'
  // gradients are reduced, and any state (BN running statistics) kept equal.
  virtual void Attach(const engine::ParameterList& model_params) = 0;

  // Around one backward pass of the model. `share`: this rank's images over
  // the global batch's (each rank's loss is a mean over its own images).
  virtual void BeginBackward(double share) = 0;
  virtual void EndBackward() = 0;

  virtual void SumAcrossRanks(absl::Span<double> values) = 0;
  // Rank 0's values everywhere; `what` names them in an error message.
  virtual void BroadcastFromRankZero(absl::Span<float> values, absl::string_view what) = 0;
  virtual void BroadcastFromRankZero(absl::Span<int64_t> values, absl::string_view what) = 0;

  // Whether every rank holds bit for bit the same values in each named tensor;
  // an error names the tensors and ranks that differ.
  virtual absl::Status CheckReplicasAgree(
      const std::vector<std::pair<std::string, engine::Tensor>>& tensors,
      absl::string_view when) = 0;
};

}  // namespace psg::dist

#endif  // PSG_DIST_DATA_PARALLEL_H_
