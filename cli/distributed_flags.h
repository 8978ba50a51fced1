// Data-parallel training of a training binary from flags (dist/):
//
//   mpirun -np 4 bazel-bin/commands/train ... --distributed=mpi [--sync_bn]
//       [--dist_timeout=600] [--dist_bucket_mb=4] [--dist_check_every=0]
//
// --batch_size is then each rank's (the global batch is ranks x batch_size).
// Ranks other than 0 print nothing to stdout (errors still go to stderr).
// Without --distributed (or with --distributed=none) the binary runs alone, as
// it always has.
//
//   absl::StatusOr<DistributedFromFlags> dist = StartDistributedFromFlags();
//   model_options.batch_norm_sync = dist->batch_norm_sync();   // before BuildModel
//   trainer_options.data_parallel = dist->mpi.get();
//   trainer_options.replica_check_every_steps = dist->check_every_steps;
#ifndef PSG_CLI_DISTRIBUTED_FLAGS_H_
#define PSG_CLI_DISTRIBUTED_FLAGS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dist/mpi_data_parallel.h"
#include "engine/cross_replica.h"
#include "io/json_writer.h"

namespace psg::cli {

struct DistributedFromFlags {
  std::unique_ptr<dist::MpiDataParallel> mpi;  // null: this process alone
  int ranks = 1;
  int rank = 0;
  int64_t check_every_steps = 0;
  std::string description;  // one line for the log
  io::Json json;            // mode, ranks, sync_bn: the flags' "distributed" object

  engine::CrossReplicaSum* batch_norm_sync() const { return mpi ? mpi->batch_norm_sync() : nullptr; }
};

// Initializes MPI for --distributed=mpi (and silences stdout on ranks > 0);
// an error for a bad flag value or when MPI cannot start.
absl::StatusOr<DistributedFromFlags> StartDistributedFromFlags();

}  // namespace psg::cli

#endif  // PSG_CLI_DISTRIBUTED_FLAGS_H_
