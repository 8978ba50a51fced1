#include "cli/distributed_flags.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dist/data_parallel.h"
#include "flags/ranges.h"

ABSL_FLAG(psg::dist::DistributedMode, distributed, psg::dist::DistributedMode::kNone,
          "none: this process alone; mpi: one rank of a data-parallel job started by mpirun "
          "(--batch_size is then each rank's)");
ABSL_FLAG(bool, sync_bn, false,
          "with --distributed: batch-norm statistics of the global batch (synchronized over the "
          "ranks) instead of each rank's own");
ABSL_FLAG(double, dist_timeout, 600,
          "with --distributed: seconds any collective may wait for the other ranks before the job "
          "ends with an error (a rank died or hangs)");
ABSL_FLAG(double, dist_bucket_mb, 4,
          "with --distributed: size of the gradient buckets reduced while backward runs (MiB)");
ABSL_FLAG(int64_t, dist_check_every, 0,
          "with --distributed: also check every N steps that all ranks hold bit-identical "
          "parameters and optimizer state (always checked after each epoch; 0: epochs only)");
PSG_FLAG_RANGE(dist_timeout, psg::flags::GreaterThan(0));
PSG_FLAG_RANGE(dist_bucket_mb, psg::flags::Between(1.0 / 1024, 1024));  // 1 KiB to 1 GiB
PSG_FLAG_RANGE(dist_check_every, psg::flags::AtLeast(0));

namespace psg::cli {

absl::StatusOr<DistributedFromFlags> StartDistributedFromFlags() {
  DistributedFromFlags out;
  const dist::DistributedMode mode = absl::GetFlag(FLAGS_distributed);
  const bool sync_bn = absl::GetFlag(FLAGS_sync_bn);
  if (mode == dist::DistributedMode::kNone) {
    if (sync_bn) return absl::InvalidArgumentError("--sync_bn needs --distributed=mpi");
    out.description = "one process";
    out.json = {{"mode", "none"}, {"ranks", 1}};
    return out;
  }
  dist::MpiOptions options;
  options.timeout_seconds = absl::GetFlag(FLAGS_dist_timeout);
  options.bucket_bytes = static_cast<int64_t>(absl::GetFlag(FLAGS_dist_bucket_mb) * (1 << 20));
  options.sync_batch_norm = sync_bn;
  absl::StatusOr<std::unique_ptr<dist::MpiDataParallel>> mpi = dist::MpiDataParallel::Init(options);
  if (!mpi.ok()) return mpi.status();
  out.mpi = *std::move(mpi);
  out.ranks = out.mpi->size();
  out.rank = out.mpi->rank();
  out.check_every_steps = absl::GetFlag(FLAGS_dist_check_every);
  // Rank 0 speaks for the job.
  if (out.rank != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
    return absl::InternalError("cannot silence stdout on this rank");
  }
  out.description = absl::StrFormat(
      "data-parallel over MPI: %d ranks (rank 0 on %s), %s batch-norm statistics, gradient "
      "buckets of %g MiB, collective timeout %g s",
      out.ranks, out.mpi->host(), sync_bn ? "synchronized" : "per-rank",
      absl::GetFlag(FLAGS_dist_bucket_mb), options.timeout_seconds);
  out.json = {{"mode", "mpi"}, {"ranks", out.ranks}, {"sync_bn", sync_bn}};
  return out;
}

}  // namespace psg::cli
