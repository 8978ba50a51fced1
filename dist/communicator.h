// Collectives of the data-parallel processes over Open MPI, with a deadline:
// every operation is nonblocking underneath and waited for by polling
// (MPI_Test, then short sleeps, so a waiting process leaves its core to the
// computing threads). A collective that gets no answer within the timeout, or
// an MPI error, ends the whole job through MPI_Abort after printing what
// happened on which rank: a rank that died or hangs never leaves the others
// waiting forever.
//
//   absl::StatusOr<std::unique_ptr<MpiProcess>> mpi = MpiProcess::Init(&argc, &argv);
//   Communicator& world = (*mpi)->world();   // one per thread of control:
//   Communicator grads = world.Duplicate();  // a second thread gets its own
//   std::vector<double> sums = {loss_sum, correct};
//   world.SumInPlace(absl::MakeSpan(sums), "epoch metrics");
//   world.Broadcast(absl::MakeSpan(weights), "initial weights");  // rank 0's
//
// Every rank must call the same collectives of one communicator in the same
// order. MPI_THREAD_MULTIPLE lets two threads use two communicators at once.
#ifndef PSG_DIST_COMMUNICATOR_H_
#define PSG_DIST_COMMUNICATOR_H_

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace psg::dist {

class Communicator {
 public:
  Communicator(MPI_Comm comm, double timeout_seconds);
  ~Communicator();
  Communicator(Communicator&& other) noexcept;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  double timeout_seconds() const { return timeout_seconds_; }

  // A communicator of the same processes whose collectives are independent
  // of this one's (for a second thread).
  Communicator Duplicate() const;

  // Element-wise sums over all ranks, in place; `what` names the data in an
  // error message.
  void SumInPlace(absl::Span<float> values, absl::string_view what);
  void SumInPlace(absl::Span<double> values, absl::string_view what);
  // The same with a blocking MPI_Allreduce (Open MPI's tuned algorithms, far
  // faster for large buffers than the nonblocking ones driven by polling) and
  // no deadline of its own: the caller must bound the wait for it.
  void BlockingSumInPlace(absl::Span<float> values, absl::string_view what);
  // Rank 0's values everywhere.
  void Broadcast(absl::Span<float> values, absl::string_view what);
  void Broadcast(absl::Span<int64_t> values, absl::string_view what);
  // Every rank's `mine` (the same length everywhere), rank after rank.
  std::vector<uint64_t> AllGather(absl::Span<const uint64_t> mine, absl::string_view what);

  // Prints "error: rank r of n: <message>" to stderr and ends the whole job
  // (MPI_Abort); does not return.
  [[noreturn]] void Abort(absl::string_view message) const;

 private:
  void SumInPlace(void* values, size_t count, MPI_Datatype type, absl::string_view what);
  void Broadcast(void* values, size_t count, MPI_Datatype type, absl::string_view what);
  void Check(int code, absl::string_view operation, absl::string_view what) const;
  void Wait(MPI_Request& request, absl::string_view operation, absl::string_view what) const;

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  double timeout_seconds_;
};

// MPI for the whole process: MPI_Init_thread (MPI_THREAD_MULTIPLE) on Init,
// MPI_Finalize when destroyed. Unless the environment says otherwise, Open
// MPI's busy-waiting yields the core (mpi_yield_when_idle): a waiting
// communication thread then leaves it to the computing threads.
class MpiProcess {
 public:
  // Fails if MPI is already initialized or does not provide
  // MPI_THREAD_MULTIPLE. `timeout_seconds` bounds every collective of world().
  static absl::StatusOr<std::unique_ptr<MpiProcess>> Init(int* argc, char*** argv,
                                                          double timeout_seconds);
  ~MpiProcess();
  MpiProcess(const MpiProcess&) = delete;
  MpiProcess& operator=(const MpiProcess&) = delete;

  Communicator& world() { return *world_; }
  // This host's name, for messages.
  const std::string& host() const { return host_; }

 private:
  MpiProcess() = default;
  std::unique_ptr<Communicator> world_;
  std::string host_;
};

}  // namespace psg::dist

#endif  // PSG_DIST_COMMUNICATOR_H_
