// What a layer needs of data-parallel training's other replicas (the same
// model in other processes, each on its own part of the global batch): sums
// over all of them. BatchNorm2d uses it for synchronized batch statistics;
// dist/ implements it with MPI.
//
//   class MpiSum : public CrossReplicaSum {
//     void SumInPlace(absl::Span<double> v) override {
//       MPI_Allreduce(MPI_IN_PLACE, v.data(), v.size(), MPI_DOUBLE, MPI_SUM, comm);
//     }
//   };
//   BatchNorm2d bn("bn1", {.channels = 16, .cross_replica = &sum});
#ifndef PSG_ENGINE_CROSS_REPLICA_H_
#define PSG_ENGINE_CROSS_REPLICA_H_

#include "absl/types/span.h"

namespace psg::engine {

class CrossReplicaSum {
 public:
  virtual ~CrossReplicaSum() = default;
  // Replaces every value by its sum over all replicas. Every replica calls
  // it with as many values, in the same order of calls.
  virtual void SumInPlace(absl::Span<double> values) = 0;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_CROSS_REPLICA_H_
